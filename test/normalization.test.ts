// Training-time normalization (issue 22): the trainer records the training split's statistics in
// config.json, and every later command normalizes every split, and every other dataset, with them; a
// run made before they were recorded gets them recomputed from its training split, with a note.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import sharp from 'sharp';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CIFAR_PRESET, type TrainConfig } from '../src/csg/config.js';
import { Trainer, readMetrics } from '../src/csg/trainer.js';
import { evaluateRun, extractFeatures, openRun, runDataset, trainingNormalization } from '../src/csg/run.js';
import { readRunInfo } from '../src/csg/run_dir.js';
import { exportRunOnnx } from '../src/app/export.js';
import { loadDataset } from '../src/data/index.js';
import { readNpy } from '../src/io/npy.js';
import { fakeRun } from './support/fake_run.js';
import { CLI, runCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-norm-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

// An image folder whose test images are much brighter than its training images: the splits' own
// statistics differ by far more than rounding, as they can with any image folder.
const root = join(tmp, 'folder');
const S = 28;
let seed = 1;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
for (const [split, lo, hi] of [['train', 0, 140], ['test', 90, 255]] as const) {
  for (const cls of ['a', 'b']) {
    mkdirSync(join(root, split, cls), { recursive: true });
    for (let i = 0; i < 24; i++) {
      const px = Buffer.from(Array.from({ length: S * S * 3 }, () => Math.floor(lo + rand() * (hi - lo))));
      await sharp(px, { raw: { width: S, height: S, channels: 3 } }).png().toFile(join(root, split, cls, `${i}.png`));
    }
  }
}
const trainSplit = await loadDataset('imagefolder', { root, split: 'train' });
const testSplit = await loadDataset('imagefolder', { root, split: 'test' });
const data = { name: 'imagefolder', classes: ['a', 'b'], channels: 3, height: S, width: S };
const folderRun = { model: 'lenet' as const, strategy: 'std' as const, dataset: 'imagefolder', dataRoot: root, imageSize: S };

test('the two splits differ in their statistics (else the tests below could not fail)', () => {
  assert.ok(Math.abs(trainSplit.mean[0]! - testSplit.mean[0]!) > 0.2, `${trainSplit.mean} vs ${testSplit.mean}`);
});

test('training records the training split\'s statistics; the test split is scored with them, in training and after', async () => {
  const cfg: TrainConfig = { ...structuredClone(CIFAR_PRESET), ...folderRun, epochs: 1, batchSize: 16, threads: 1 };
  const dir = join(tmp, 'trained');
  const t = await Trainer.create(cfg, { outDir: dir, log: () => {} });
  await t.run();
  const info = readRunInfo(dir);
  assert.deepEqual([info.dataset.mean, info.dataset.std], [trainSplit.mean, trainSplit.std]);
  const test = await runDataset(info, 'test');
  assert.deepEqual(test.images, testSplit.images, 'the test split\'s images');
  assert.deepEqual([test.mean, test.std], [trainSplit.mean, trainSplit.std], 'the test split carries the training statistics');
  // The trainer's validation accuracy (the test split) is what eval computes afterwards.
  const run = openRun(dir);
  const ev = evaluateRun(run, test);
  assert.equal(readMetrics(dir).at(-1)!.val_acc, ev.accuracy);
  run.model.dispose();
});

test('features of a run: normalized with the recorded statistics, not the scored split\'s', () => {
  const dir = fakeRun(join(tmp, 'recorded'), folderRun, { ...data, mean: trainSplit.mean, std: trainSplit.std });
  const out = join(tmp, 'feats');
  const r = runCli(['features', '--run', dir, '--limit', '16', '--threads', '1', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const got = readNpy(join(out, 'features.npy')).data as Float32Array;
  const run = openRun(dir);
  const want = extractFeatures(run.model, { ...testSplit, mean: trainSplit.mean, std: trainSplit.std }, 16, run.config.memoryFormat).features;
  const own = extractFeatures(run.model, testSplit, 16, run.config.memoryFormat).features;
  const diff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
  assert.ok(diff(got, want) <= 1e-5, `features differ from the recorded normalization's by ${diff(got, want)}`);
  assert.ok(diff(got, own) > 1e-2, 'and are not those of the split\'s own statistics');
  run.model.dispose();
});

test('export embeds the recorded statistics and says they are the training split\'s', async () => {
  const dir = fakeRun(join(tmp, 'export'), folderRun, { ...data, mean: trainSplit.mean, std: trainSplit.std });
  const { info, run } = await exportRunOnnx({ run: dir, includeNormalization: true });
  assert.deepEqual([info.mean, info.std], [trainSplit.mean, trainSplit.std]);
  assert.equal(info.props['csgnet.normalization_split'], 'train');
  run.model.dispose();
});

test('a run made before the statistics were recorded: recomputed from its training split, with a note', async () => {
  const dir = fakeRun(join(tmp, 'old'), folderRun, data);
  const notes: string[] = [];
  const info = readRunInfo(dir);
  const test = await runDataset(info, 'test', { log: (s) => notes.push(s) });
  assert.deepEqual([test.mean, test.std], [trainSplit.mean, trainSplit.std]);
  assert.equal(notes.length, 1);
  assert.match(notes[0]!, /config\.json records no training normalization .*recomputed/);
  assert.deepEqual(await trainingNormalization(info), { mean: trainSplit.mean, std: trainSplit.std });
  const r = runCli(['eval', '--run', dir, '--limit', '8', '--threads', '1', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^note: .*records no training normalization/m, 'the CLI shows the note on stderr');
  assert.equal(JSON.parse(r.stdout).n, 8, '--json output stays clean');
});
