// Input attributions (src/explain: saliency, ig, smoothgrad, occlusion) against Captum itself:
// scripts/golden/explain_attr.py runs captum.attr's Saliency, IntegratedGradients (riemann_trapezoid),
// NoiseTunnel(smoothgrad) and Occlusion on explain.py's parity ResNet-20 (eval mode), on 1-channel images
// and on 3-channel images through a fixed channel mix (so that the channel reductions matter). SmoothGrad's
// noise is torch's own generator after torch.manual_seed(seed) in both, so it is compared elementwise too.
// Elementwise with atol 1e-4 x the map's maximum and rtol 1e-4 (float32; batch sizes differ from
// Captum's, which moves convolutions by rounding only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose, goldenPath } from './helpers.js';
import { loadGoldenResnet20 } from './support/golden_model.js';
import * as torch from '../src/torch/index.js';
import type { Tensor } from '../src/torch/index.js';
import { loadSafetensors } from '../src/torch/io/safetensors.js';
import type { CsgBackbone } from '../src/models/index.js';
import {
  ATTRIBUTION_METHODS, IntegratedGradients, Occlusion, Saliency, SmoothGrad, createAttribution, trapezoidRule, windowOffsets, type Explainer,
} from '../src/explain/index.js';

const nums = (t: Tensor): number[] => Array.from(t.toFloat64Array());
const { tensors: T, metadata } = loadSafetensors(goldenPath('explain_attr.safetensors'));
const model = loadGoldenResnet20(metadata as Record<string, string>, 'explain_attr.safetensors', 'explain_attr.py');
const x = T.x!, xRgb = T.x_rgb!, labels = T.labels!;

/** The 3-channel model of the golden: sum_c mix[c] x[:, c] into the 1-channel ResNet-20. */
function mixed(m: CsgBackbone): CsgBackbone {
  const mix = torch.keep(T.mix!.reshape(1, 3, 1, 1));
  const r = Object.create(m) as CsgBackbone;
  r.features = (t: Tensor) => torch.tidy(() => m.features(t.mul(mix).sum(1, true)));
  return r;
}
const rgb = mixed(model);

function close(actual: Tensor, expected: Tensor, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const e = nums(expected);
  const scale = Math.max(...e.map(Math.abs));
  assertClose(nums(actual), e, 1e-4 * scale, 1e-4, what);
}

function check(e: Explainer, input: Tensor, key: string, ys: Tensor | undefined = labels): void {
  const r = e.explain(input, ys);
  assert.equal(r.maps.requiresGrad, false, `${key}: maps carry no graph`);
  close(r.maps, T[key]!, key);
  r.maps.dispose(); r.targets.dispose();
}

test('the golden records Captum as its reference, with the commit', () => {
  const methods = JSON.parse(metadata.methods!);
  for (const m of ATTRIBUTION_METHODS) {
    assert.equal(methods[m].reference, 'pytorch/captum');
    assert.equal(methods[m].produced_by, 'reference');
    assert.match(methods[m].commit, /^[0-9a-f]{40}$/);
  }
});

test("saliency equals Captum's Saliency(abs=True), max over channels; target 'prediction' too", () => {
  check(new Saliency(model), x, 'saliency');
  check(new Saliency(rgb), xRgb, 'saliency_rgb');
  check(new Saliency(model, { target: 'prediction' }), x, 'saliency_pred', undefined);
  check(new Saliency(model, { internalBatch: 3 }), x, 'saliency');   // in passes of 3 images
});

test("Integrated Gradients equals Captum's riemann_trapezoid: zero and blurred baselines, any pass size", () => {
  const { alphas, steps } = trapezoidRule(4);
  assert.deepEqual(alphas.map((a) => +a.toFixed(6)), [0, 0.333333, 0.666667, 1]);
  assert.deepEqual(steps, [0.125, 0.25, 0.25, 0.125].map(Math.fround));
  check(new IntegratedGradients(model), x, 'ig');   // Captum's n_steps default 50
  check(new IntegratedGradients(model, { steps: 50, internalBatch: 9 }), x, 'ig');   // 2 steps of 4 images per pass
  check(new IntegratedGradients(rgb, { steps: 16, baseline: 'blur', blurSigma: 2 }), xRgb, 'ig_blur_rgb');
  check(createAttribution('ig', rgb, { igSteps: 16, igBaseline: 'blur' }), xRgb, 'ig_blur_rgb');   // default sigma 16 / 8
  assert.throws(() => new IntegratedGradients(model, { steps: 1 }), /ig: steps must be an integer > 1/);
  assert.throws(() => new IntegratedGradients(model, { baseline: 'mean' as never }), /baseline must be one of zero, blur/);
});

test("SmoothGrad equals Captum's NoiseTunnel(Saliency) after torch.manual_seed, and leaves torch's generator alone", () => {
  torch.manualSeed(123);
  const before = torch.tidy(() => nums(torch.randn([4])));
  torch.manualSeed(123);
  check(new SmoothGrad(model, { samples: 8, noise: 0.5, seed: 3 }), x, 'smoothgrad');
  check(createAttribution('smoothgrad', rgb, { smoothgradSamples: 5, smoothgradNoise: 1, smoothgradSeed: 0, internalBatch: 7 }), xRgb, 'smoothgrad_rgb');
  assert.deepEqual(torch.tidy(() => nums(torch.randn([4]))), before, "the caller's generator continues as if untouched");
  // one explainer continues its own stream: a second call draws new noise, a new explainer repeats the first
  const sg = new SmoothGrad(model, { samples: 4, noise: 0.5 });
  const [a, b] = [sg.explain(x, labels), sg.explain(x, labels)];
  const c = new SmoothGrad(model, { samples: 4, noise: 0.5 }).explain(x, labels);
  assert.notDeepEqual(nums(a.maps), nums(b.maps));
  assert.deepEqual(nums(a.maps), nums(c.maps));
  for (const r of [a, b, c]) { r.maps.dispose(); r.targets.dispose(); }
  sg.dispose();
});

test("occlusion equals Captum's Occlusion (window over all channels, baseline 0), windows cut at the border", () => {
  assert.deepEqual(windowOffsets(16, 5, 3), [0, 3, 6, 9, 12]);   // the last window covers 12..15 only
  check(new Occlusion(model, { window: 5, stride: 3 }), x, 'occlusion');
  check(new Occlusion(model, { window: 5, stride: 3, internalBatch: 10 }), x, 'occlusion');   // 2 positions x 4 images per pass
  check(createAttribution('occlusion', rgb, { occlusionWindow: 4, occlusionStride: 4 }), xRgb, 'occlusion_rgb');
  assert.throws(() => new Occlusion(model, { window: 4, stride: 5 }), /stride \(5\) must not exceed the window \(4\)/);
  assert.throws(() => new Occlusion(model, { window: 32 }).explain(x, labels), /window \(32\) is larger than the 16x16 images/);
});

test('no tensors, gradient tapes or parameter gradients leak', () => {
  const all = ATTRIBUTION_METHODS.map((m) => createAttribution(m, model, { igSteps: 4, smoothgradSamples: 2, occlusionWindow: 4, internalBatch: 6 }));
  for (const e of all) { const r = e.explain(x, labels); r.maps.dispose(); r.targets.dispose(); }   // warm-up
  const before = torch.liveTensors();
  for (const e of all) {
    const r = e.explain(x, labels);
    assert.deepEqual(r.maps.shape, [4, 16, 16], `${e.name}: [N, H, W] at the input's size`);
    r.maps.dispose(); r.targets.dispose();
  }
  assert.equal(torch.liveTensors(), before, 'live tensors after explaining');
  for (const [n, p] of model.namedParameters()) assert.equal(p.grad, null, `${n}: no .grad accumulated`);
  (all[2] as SmoothGrad).dispose();
});
