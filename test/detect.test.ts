// Detectors (src/detect) against PyTorch / scikit-learn: scripts/golden/detection.py scores 12 seeded 1x8x8
// images with the ResNet-20 of resnet20_parity.safetensors inside a pixel-space wrapper (mean 0.5, std 0.25),
// the training statistics from 120 seeded images. Every score is a forward (or one gradient step) quantity:
// float32 rounding alone moves them by <= 6e-6 of their maximum in PyTorch (the golden's metadata), so they
// are compared with atol 1e-4 x max |expected|, rtol 1e-4; the Gaussians (float64 statistics of float32
// features) with 1e-5 relative to their largest entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose, goldenPath } from './helpers.js';
import { loadGoldenResnet20 } from './support/golden_model.js';
import * as torch from '../src/torch/index.js';
import type { Tensor } from '../src/torch/index.js';
import { loadSafetensors } from '../src/torch/io/safetensors.js';
import { PixelModel } from '../src/attack/pixel_model.js';
import {
  CsgLrDetector, DETECTOR_NAMES, MahalanobisDetector, SqueezeDetector, createDetector, gateConsistency, medianFilter, reduceBitDepth,
  type DetectorContext,
} from '../src/detect/index.js';

const nums = (t: Tensor): number[] => Array.from(t.toFloat64Array());
const { tensors: T, metadata } = loadSafetensors(goldenPath('detection.safetensors'));

function loadModel(): PixelModel {
  const m = loadGoldenResnet20(metadata as Record<string, string>, 'detection.safetensors', 'detection.py');
  return new PixelModel(m, [Number(metadata.pixel_mean)], [Number(metadata.pixel_std)]);
}

const model = loadModel();
const x = T.x!, flags = Uint8Array.from(nums(T.flags!));
let trainCalls = 0;
/** The 120 training images in two batches, like a loader (the iterable owns its tensors). */
function* trainBatches(): Generator<{ x01: Tensor; labels: Tensor }> {
  trainCalls++;
  for (const s of [0, 60]) {
    const b = { x01: T.train_x!.narrow(0, s, 60), labels: T.train_y!.narrow(0, s, 60) };
    try { yield b; } finally { b.x01.dispose(); b.labels.dispose(); }
  }
}
const csgCtx: DetectorContext = { model, gate: T.G!, trainBatches };
const stdCtx: DetectorContext = { model, gate: null, trainBatches };

function close(actual: ArrayLike<number>, expected: Tensor, what: string, rel = 1e-4): void {
  const e = nums(expected);
  const scale = Math.max(...e.map(Math.abs));
  assertClose(actual, e, rel * scale, rel, what);
}

test('gate consistency s(x) with a CSG gate, and with the STD mean-activation assignment, matches PyTorch', () => {
  const s = gateConsistency(model, T.G!, x);
  assert.deepEqual(s.shape, [12]);
  close(nums(s), T.gate_s!, 'gate_s');
  s.dispose();
  const gate = createDetector('gate');
  gate.prepare(csgCtx);
  assertClose(gate.score(x), nums(T.gate_s!).map((v) => 1 - v), 1e-5, 1e-4, 'gate score = 1 - s');
  gate.dispose();

  const std = createDetector('gate', { batchSize: 5 });   // 12 images in batches of 5, 5, 2
  const before = trainCalls;
  std.prepare(stdCtx);
  assert.equal(trainCalls, before + 1, 'the training set is read once');
  const assign = (std as unknown as { assignment: Tensor }).assignment;
  assert.deepEqual(nums(assign), nums(T.std_assign!));
  assertClose(std.score(x), nums(T.gate_s_std!).map((v) => 1 - v), 1e-5, 1e-4, 'gate score (STD)');
  std.dispose();
});

test('gateConsistency is differentiable in the pixels (for the adaptive attack)', () => {
  const xin = x.detach().requiresGrad_(true);
  const g = torch.tidy(() => torch.grad(torch.enableGrad(() => gateConsistency(model, T.G!, xin).sum()), xin)[0]!);
  assert.deepEqual(g.shape, x.shape);
  const n = nums(g.abs().sum());
  assert.ok(n[0]! > 0 && Number.isFinite(n[0]!), `gradient mass ${n[0]}`);
  g.dispose(); xin.dispose();
});

test('csg-lr: features (prediction\'s mass first, the rest decreasing) and the fitted decision function match sklearn', () => {
  const d = new CsgLrDetector();
  d.prepare(csgCtx);
  const f = d.features(x);
  close(f, T.lr_features!, 'lr features');
  d.fit(x, flags);
  close(d.score(x), T.lr_scores!, 'lr decision function', 1e-3);
  // the first feature is s(x)
  assertClose(Array.from({ length: 12 }, (_, i) => f[i * 10]!), nums(T.gate_s!), 1e-6, 1e-5, 'feature 0 = s(x)');
  d.dispose();
});

test('mahalanobis: Gaussians, scores and Lee et al.\'s input pre-processing match sklearn / PyTorch', () => {
  const d = new MahalanobisDetector({ batchSize: 7 });
  d.prepare(stdCtx);
  const { means, precision } = d.gaussians;
  close(nums(means), T.maha_means!, 'class means', 1e-5);
  close(nums(precision), T.maha_precision!, 'precision', 1e-4);
  close(d.score(x), T.maha_scores!, 'mahalanobis scores');
  d.dispose();
  const noisy = createDetector('mahalanobis', { mahalanobisNoise: Number(metadata.maha_noise) });
  noisy.prepare(stdCtx);
  const s = noisy.score(x);
  close(s, T.maha_scores_noise!, 'mahalanobis scores with input pre-processing');
  // pre-processing pulls every image towards its closest class
  const plain = nums(T.maha_scores!);
  assert.ok(Array.from(s).every((v, i) => v < plain[i]!), 'the noise step lowers every distance');
  noisy.dispose();
});

test('feature squeezing: scipy\'s 2x2 median, bit depth 1 and 5, max L1 between softmaxes as PyTorch', () => {
  const med = medianFilter(x, 2);
  assert.deepEqual(nums(med), nums(T.median!), 'median filter = scipy.ndimage.median_filter(mode=reflect) exactly');
  med.dispose();
  const b1 = reduceBitDepth(x, 1);
  assert.ok(nums(b1).every((v) => v === 0 || v === 1));
  b1.dispose();
  for (const [bits, key] of [[1, 'squeeze_bits1'], [5, 'squeeze_bits5']] as const) {
    const d = createDetector('squeeze', { squeezeBits: bits });
    d.prepare(csgCtx);
    close(d.score(x), T[key]!, key);
  }
  const auto = new SqueezeDetector();
  auto.prepare(csgCtx);
  assert.equal(auto.bits, 1, 'grey images default to 1 bit (Xu et al.\'s MNIST setting)');
});

test('bad input: unknown names, score before prepare or fit, wrong shapes, one-class flags, bad options', () => {
  assert.deepEqual([...DETECTOR_NAMES], ['gate', 'csg-lr', 'mahalanobis', 'squeeze', 'kdbu', 'lid']);
  assert.throws(() => createDetector('nope' as never), /unknown detector 'nope'; expected one of gate, csg-lr/);
  for (const name of DETECTOR_NAMES) assert.throws(() => createDetector(name).score(x), /call prepare\(ctx\)/, name);
  const lr = createDetector('csg-lr');
  lr.prepare(csgCtx);
  assert.throws(() => lr.score(x), /call fit\(x01, adversarial\)/);
  assert.throws(() => lr.fit(x, new Uint8Array(12)), /both clean and adversarial images, got 0 adversarial of 12/);
  assert.throws(() => lr.fit(x, new Uint8Array(3)), /12 images but 3 adversarial flags/);
  lr.dispose();
  const gate = createDetector('gate');
  const wrongGate = torch.zeros([64, 3]);
  assert.throws(() => gate.prepare({ ...csgCtx, gate: wrongGate }), /must be \[64, 10\].*got \[64, 3\]/);
  wrongGate.dispose();
  gate.prepare(csgCtx);
  const rgb = torch.zeros([2, 3, 8, 8]);
  assert.throws(() => gate.score(rgb), /images must be \[N, 1, H, W\], got \[2, 3, 8, 8\]/);
  rgb.dispose(); gate.dispose();
  assert.throws(() => createDetector('mahalanobis', { mahalanobisNoise: -1 }), /noise must be a finite number >= 0/);
  assert.throws(() => createDetector('squeeze', { squeezeBits: 0 }), /bits must be an integer in \[1, 16\]/);
  assert.throws(() => createDetector('gate', { batchSize: 0 }), /batchSize must be a positive integer/);
  const maha = createDetector('mahalanobis');
  const zeros = torch.zeros([12], { dtype: 'int64' });
  assert.throws(() => maha.prepare({ ...stdCtx, trainBatches: () => [{ x01: x, labels: zeros }] }), /no sample of class 1, 2/);
  zeros.dispose();
  assert.throws(() => maha.prepare({ ...stdCtx, trainBatches: () => [] }), /trainBatches gave no images/);
});

test('memory stays flat over repeated scoring', () => {
  const ds = DETECTOR_NAMES.map((n) => createDetector(n, { mahalanobisNoise: 0.01 }));
  for (const d of ds) { d.prepare(csgCtx); d.fit(x, flags); }
  const run = (): void => { for (const d of ds) d.score(x); };
  run();
  const live = torch.liveTensors();
  for (let i = 0; i < 3; i++) run();
  assert.equal(torch.liveTensors(), live);
  for (const d of ds) d.dispose();
});
