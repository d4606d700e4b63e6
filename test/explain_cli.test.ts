// csgnet explain end to end on a tiny run (data without masks is fine: it scores faithfulness only), and
// localize --metrics: the faithfulness figures land beside the overlap metrics, and only when asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpy } from '../src/io/npy.js';
import { RunDir } from '../src/csg/run_dir.js';
import { runCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-explain-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const csgnet = (args: string[]) => runCli(args, { env: { ...process.env, OMP_NUM_THREADS: '1' } });
const run = join(tmp, 'csg');

test('explain: faithfulness.json in RUN/faithfulness with the checkpoint key, per method, per class and overall', () => {
  const t = csgnet(['train', '--model', 'resnet20', '--epochs', '1', '--limit', '64', '--val-limit', '32', '--period', '1', '--phase-min', '0',
    '--dataset', 'cluttered-fashion-mnist', '--canvas', '48', '--strategy', 'csg', '--threads', '1', '--progress', 'none', '--out', run]);
  assert.equal(t.status, 0, t.stderr);
  const r = csgnet(['explain', '--run', run, '--limit', '6', '--methods', 'cam,csgcam', '--steps', '4', '--save-maps', '--progress', 'none', '--threads', '1']);
  assert.equal(r.status, 0, r.stderr);
  const file = new RunDir(run).faithfulnessFile;
  assert.match(r.stdout, /deletionAuc/);
  const j = JSON.parse(readFileSync(file, 'utf8'));
  assert.deepEqual(Object.keys(j.methods), ['cam', 'csgcam']);
  assert.equal(j.settings.images, 6);
  assert.deepEqual(j.settings.faithfulness.metrics, ['deletion', 'insertion', 'road', 'confidence']);
  assert.deepEqual(j.settings.faithfulness.deletion, { baseline: 'mean', steps: 4 });
  assert.ok(j.checkpointKey.sha256 && j.checkpointKey.bytes > 0, 'checkpoint key recorded');
  const o = j.methods.cam.overall;
  for (const k of ['deletionAuc', 'insertionAuc', 'averageDrop', 'increaseInConfidence']) assert.ok(o[k] >= 0 && o[k] <= 1, `${k} ${o[k]}`);
  assert.ok(Number.isFinite(o.roadCombined));
  assert.equal(j.methods.cam.counts.reduce((a: number, b: number) => a + b, 0), 6);
  assert.deepEqual(readNpy(join(run, 'faithfulness', 'maps', 'cam.npy')).shape, [6, 48, 48]);
});

test('explain: bad input is refused by flag before any work', () => {
  const perFilter = csgnet(['explain', '--run', run, '--methods', 'activmap', '--limit', '2']);
  assert.notEqual(perFilter.status, 0);
  assert.match(perFilter.stderr, /--methods/);
  const metric = csgnet(['explain', '--run', run, '--metrics', 'auc', '--limit', '2']);
  assert.notEqual(metric.status, 0);
  assert.match(metric.stderr, /--metrics/);
  const layer = csgnet(['explain', '--run', run, '--methods', 'cam', '--metrics', 'confidence', '--layer', 'layer1', '--limit', '2', '--out', join(tmp, 'l')]);
  assert.notEqual(layer.status, 0);
  assert.match(layer.stderr, /--layer layer1: cam explain the last feature map only/);
});

test('localize --metrics adds faithfulness beside the overlap metrics; without it localization.json has none', () => {
  const a = csgnet(['localize', '--run', run, '--limit', '4', '--methods', 'cam,gradcam', '--metrics', 'deletion,confidence', '--progress', 'none', '--out', join(tmp, 'loc1')]);
  assert.equal(a.status, 0, a.stderr);
  const j = JSON.parse(readFileSync(join(tmp, 'loc1', 'localization.json'), 'utf8'));
  assert.deepEqual(Object.keys(j.methods.cam.faithfulness.overall), ['deletionAuc', 'averageDrop', 'increaseInConfidence', 'dropInConfidence']);
  assert.ok(j.methods.cam.top30Iou, 'overlap metrics still there');
  assert.deepEqual(j.settings.faithfulness.metrics, ['deletion', 'confidence']);
  const b = csgnet(['localize', '--run', run, '--limit', '4', '--methods', 'cam', '--progress', 'none', '--out', join(tmp, 'loc2')]);
  assert.equal(b.status, 0, b.stderr);
  const k = JSON.parse(readFileSync(join(tmp, 'loc2', 'localization.json'), 'utf8'));
  assert.equal(k.methods.cam.faithfulness, undefined);
  assert.equal(k.settings.faithfulness, undefined);
  assert.ok(existsSync(join(tmp, 'loc2', 'overlays.png')));
});

test('compare shows the faithfulness columns of a run explained on its own checkpoint, - for the others', async () => {
  const { readFaithfulnessSummary } = await import('../src/app/faithfulness_summary.js');
  const { analysisKey } = await import('../src/app/analysis_key.js');
  const { comparisonTable } = await import('../src/app/compare.js');
  const key = analysisKey(run, { checkpoint: 'last' }).checkpoint;
  const { summary, why } = readFaithfulnessSummary(run, key, 'test');
  assert.equal(why, '');
  assert.equal(summary!.file, new RunDir(run).faithfulnessFile);
  assert.deepEqual(Object.keys(summary!.methods).sort(), ['cam', 'csgcam']);
  assert.equal(readFaithfulnessSummary(run, key, 'train').summary, null, 'another split is not shown');
  const base = { model: 'resnet20', strategy: 'csg', accuracy: 0.5, density: null, mis: 0.1, mean_specificity: 0.2, agreement: null,
    class_filter_accuracy: 0.5, localization: null, gate_auroc_pgd: null };
  const t = comparisonTable([{ ...base, run: 'a', faithfulness: summary }, { ...base, run: 'b', faithfulness: null }]);
  const col = t.header.indexOf('CSG-CAM deletion AUC');
  assert.ok(col > 0, t.header.join(', '));
  for (const h of ['CSG-CAM insertion AUC', 'CSG-CAM ROAD', 'CSG-CAM avg drop', 'CAM deletion AUC']) assert.ok(t.header.includes(h), h);
  assert.notEqual(t.cells[0]![col], '-');
  assert.equal(t.cells[1]![col], '-');
  const none = comparisonTable([{ ...base, run: 'b', faithfulness: null }]);
  assert.ok(!none.header.some((h) => h.includes('deletion')), 'no faithfulness columns when no run has them');
});
