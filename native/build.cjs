// npm's install step for csgnet: builds the addon with node-gyp against the running Node's own
// headers, so that nothing is downloaded (node-gyp otherwise fetches a header tarball from the
// internet), also when csgnet is installed as a dependency with no environment variables set.
// The libtorch it builds against is found by native/libtorch.cjs (LIBTORCH or Debian's).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.join(__dirname, '..');

const hasHeaders = (dir) => fs.existsSync(path.join(dir, 'include', 'node', 'node.h')) && fs.existsSync(path.join(dir, 'include', 'node', 'common.gypi'));

/** A folder holding include/node/node.h for the running Node: its own prefix first, then /usr. */
function nodeDir() {
  const prefix = path.dirname(path.dirname(process.execPath));
  for (const dir of [prefix, '/usr', '/usr/local']) if (hasHeaders(dir)) return dir;
  return null;
}

/** npm's bundled node-gyp (npm names it for install scripts), else npm's or Debian's copy, else PATH's. */
function nodeGyp() {
  const prefix = path.dirname(path.dirname(process.execPath));
  const candidates = [process.env.npm_config_node_gyp, path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/share/nodejs/node-gyp/bin/node-gyp.js'];
  const found = candidates.find((c) => c && fs.existsSync(c));
  return found ? [process.execPath, found] : ['node-gyp'];
}

const env = { ...process.env };
// A nodedir from the environment or an .npmrc that holds no headers (e.g. copied from another machine)
// would stop node-gyp; the running Node's own headers are used instead.
if (env.npm_config_nodedir && !hasHeaders(env.npm_config_nodedir) && nodeDir()) {
  console.error(`csgnet: nodedir ${env.npm_config_nodedir} has no Node headers; using ${nodeDir()}`);
  delete env.npm_config_nodedir;
}
if (!env.npm_config_nodedir) {
  const dir = nodeDir();
  if (dir) env.npm_config_nodedir = dir;
  else console.error(`csgnet: Node's headers (include/node/node.h) not found beside ${process.execPath} or in /usr; node-gyp may try to download them (on Debian: apt-get install -y libnode-dev)`);
}
// Checked before node-gyp starts so that a missing libtorch is one plain sentence.
let libtorch;
try {
  libtorch = require('./libtorch.cjs').detect(env);
} catch (e) {
  console.error(`csgnet: ${e.message}`);
  process.exit(1);
}
console.error(`csgnet: building the addon against libtorch ${libtorch.version} (${libtorch.kind}) in ${libtorch.root}`);
const [cmd, ...pre] = nodeGyp();
const r = spawnSync(cmd, [...pre, 'rebuild'], { cwd: root, env, stdio: 'inherit' });
if (r.error) console.error(`csgnet: cannot run node-gyp (${r.error.message}); it comes with npm`);
// What the addon was built against, for `csgnet info`.
if (r.status === 0) fs.writeFileSync(path.join(root, 'build', 'Release', 'libtorch.json'), JSON.stringify(libtorch, null, 2) + '\n');
process.exit(r.status ?? 1);
