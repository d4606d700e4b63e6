// Faithfulness metrics (src/metrics/faithfulness) against scripts/golden/faithfulness.py: ROAD and the
// confidence metrics from pytorch-grad-cam's own metric classes, deletion and insertion from RISE's
// CausalMetric re-stated, on the ResNet-20 of resnet20_parity.safetensors with fixed maps stored in the
// golden (continuous ones, and ReLU'd ones with many ties), so the metrics are tested apart from any
// explainer. Metrics to 1e-6 (the golden's ROAD imputer runs without noise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose, goldenPath } from './helpers.js';
import { loadGoldenResnet20 } from './support/golden_model.js';
import * as torch from '../src/torch/index.js';
import type { Tensor } from '../src/torch/index.js';
import { loadSafetensors } from '../src/torch/io/safetensors.js';
import {
  FaithfulnessAccumulator, ROAD_PERCENTILES, causalMetric, checkFaithfulnessMetrics, confidenceChange, evaluateFaithfulness, noisyLinearImpute,
  numpyPercentile, riseKernel, road,
} from '../src/metrics/faithfulness/index.js';

const { tensors: T, metadata } = loadSafetensors(goldenPath('faithfulness.safetensors'));
const model = loadGoldenResnet20(metadata as Record<string, string>, 'faithfulness.safetensors', 'faithfulness.py');
const classify = (x: Tensor) => model.call(x);
const x = T.x!, labels = T.labels!;
const nums = (t: Tensor): number[] => Array.from(t.toFloat64Array());
const KEYS = ['maps', 'maps_ties'] as const;

test('golden metadata names the reference that produced each metric', () => {
  const methods = JSON.parse(metadata.methods!);
  for (const m of ['road', 'drop_in_confidence', 'increase_in_confidence']) {
    assert.deepEqual(methods[m], { reference: 'jacobgil/pytorch-grad-cam', commit: '084273b3f30b54ad0c64cf8020a4337d979a66e0', produced_by: 'reference' });
  }
  for (const m of ['deletion', 'insertion']) assert.equal(methods[m].produced_by, 'reimplementation');
  assert.deepEqual(JSON.parse(metadata.percentiles!), [...ROAD_PERCENTILES]);
});

test("RISE's blur kernel equals scipy's gaussian_filter of a dirac (reflect boundary)", () => {
  assertClose(riseKernel(), nums(T.rise_kernel!), 1e-9, 0, 'kernel');
});

test('deletion and insertion: curves and AUCs as RISE computes them, with ties in a defined order', () => {
  for (const key of KEYS) {
    for (const [mode, baseline, name] of [['deletion', 'mean', 'deletion_mean'], ['insertion', 'blur', 'insertion_blur'],
      ['deletion', 'blur', 'deletion_blur'], ['insertion', 'mean', 'insertion_mean']] as const) {
      const r = causalMetric(mode, classify, x, T[key]!, labels, { baseline });
      assert.equal(r.steps, 16);
      assertClose(r.curves, nums(T[`${name}_curve_${key}`]!), 1e-6, 0, `${name} curve (${key})`);
      assertClose(r.auc, nums(T[`${name}_auc_${key}`]!), 1e-6, 0, `${name} AUC (${key})`);
    }
    // RISE's defaults: deletion to the mean, insertion from the blur
    assertClose(causalMetric('deletion', classify, x, T[key]!, labels).auc, nums(T[`deletion_mean_auc_${key}`]!), 1e-6, 0, 'default deletion');
    assertClose(causalMetric('insertion', classify, x, T[key]!, labels).auc, nums(T[`insertion_blur_auc_${key}`]!), 1e-6, 0, 'default insertion');
    const four = causalMetric('deletion', classify, x, T[key]!, labels, { steps: 4 });
    assert.equal(four.step, 64);
    assertClose(four.auc, nums(T[`deletion_mean_auc4_${key}`]!), 1e-6, 0, `deletion, 4 steps (${key})`);
  }
});

test("numpy's linear percentile, value for value", () => {
  const v = Float32Array.from([0.1, 0.1, 0.3, 0.7, 0.9]);
  assert.equal(numpyPercentile(v, 0), v[0]);
  assert.equal(numpyPercentile(v, 100), v[4]);
  assert.equal(numpyPercentile(v, 25), v[1]);          // index 1 exactly: a tie value
  assert.ok(Math.abs(numpyPercentile(v, 60) - (v[2]! + Math.fround(v[3]! - v[2]!) * 0.4)) < 1e-15);
});

test("ROAD: the noisy linear imputer's solve equals scipy's spsolve (noise 0)", () => {
  for (const key of KEYS) {
    // MoRF at 70: keep the pixels below the 70th percentile of each map
    const maps = T[key]!, [n, h, w] = maps.shape as [number, number, number];
    const m = maps.toFloat64Array(), keep = new Uint8Array(n * h * w);
    for (let i = 0; i < n; i++) {
      const vals = Float32Array.from(m.subarray(i * h * w, (i + 1) * h * w));
      const t = Math.fround(numpyPercentile(Float32Array.from(vals).sort(), 70));
      vals.forEach((v, q) => { keep[i * h * w + q] = v < t ? 1 : 0; });
    }
    const k = torch.fromTypedArray(keep, [n, 1, h, w], { dtype: 'bool' });
    const imputed = noisyLinearImpute(x, k, { noise: 0 });
    assertClose(nums(imputed), nums(T[`road_morf70_imputed_${key}`]!), 1e-6, 1e-6, `imputed (${key})`);
    imputed.dispose(); k.dispose();
    const r = road(classify, x, maps, labels, { percentiles: [70], noise: 0 });
    assertClose(r.morf, nums(T[`road_morf70_${key}`]!), 1e-6, 0, `MoRF 70 (${key})`);
  }
});

test('ROAD MoRF, LeRF and combined over the 9 percentiles match pytorch-grad-cam', () => {
  for (const key of KEYS) {
    const r = road(classify, x, T[key]!, labels, { noise: 0 });
    assertClose(r.morf, nums(T[`road_morf_${key}`]!), 1e-6, 0, `MoRF (${key})`);
    assertClose(r.lerf, nums(T[`road_lerf_${key}`]!), 1e-6, 0, `LeRF (${key})`);
    assertClose(r.combined, nums(T[`road_combined_${key}`]!), 1e-6, 0, `combined (${key})`);
  }
});

test("ROAD's noise: 0.01 x N(0, 1) on the imputed pixels only", () => {
  const keep = torch.tidy(() => torch.rand([6, 1, 16, 16]).gt(0.5));
  torch.manualSeed(3);
  const a = noisyLinearImpute(x, keep, { noise: 0.01 });
  const b = noisyLinearImpute(x, keep, { noise: 0 });
  const d = torch.tidy(() => a.sub(b));
  const kept = torch.tidy(() => d.where(keep, torch.zerosLike(d)).abs().max().item());
  assert.equal(kept, 0, 'kept pixels are untouched');
  const std = torch.tidy(() => { const u = d.where(keep.logicalNot(), torch.zerosLike(d)); return u.square().sum().div(keep.logicalNot().sum()).sqrt().item(); });
  assert.ok(std > 0.008 && std < 0.012, `noise std ${std}`);
  for (const t of [keep, a, b, d]) t.dispose();
});

test('confidence: drop and increase as pytorch-grad-cam (on min-max scaled maps), average drop relative to Y', () => {
  for (const key of KEYS) {
    const c = confidenceChange(classify, x, T[key]!, labels);
    assertClose(c.after, nums(T[`after_mult_${key}`]!), 1e-6, 0, `O (${key})`);
    assertClose(c.before, nums(torch.tidy(() => T.probs!.gather(1, labels.unsqueeze(1)).squeeze(1))), 1e-6, 0, 'Y');
    assertClose(c.drop, nums(T[`drop_${key}`]!), 1e-6, 0, `drop (${key})`);
    assert.deepEqual(Array.from(c.increase), nums(T[`increase_${key}`]!), `increase (${key})`);
    assertClose(c.averageDrop, Array.from(c.drop, (d, i) => d / c.before[i]!), 1e-12, 0, 'average drop');
    assert.ok(c.drop.some((d) => d > 0) && c.increase.some((v) => v === 1), 'the golden has both drops and increases');
  }
});

test('evaluateFaithfulness + the accumulator: per class and overall means of the per-image figures', () => {
  const acc = new FaithfulnessAccumulator();
  for (const [s, e] of [[0, 4], [4, 6]]) {
    torch.tidy(() => acc.add(evaluateFaithfulness(classify, x.narrow(0, s, e - s), T.maps!.narrow(0, s, e - s), labels.narrow(0, s, e - s),
      ['deletion', 'insertion', 'road', 'confidence'], { road: { noise: 0 } })));
  }
  const y = nums(labels), sum = acc.summarize(y, 10);
  const mean = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
  assert.ok(Math.abs(sum.overall.deletionAuc! - mean(nums(T.deletion_mean_auc_maps!))) < 1e-6);
  assert.ok(Math.abs(sum.overall.roadCombined! - mean(nums(T.road_combined_maps!))) < 1e-6);
  const six = y.flatMap((c, i) => (c === 6 ? [nums(T.insertion_blur_auc_maps!)[i]!] : []));
  assert.equal(sum.counts[6], 2);
  assert.ok(Math.abs(sum.perClass[6]!.insertionAuc! - mean(six)) < 1e-6);
  assert.equal(sum.perClass[0], null, 'a class without images');
  assert.deepEqual(Object.keys(sum.overall), ['deletionAuc', 'insertionAuc', 'roadMorf', 'roadLerf', 'roadCombined', 'averageDrop', 'increaseInConfidence', 'dropInConfidence']);
});

test('bad input: clear errors naming what is wrong', () => {
  const maps = T.maps!;
  assert.throws(() => causalMetric('deletion', classify, x, maps.narrow(0, 0, 3), labels), /deletion: maps must be \[6, 16, 16\]/);
  assert.throws(() => road(classify, x, maps, labels.to('float32')), /road: targets must be int64 \[6\]/);
  assert.throws(() => confidenceChange(classify, x.squeeze(1), maps, labels), /confidence: x must be float \[N, C, H, W\]/);
  const nan = torch.tidy(() => maps.where(maps.lt(0.5), torch.fullLike(maps, NaN)));
  assert.throws(() => causalMetric('insertion', classify, x, nan, labels), /insertion: maps hold NaN/);
  nan.dispose();
  assert.throws(() => causalMetric('deletion', classify, x, maps, labels, { steps: 0 }), /steps must be an integer in \[1, 256\]/);
  assert.throws(() => causalMetric('deletion', classify, x, maps, labels, { baseline: 'zero' as never }), /baseline must be one of mean, blur/);
  assert.throws(() => road(classify, x, maps, labels, { percentiles: [110] }), /percentiles must be in \[0, 100\]/);
  assert.throws(() => checkFaithfulnessMetrics(['deletion', 'auc']), /--metrics: unknown metric 'auc' \(known: deletion, insertion, road, confidence\)/);
});

test('no tensors leak', () => {
  const before = torch.liveTensors();
  causalMetric('insertion', classify, x, T.maps!, labels);
  road(classify, x, T.maps!, labels, { percentiles: [50] });
  confidenceChange(classify, x, T.maps!, labels);
  assert.equal(torch.liveTensors(), before);
});
