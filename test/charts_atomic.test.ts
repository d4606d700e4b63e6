// writeFigure goes through the one atomic writer (util/atomic.ts): a process killed between writing a
// figure's PNG and renaming it over the old one leaves the old PNG whole and a temp file that
// removeStaleTemps recognizes and removes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../src/util/paths.js';
import { removeStaleTemps } from '../src/util/atomic.js';

const charts = pathToFileURL(join(packageRoot(), 'dist', 'src', 'report', 'charts.js')).href;

/** Writes dir/fig.{svg,png} with bars of `values` in a child process (CSGNET_FAULT: kill -9 at that point). */
function writeInChild(dir: string, values: number[], fault?: string): ReturnType<typeof spawnSync> {
  const script = `const c = await import(${JSON.stringify(charts)});
    await c.writeFigure(${JSON.stringify(dir)}, 'fig', c.barSpec({ labels: ${JSON.stringify(values.map((_, i) => `c${i}`))}, values: ${JSON.stringify(values)}, title: 't', yTitle: 'y' }), 1);`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CSGNET_FAULT;
  if (fault) env.CSGNET_FAULT = fault;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
}

test('writeFigure: killed before the PNG rename, the old PNG stays whole and the temp is found as stale', () => {
  const dir = mkdtempSync(join(tmpdir(), 'csgnet-charts-atomic-'));
  try {
    const first = writeInChild(dir, [1, 2, 3]);
    assert.equal(first.status, 0, String(first.stderr));
    const oldSvg = readFileSync(join(dir, 'fig.svg'), 'utf8'), oldPng = readFileSync(join(dir, 'fig.png'));
    const killed = writeInChild(dir, [3, 1, 4, 1, 5], 'before-rename:fig.png@1');
    assert.equal(killed.signal, 'SIGKILL', `the write never reached writeFileAtomic's rename (exit ${killed.status}): ${killed.stderr}`);
    assert.notEqual(readFileSync(join(dir, 'fig.svg'), 'utf8'), oldSvg, 'the SVG, written first, is the new one');
    assert.deepEqual(readFileSync(join(dir, 'fig.png')), oldPng, 'the PNG is still the old one, whole');
    const temps = readdirSync(dir).filter((n) => n !== 'fig.svg' && n !== 'fig.png');
    assert.equal(temps.length, 1, `one temp file left: ${temps}`);
    assert.deepEqual(removeStaleTemps(dir), temps);
    assert.deepEqual(readdirSync(dir).sort(), ['fig.png', 'fig.svg']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
