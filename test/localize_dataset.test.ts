// csgnet localize --dataset: a run scored on another dataset with masks (a masked image folder written
// from cluttered Fashion-MNIST), the compatibility checks naming both sides, and where the output goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as torch from '../src/torch/index.js';
import { readNpy } from '../src/io/npy.js';
import { localizeRun } from '../src/app/localize.js';
import { openRun } from '../src/csg/run.js';
import { BatchLoader, FASHION_MNIST_CLASSES, classFolderName, clutterDataset, loadDataset, loadMnistLike, writeMaskedFolder } from '../src/data/index.js';
import { Cam } from '../src/explain/index.js';
import { TopFractionIoU } from '../src/metrics/localization/index.js';
import { fakeRun } from './support/fake_run.js';
import { CLI, runCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-locds-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const S = 48, N = 30;
// The run's recorded training statistics, far from the folder's own: another dataset is scored with the run's.
const runData = { name: 'cluttered-fashion-mnist', classes: FASHION_MNIST_CLASSES, channels: 1, height: S, width: S, mean: [0.3], std: [0.2] };
const run = fakeRun(join(tmp, 'run'), { dataset: 'cluttered-fashion-mnist', canvas: S, strategy: 'csg', model: 'resnet20' }, runData);
const source = clutterDataset(loadMnistLike(undefined, 'test', 'fashion-mnist'), 'test', { canvas: S, limit: N });
const folder = join(tmp, 'folder');
await writeMaskedFolder(source, folder);

test('a cluttered-Fashion-MNIST run scored on a masked image folder: its images, masks and class names', async () => {
  const out = join(tmp, 'out');
  const { report } = await localizeRun({ run, dataset: { name: 'imagefolder', root: folder }, methods: ['cam', 'csgcam'], saveMaps: true, out, batchSize: 16 });
  assert.deepEqual(report.settings.dataset, { name: 'imagefolder', root: folder, own: false, canvas: null, distractors: null });
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'localization.json'), 'utf8')).settings, report.settings);
  assert.equal(report.settings.images, N);
  assert.deepEqual([report.settings.height, report.settings.width], [S, S]);
  assert.equal(report.classes[0], 'T-shirt_top', "the folder's class names (folder names), matched to the run's 'T-shirt/top'");
  // The folder lists images by class folder name, then by index within a class: the source's masks in that order.
  const folderOf = (i: number) => classFolderName(FASHION_MNIST_CLASSES[source.labels[i]!]!);
  const order = Array.from({ length: N }, (_, i) => i).sort((a, b) => (folderOf(a) < folderOf(b) ? -1 : folderOf(a) > folderOf(b) ? 1 : a - b));
  const masks = readNpy(join(out, 'masks.npy')).data as Uint8Array, hw = S * S;
  for (const [k, i] of order.entries()) {
    assert.deepEqual(masks.subarray(k * hw, (k + 1) * hw), source.masks!.subarray(i * hw, (i + 1) * hw), `image ${k} (source ${i})`);
  }
  // The maps are the run's model's on the folder's images (grey, as the run's), and the figures the metrics' on them.
  const ds = await loadDataset('imagefolder', { root: folder, split: 'test', grayscale: true, size: S });
  const r = openRun(run);
  const b = new BatchLoader(ds, { batchSize: N, shuffle: false, mean: runData.mean, std: runData.std }).epoch(0).next().value!;
  const direct = torch.tidy(() => new Cam(r.model).explain(torch.fromTypedArray(b.x, b.shape).contiguous(r.config.memoryFormat),
    torch.fromTypedArray(b.y, [N], { dtype: 'int64' })).maps.data() as Float32Array);
  const saved = readNpy(join(out, 'maps', 'cam.npy')).data as Float32Array;
  let maxDiff = 0, maxAbs = 0;
  for (let i = 0; i < direct.length; i++) { maxDiff = Math.max(maxDiff, Math.abs(direct[i]! - saved[i]!)); maxAbs = Math.max(maxAbs, Math.abs(direct[i]!)); }
  assert.ok(maxAbs > 0 && maxDiff <= 1e-5 * maxAbs, `CAM maps differ by ${maxDiff} (max ${maxAbs})`);
  assert.deepEqual((report.methods.cam as any).top30Iou, new TopFractionIoU(saved, masks, [N, S, S]).evaluate(Array.from(ds.labels), 10));
});

test('the run\'s own cluttered generator with other settings is another dataset; its settings are recorded', async () => {
  const { report } = await localizeRun({ run, dataset: { name: 'cluttered-fashion-mnist', distractors: 2 }, methods: ['cam'], limit: 8, out: join(tmp, 'o2') });
  assert.deepEqual(report.settings.dataset, { name: 'cluttered-fashion-mnist', root: null, own: false, canvas: S, distractors: 2 });
  const own = await localizeRun({ run, methods: ['cam'], limit: 8 });
  assert.deepEqual(own.report.settings.dataset, { name: 'cluttered-fashion-mnist', root: null, own: true, canvas: S, distractors: 6 });
  assert.ok(existsSync(join(run, 'localization', 'localization.json')), 'without --out: RUN/localization');
});

test('incompatible datasets are refused naming both sides', async () => {
  const out = join(tmp, 'bad');
  // A dataset without masks says so first: no --image-size to suggest for it (issue 22).
  for (const imageSize of [undefined, 28, 32]) {
    await assert.rejects(localizeRun({ run, dataset: { name: 'fashion-mnist', imageSize }, out }), (e: Error) =>
      /^fashion-mnist \(test split\) has no object masks/.test(e.message) && !/--image-size/.test(e.message));
  }
  await assert.rejects(localizeRun({ run, dataset: { name: 'cluttered-fashion-mnist', canvas: 40, imageSize: 48 }, out }), /--canvas 40 and --image-size 48 disagree/);
  await assert.rejects(localizeRun({ run, dataset: { name: 'imagefolder', root: folder, canvas: 40 }, out }), /--canvas applies only to the cluttered-\* datasets, not to imagefolder/);
  await assert.rejects(localizeRun({ run, dataset: { name: 'imagefolder', root: folder }, split: 'val', out }), /--split val is the held-out part .* use train or test/);
  await assert.rejects(localizeRun({ run, dataset: { name: 'imagefolder', root: folder } }), /--out is required with --dataset/);
  // A run of other classes (and one of other channels) for the same folder.
  const digits = fakeRun(join(tmp, 'digits'), { dataset: 'cluttered-mnist', canvas: S, strategy: 'std' }, { ...runData, name: 'cluttered-mnist', classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] });
  await assert.rejects(localizeRun({ run: digits, dataset: { name: 'imagefolder', root: folder }, out }),
    /imagefolder names its classes differently from run .*digits \(trained on cluttered-mnist\): label 0: 'T-shirt_top' vs '0', label 1: 'Trouser' vs '1'/);
  const three = fakeRun(join(tmp, 'three'), { dataset: 'imagefolder', strategy: 'std' }, { ...runData, name: 'imagefolder', classes: ['a', 'b', 'c'] });
  await assert.rejects(localizeRun({ run: three, dataset: { name: 'imagefolder', root: folder }, out }), /imagefolder has 10 classes \('T-shirt_top', .*\) but run .*three .* has 3 \('a', 'b', 'c'\)/);
  const rgb = fakeRun(join(tmp, 'rgb'), { dataset: 'imagefolder', strategy: 'std' }, { ...runData, name: 'imagefolder', channels: 3 });
  await assert.rejects(localizeRun({ run: rgb, dataset: { name: 'cluttered-fashion-mnist' }, out }), /cluttered-fashion-mnist images have 1 channel\(s\) but run .*rgb \(trained on imagefolder\) takes 3/);
});

test('the canvas of a cluttered dataset: a run\'s default image size is not blamed on --canvas; the flag given is named', async () => {
  const digits = fakeRun(join(tmp, 'mnist28'), { dataset: 'mnist', strategy: 'std', model: 'resnet20' },
    { name: 'mnist', classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], channels: 1, height: 28, width: 28 });
  const out = join(tmp, 'canvas');
  await assert.rejects(localizeRun({ run: digits, dataset: { name: 'cluttered-mnist' }, out }), (e: Error) =>
    /^the canvas \(by default the image side of run .*mnist28 \(trained on mnist\), 28\) is outside cluttered-mnist's canvas sides \[45, 1024\] .*; pass --canvas N in that range/.test(e.message)
    && !/got 28 \(--canvas\)/.test(e.message));
  await assert.rejects(localizeRun({ run: digits, dataset: { name: 'cluttered-mnist', imageSize: 30 }, out }), /Error: --image-size 30 is outside cluttered-mnist's canvas sides \[45, 1024\]/);
  await assert.rejects(localizeRun({ run: digits, dataset: { name: 'cluttered-mnist', canvas: 2000 }, out }), /Error: --canvas 2000 is outside cluttered-mnist's canvas sides/);
  // Another size than the run's, asked for by --image-size: the log names --image-size, not --canvas.
  const lines: string[] = [];
  await localizeRun({ run, dataset: { name: 'cluttered-fashion-mnist', imageSize: 50 }, methods: ['cam'], limit: 4, out: join(tmp, 'at50'), log: (l) => lines.push(l) });
  assert.ok(lines.includes("scoring at 50x50, not the run's 48x48 (asked for by --image-size)"), lines.join('\n'));
});

test('CLI: localize --dataset, and its settings without --dataset refused by name', () => {
  const ok = runCli(['localize', '--run', run, '--dataset', 'imagefolder', '--data-root', folder, '--image-size', String(S), '--methods', 'cam',
    '--limit', '6', '--out', join(tmp, 'cli'), '--progress', 'none', '--threads', '1'], { env: { ...process.env, OMP_NUM_THREADS: '1' } });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /\(6 test images of imagefolder\)/);
  assert.equal(JSON.parse(readFileSync(join(tmp, 'cli', 'localization.json'), 'utf8')).settings.dataset.root, folder);
  const r = runCli(['localize', '--run', run, '--data-root', folder]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--data-root applies with --dataset NAME/);
  const h = runCli(['localize', '--help']);
  assert.match(h.stdout, /--dataset <name>/);
});
