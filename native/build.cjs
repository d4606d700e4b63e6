// npm's install step for csgnet: builds the addon with node-gyp against the running Node's own
// headers, so that nothing is downloaded (node-gyp otherwise fetches a header tarball from the
// internet), also when csgnet is installed as a dependency with no environment variables set.
// The libtorch it builds against is found by native/libtorch.cjs (LIBTORCH or Debian's).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.join(__dirname, '..');

/** A folder holding include/node/node.h for the running Node: its own prefix first, then /usr. */
function nodeDir() {
  const prefix = path.dirname(path.dirname(process.execPath));
  for (const dir of [prefix, '/usr', '/usr/local']) {
    if (fs.existsSync(path.join(dir, 'include', 'node', 'node.h')) && fs.existsSync(path.join(dir, 'include', 'node', 'common.gypi'))) return dir;
  }
  return null;
}

/** npm's bundled node-gyp (npm names it for install scripts), else one on the module path or PATH. */
function nodeGyp() {
  if (process.env.npm_config_node_gyp && fs.existsSync(process.env.npm_config_node_gyp)) return [process.execPath, process.env.npm_config_node_gyp];
  for (const cand of ['node-gyp/bin/node-gyp.js', 'npm/node_modules/node-gyp/bin/node-gyp.js']) {
    try { return [process.execPath, require.resolve(cand, { paths: [root, path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules')] })]; } catch { /* next */ }
  }
  return ['node-gyp'];
}

const env = { ...process.env };
if (!env.npm_config_nodedir) {
  const dir = nodeDir();
  if (dir) env.npm_config_nodedir = dir;
  else console.error(`csgnet: Node's headers (include/node/node.h) not found beside ${process.execPath} or in /usr; node-gyp may try to download them (on Debian: apt-get install -y libnode-dev)`);
}
// Checked before node-gyp starts so that a missing libtorch is one plain sentence.
const probe = spawnSync(process.execPath, [path.join(__dirname, 'libtorch.cjs'), 'describe'], { cwd: root, env, encoding: 'utf8' });
if (probe.status !== 0) {
  process.stderr.write(probe.stderr);
  process.exit(1);
}
console.error(`csgnet: building the addon against ${probe.stdout.trim()}`);
const [cmd, ...pre] = nodeGyp();
const r = spawnSync(cmd, [...pre, 'rebuild'], { cwd: root, env, stdio: 'inherit' });
process.exit(r.status ?? 1);
