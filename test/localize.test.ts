// csgnet localize end to end on a small cluttered Fashion-MNIST run: every method and metric lands in
// localization.json, the saved maps are the explainers' own (golden-tested in explain.test.ts) and the
// JSON's figures are the metrics' (golden-tested in localization_metrics.test.ts) on those maps; a
// dataset without masks is refused by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as torch from '../src/torch/index.js';
import { readNpy } from '../src/io/npy.js';
import { localizeRun, LOCALIZE_METHODS } from '../src/app/localize.js';
import { LOCALIZE_DEFAULTS } from '../src/app/defaults.js';
import { openRun, runDataset } from '../src/csg/run.js';
import { BatchLoader } from '../src/data/index.js';
import { Cam, createAttribution } from '../src/explain/index.js';
import { MaxBoxAccV2, TopFractionIoU } from '../src/metrics/localization/index.js';
import { runCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-localize-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const train = (args: string[]) => {
  const r = runCli(['train', '--model', 'resnet20', '--epochs', '1', '--limit', '64', '--val-limit', '32', '--period', '1',
    '--phase-min', '0', '--threads', '1', '--progress', 'none', ...args], { env: { ...process.env, OMP_NUM_THREADS: '1' } });
  assert.equal(r.status, 0, r.stderr);
};

test('localize a CSG run on cluttered Fashion-MNIST: every method, metrics consistent with the saved maps', async () => {
  const run = join(tmp, 'csg'), out = join(tmp, 'loc');
  train(['--dataset', 'cluttered-fashion-mnist', '--canvas', '48', '--strategy', 'csg', '--out', run]);
  const n = 24;
  const { report, files } = await localizeRun({ run, limit: n, batchSize: 10, saveMaps: true, out });
  for (const f of files) assert.ok(existsSync(f), f);
  assert.deepEqual(Object.keys(report.methods), [...LOCALIZE_DEFAULTS.methods]);
  assert.equal(report.settings.images, n);
  const onDisk = JSON.parse(readFileSync(join(out, 'localization.json'), 'utf8'));
  assert.deepEqual(onDisk.settings, report.settings);
  const masks = readNpy(join(out, 'masks.npy')).data as Uint8Array;
  const cam = readNpy(join(out, 'maps', 'cam.npy'));
  assert.deepEqual(cam.shape, [n, 48, 48]);
  // The saved CAM maps are the explainer's, batch for batch.
  const r = openRun(run);
  const ds = await runDataset(r, 'test');
  const b = new BatchLoader(ds, { batchSize: n, shuffle: false, limit: n }).epoch(0).next().value!;
  const direct = torch.tidy(() => {
    const e = new Cam(r.model).explain(torch.fromTypedArray(b.x, b.shape).contiguous(r.config.memoryFormat), torch.fromTypedArray(b.y, [n], { dtype: 'int64' }));
    return e.maps.data() as Float32Array;
  });
  let maxDiff = 0, maxAbs = 0;
  for (let i = 0; i < direct.length; i++) { maxDiff = Math.max(maxDiff, Math.abs(direct[i] - (cam.data as Float32Array)[i])); maxAbs = Math.max(maxAbs, Math.abs(direct[i])); }
  assert.ok(maxDiff <= 1e-5 * maxAbs, `batched CAM maps differ from one batch by ${maxDiff} (max ${maxAbs})`);
  // The JSON's figures are the metrics' on the saved maps.
  const C = ds.numClasses, labels = Array.from(ds.labels.subarray(0, n));
  const camResult = report.methods.cam as any;
  assert.deepEqual(camResult.top30Iou, new TopFractionIoU(cam.data as Float32Array, masks, [n, 48, 48]).evaluate(labels, C));
  assert.deepEqual(camResult.maxBoxAccV2.overall, new MaxBoxAccV2(cam.data as Float32Array, ds.boxes!.subarray(0, 4 * n), [n, 48, 48]).evaluate(labels, C).overall);
  for (const m of ['cam', 'gradcam', 'gradcampp', 'csgcam']) {
    const o = (report.methods as any)[m];
    for (const v of [o.top30Iou.overall.meanIoU, o.maxBoxAccV2.overall.maxBoxAccV2, o.pxap.overall.pxap, o.pointingGame.overall.hitRate, o.energyPointingGame.overall.energy]) {
      assert.ok(v >= 0 && v <= 1, `${m}: ${v}`);
    }
    assert.equal(o.top30Iou.perClass.length, C);
  }
  const activ = report.methods.activmap as any;
  assert.equal(activ.relatedClass.length, r.model.numFilters);
  assert.equal(activ.perClass.reduce((s: number, c: any) => s + c.rfn, 0), r.model.numFilters, 'every filter has one related class');
  assert.ok((report.methods.gradmap as any).overall.meanIoU >= 0);
  assert.equal(readNpy(join(out, 'maps', 'gradmap.npy')).shape.join(), [n, 48, 48].join());
  const png = readFileSync(join(out, 'overlays.png'));
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
});

test('localize --methods saliency,ig,smoothgrad,occlusion: the attributions\' own maps, their settings passed through and recorded', async () => {
  const run = join(tmp, 'csg'), out = join(tmp, 'loc-attr'), n = 8;   // the run of the first test
  const methods = ['saliency', 'ig', 'smoothgrad', 'occlusion'] as const;
  const attribution = { igSteps: 4, smoothgradSamples: 2, occlusionWindow: 16, occlusionStride: 16 };
  const { report } = await localizeRun({ run, limit: n, batchSize: n, methods, attribution, saveMaps: true, out });
  assert.deepEqual(Object.keys(report.methods), [...methods]);
  assert.deepEqual(report.settings.attribution, { saliency: {}, ig: { steps: 4, method: 'riemann_trapezoid', baseline: 'zero' },
    smoothgrad: { samples: 2, noise: 1, seed: 0 }, occlusion: { window: 16, stride: 16, baseline: 0 } });
  for (const m of methods) assert.ok((report.methods as any)[m].pxap.overall.pxap >= 0, m);
  const r = openRun(run);
  const ds = await runDataset(r, 'test');
  const b = new BatchLoader(ds, { batchSize: n, shuffle: false, limit: n }).epoch(0).next().value!;
  for (const m of ['ig', 'occlusion'] as const) {
    const direct = torch.tidy(() => createAttribution(m, r.model, attribution).explain(torch.fromTypedArray(b.x, b.shape).contiguous(r.config.memoryFormat),
      torch.fromTypedArray(b.y, [n], { dtype: 'int64' })).maps.data() as Float32Array);
    assert.deepEqual(Array.from(readNpy(join(out, 'maps', `${m}.npy`)).data as Float32Array), Array.from(direct), `${m}: the saved maps are the explainer's`);
  }
  const bad = runCli(['localize', '--run', run, '--methods', 'ig', '--ig-steps', '1']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--ig-steps/);
});

test('localize refuses a dataset without masks and an unknown method, by name', async () => {
  const run = join(tmp, 'plain');
  train(['--dataset', 'fashion-mnist', '--strategy', 'std', '--out', run]);
  await assert.rejects(localizeRun({ run, limit: 8, out: join(tmp, 'x') }), /fashion-mnist \(test split\) has no object masks: localize needs a dataset with masks/);
  await assert.rejects(localizeRun({ run, limit: 8, methods: ['cam', 'lime' as any], out: join(tmp, 'x') }), /--methods: unknown method 'lime'/);
});
