// kdbu (Feinman et al. 2017) and lid (Ma et al. 2018) against scripts/golden/detection_extra.py, which
// re-states their numpy / scikit-learn steps (their Keras code does not run here; produced_by
// "reimplementation" in the golden's metadata): sklearn's KernelDensity log densities and their mle_batch
// LIDs elementwise to 1e-6 (float64 on the same inputs); sklearn's LogisticRegressionCV's chosen C and
// decision function; and the detectors end to end on the ResNet-20 of detection.safetensors (float32
// forwards: tolerances as test/detect.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose, goldenPath } from './helpers.js';
import { loadGoldenResnet20 } from './support/golden_model.js';
import * as torch from '../src/torch/index.js';
import type { Tensor } from '../src/torch/index.js';
import { loadSafetensors } from '../src/torch/io/safetensors.js';
import { PixelModel } from '../src/attack/pixel_model.js';
import {
  KdBuDetector, LidDetector, createDetector, defaultLidBlocks, gaussianKdeLogDensity, logisticRegressionCV, mleBatch, stratifiedFolds,
  type DetectorContext,
} from '../src/detect/index.js';

const nums = (t: Tensor): number[] => Array.from(t.toFloat64Array());
const { tensors: T, metadata } = loadSafetensors(goldenPath('detection_extra.safetensors'));
const det = loadSafetensors(goldenPath('detection.safetensors')).tensors;

function close(actual: ArrayLike<number>, expected: Tensor, what: string, rel = 1e-4): void {
  const e = nums(expected);
  assertClose(actual, e, rel * Math.max(...e.map(Math.abs)), rel, what);
}

test('the golden names the papers and says it is a reimplementation', () => {
  const refs = JSON.parse(metadata.references!);
  assert.equal(refs.kdbu.reference, 'rfeinman/detecting-adversarial-samples');
  assert.equal(refs.lid.reference, 'xingjunm/lid_adversarial_subspace_detection');
  for (const r of Object.values(refs) as { produced_by: string }[]) assert.equal(r.produced_by, 'reimplementation');
});

test('gaussianKdeLogDensity = sklearn KernelDensity(gaussian).score_samples to 1e-6', () => {
  for (const h of [1.2, 0.26]) {
    const got = torch.tidy(() => nums(gaussianKdeLogDensity(T.kde_train!, T.kde_x!, h)));
    assertClose(got, nums(T[`kde_logp_h${h}`]!), 1e-6, 0, `log density, h ${h}`);
  }
});

test('mleBatch = Ma et al.\'s mle_batch to 1e-6 (self, other batch, k capped at n - 1 and k 5)', () => {
  const d = torch.tidy(() => torch.keep(T.lid_data!.to('float64'))), b = torch.tidy(() => torch.keep(T.lid_batch!.to('float64')));
  for (const [x, k, key] of [[d, 20, 'lid_self'], [b, 20, 'lid_adv'], [b, 5, 'lid_adv_k5']] as const) {
    assertClose(torch.tidy(() => nums(mleBatch(d, x, k))), nums(T[key]!), 1e-6, 0, key);
  }
  d.dispose(); b.dispose();
});

test('logisticRegressionCV = sklearn LogisticRegressionCV (C, decision function); stratifiedFolds = StratifiedKFold', () => {
  assert.deepEqual(Array.from(stratifiedFolds(nums(T.folds_y!), 5)), nums(T.folds!));
  const y = nums(T.lrcv_y!);
  const { model, C } = logisticRegressionCV(nums(T.lrcv_x!), y, 3);
  assertClose([C], nums(T.lrcv_C!), 1e-12, 1e-12, 'chosen C');
  close(model.decisionFunction(nums(T.lrcv_x!)), T.lrcv_decision!, 'decision function', 1e-6);
});

const m = loadGoldenResnet20(metadata as Record<string, string>, 'detection_extra.safetensors', 'detection_extra.py');
const model = new PixelModel(m, [Number(metadata.pixel_mean)], [Number(metadata.pixel_std)]);
function* trainBatches(): Generator<{ x01: Tensor; labels: Tensor }> {
  for (const s of [0, 60]) {
    const b = { x01: det.train_x!.narrow(0, s, 60), labels: det.train_y!.narrow(0, s, 60) };
    try { yield b; } finally { b.x01.dispose(); b.labels.dispose(); }
  }
}
const copies = { clean: det.x!, noisy: T.noisy!, adv: T.adv! };
const all = torch.keep(torch.cat([copies.clean, copies.noisy, copies.adv]));
const flags = new Uint8Array(36).fill(1, 24);

test('kdbu on the ResNet-20: predicted-class log densities and the LogisticRegressionCV scores; no dropout -> density alone, with a note', () => {
  const notes: string[] = [];
  const ctx: DetectorContext = { model, gate: null, trainBatches, log: (s) => notes.push(s) };
  const d = new KdBuDetector({ bandwidth: Number(metadata.kd_bandwidth), batchSize: 7 });
  d.prepare(ctx);
  assert.equal(d.usesUncertainty, false);
  assert.match(notes.join('\n'), /kdbu: the model has no dropout layer.*kernel density alone/);
  close(d.features(all), T.kd_features!, 'kd features (log density)', 1e-5);
  d.fit(all, flags);
  close(d.score(all), T.kd_scores!, 'kdbu decision function', 1e-3);
  assert.equal(createDetector('kdbu').name, 'kdbu');
  d.dispose();
});

test('lid on the ResNet-20: blocks layer1-3 and the logits, every copy among the clean minibatch, LogisticRegressionCV scores', () => {
  const ctx: DetectorContext = { model, gate: null, trainBatches };
  assert.deepEqual(defaultLidBlocks(m), ['layer1', 'layer2', 'layer3']);
  const d = new LidDetector({ k: Number(metadata.lid_k) });
  d.prepare(ctx);
  const [c, n, a] = d.characteristics(copies.clean, [copies.clean, copies.noisy, copies.adv]);
  const f = Float64Array.from([...c!, ...n!, ...a!]);
  close(f, T.lid_features!, 'LIDs per layer', 1e-4);
  d.fitCopies(copies);
  const s = d.scoreCopies(copies);
  close([...s.clean, ...s.noisy, ...s.adv], T.lid_scores!, 'lid decision function', 1e-3);
  assert.throws(() => new LidDetector({ blocks: ['nope'] }).prepare(ctx), /lid: the model has no module 'nope'/);
  assert.throws(() => createDetector('lid', { lidK: 0 }), /k must be a positive integer/);
  d.dispose();
});
