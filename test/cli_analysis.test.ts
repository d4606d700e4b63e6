// The analysis commands end to end on a short CSG run: features -> .npy, mis on those files,
// analyze (analysis.json + figures), gate, eval and compare.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpy, writeNpy } from '../src/io/npy.js';
import { miMatrix, mis } from '../src/metrics/mutual_info.js';
import { analysisKey, keyDifference } from '../src/app/run_analysis.js';
import { checkpointPath } from '../src/csg/checkpoint.js';
import { runCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-cli-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const csgnet = (...args: string[]) => {
  const r = runCli(args);
  return { ...r, status: r.status ?? -1 };
};
const ok = (...args: string[]) => {
  const r = csgnet(...args);
  assert.equal(r.status, 0, `csgnet ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
};

const runCsg = join(tmp, 'csg'), runStd = join(tmp, 'std');
const common = ['--dataset', 'fashion-mnist', '--model', 'resnet20', '--epochs', '2', '--batch', '64', '--limit', '512', '--val-limit', '300',
  '--period', '2', '--phase-min', '1', '--progress', 'none'];

test('train a short CSG and STD run', () => {
  ok('train', ...common, '--strategy', 'csg', '--out', runCsg);
  ok('train', ...common, '--strategy', 'std', '--out', runStd);
  const lines = readFileSync(join(runCsg, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  for (const k of ['epoch', 'path', 'train_loss', 'train_ce', 'train_reg', 'train_acc', 'val_acc', 'density', 'lr', 'seconds']) assert.ok(k in lines[0], `metrics has ${k}`);
  const config = JSON.parse(readFileSync(join(runCsg, 'config.json'), 'utf8'));
  assert.equal(config.train.lambda, 0.1);
  assert.deepEqual(config.schedule, ['std', 'csg']);
});

test('eval and gate report accuracy, confusion matrix, density and assignment', () => {
  const ev = JSON.parse(ok('eval', '--run', runCsg, '--json', '--limit', '300'));
  assert.equal(ev.n, 300);
  assert.equal(ev.confusion.length, 10);
  assert.equal(ev.confusion.flat().reduce((a: number, b: number) => a + b, 0), 300);
  const diag = ev.confusion.reduce((s: number, row: number[], i: number) => s + row[i], 0);
  assert.equal(diag / 300, ev.accuracy);
  assert.ok(ev.density > 0.1 && ev.density <= 1);
  const g = JSON.parse(ok('gate', '--run', runCsg, '--json'));
  assert.equal(g.gate.length, 64);
  assert.equal(g.gate[0].length, 10);
  for (const row of g.gate) assert.equal(Math.max(...row), 1, 'row-max projection');
  assert.deepEqual(g.assignment, g.gate.map((row: number[]) => row.indexOf(1)));
  assert.match(csgnet('gate', '--run', runStd).stderr, /STD run .* has no gate/);
});

test('features writes .npy files that mis scores like the library', () => {
  const dir = join(tmp, 'feat');
  ok('features', '--run', runCsg, '--out', dir, '--limit', '400');
  const f = readNpy(join(dir, 'features.npy')), l = readNpy(join(dir, 'labels.npy'));
  assert.deepEqual(f.shape, [400, 64]);
  assert.equal(f.dtype, '<f4');
  assert.deepEqual(l.shape, [400]);
  assert.equal(l.dtype, '<i8');
  const out = JSON.parse(ok('mis', '--features', join(dir, 'features.npy'), '--labels', join(dir, 'labels.npy'), '--json'));
  const labels = Int32Array.from(l.data as BigInt64Array, (v) => Number(v));
  const M = miMatrix(f.data as Float32Array, 400, 64, labels, 10);
  assert.equal(out.mis, mis(M, 10, 64));
  assert.equal(out.mi_matrix.length, 10);
  assert.ok(out.mis > 0 && typeof out.seconds === 'number');
  // mismatched labels and float labels are refused with the file named
  const bad = join(dir, 'bad.npy');
  writeNpy(bad, new Float32Array(400), [400]);
  assert.match(csgnet('mis', '--features', join(dir, 'features.npy'), '--labels', bad).stderr, /bad\.npy: labels must be integers/);
  writeNpy(bad, new BigInt64Array(7), [7]);
  assert.match(csgnet('mis', '--features', join(dir, 'features.npy'), '--labels', bad).stderr, /bad\.npy: expected 400 labels/);
  writeFileSync(bad, 'not numpy');
  assert.notEqual(csgnet('mis', '--features', bad, '--labels', bad).status, 0);
});

test('analyze writes analysis.json and figures; compare tabulates both runs', () => {
  const dir = join(tmp, 'an');
  ok('analyze', '--run', runCsg, '--out', dir, '--limit', '400');
  const a = JSON.parse(readFileSync(join(dir, 'analysis.json'), 'utf8'));
  assert.equal(a.mi_matrix.length, 10);
  assert.equal(a.mi_matrix[0].length, 64);
  assert.equal(a.assignment.gate.length, 64);
  assert.equal(a.assignment.mi.length, 64);
  assert.equal(a.specificity.length, 64);
  const misFromMatrix = a.mi_matrix[0].map((_: number, k: number) => Math.max(...a.mi_matrix.map((r: number[]) => r[k]))).reduce((x: number, y: number) => x + y, 0) / 64;
  assert.ok(Math.abs(a.mis - misFromMatrix) < 1e-12);
  const cfa = a.class_filter_accuracy;
  assert.equal(cfa.assignment, 'gate');
  assert.equal(cfa.balanced.length, 10);
  for (let c = 0; c < 10; c++) {
    assert.ok(cfa.recall[c] >= 0 && cfa.recall[c] <= 1 && cfa.specificity[c] >= 0 && cfa.specificity[c] <= 1);
    assert.ok(Math.abs(cfa.balanced[c] - (cfa.recall[c] + cfa.specificity[c]) / 2) < 1e-12);
  }
  for (const f of ['gate', 'mi_matrix', 'correlation', 'specificity']) {
    assert.ok(existsSync(join(dir, `${f}.svg`)), `${f}.svg`);
    const png = readFileSync(join(dir, `${f}.png`));
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
  }
  const out = join(tmp, 'cmp');
  const table = ok('compare', runStd, runCsg, '--out', out);
  assert.match(table, /MIS/);
  const rows = JSON.parse(readFileSync(join(out, 'comparison.json'), 'utf8'));
  assert.deepEqual(rows.map((r: any) => r.strategy), ['std', 'csg']);
  assert.equal(rows[0].density, null);
  assert.ok(rows[1].density > 0);
  assert.match(readFileSync(join(out, 'comparison.md'), 'utf8'), /^\| run \| model \| strategy \| accuracy/);
});

test('compare does not reuse an analysis made with other options or another checkpoint: it says why and recomputes', () => {
  const cmpDir = join(tmp, 'cmp');
  const full = JSON.parse(readFileSync(join(cmpDir, 'comparison.json'), 'utf8'))[1];
  const cache = join(runCsg, 'analysis', 'analysis.json');
  const key = JSON.parse(readFileSync(cache, 'utf8')).key;
  assert.deepEqual([key.checkpoint.file, key.split, key.limit, key.mi.n_neighbors], [join('checkpoints', 'last.safetensors'), 'test', 0, 3]);
  assert.match(key.checkpoint.sha256, /^[0-9a-f]{64}$/);
  // analyze --limit 5 into the cache folder: compare used to report its accuracy over 5 images.
  ok('analyze', '--run', runCsg, '--out', join(runCsg, 'analysis'), '--limit', '5');
  assert.equal(JSON.parse(readFileSync(cache, 'utf8')).n, 5);
  const r = csgnet('compare', runCsg, '--out', cmpDir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /analysis\.json was made with limit 5 instead of all images/);
  const row = JSON.parse(readFileSync(join(cmpDir, 'comparison.json'), 'utf8'))[0];
  assert.equal(row.accuracy, full.accuracy);
  assert.equal(row.mis, full.mis);
  assert.equal(JSON.parse(readFileSync(cache, 'utf8')).n, 10000);
  // Same key: reused, nothing recomputed.
  const again = csgnet('compare', runCsg);
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /analyzing/);
  // Another checkpoint's bytes or other MI options give another key.
  const want = analysisKey(runCsg, {});
  assert.deepEqual(want, JSON.parse(readFileSync(cache, 'utf8')).key);
  assert.match(keyDifference(want, analysisKey(runCsg, { mi: { nNeighbors: 5 } })), /MI option n_neighbors 3 instead of 5/);
  assert.match(keyDifference(want, analysisKey(runCsg, { checkpoint: 'best' })), /checkpoint checkpoints\/last\.safetensors instead of checkpoints\/best\.safetensors/);
  const copy = join(tmp, 'ckpt-copy.safetensors');
  writeFileSync(copy, readFileSync(checkpointPath(runCsg, 'last')));
  const k1 = analysisKey(runCsg, { checkpoint: copy });
  const b = readFileSync(copy); b[b.length - 1] ^= 1; writeFileSync(copy, b);
  assert.match(keyDifference(k1, analysisKey(runCsg, { checkpoint: copy })), /its content changed since/);
  assert.equal(k1.checkpoint.file, copy);
  assert.equal(keyDifference(undefined, want), 'it has no key (made by an older csgnet)');
});
