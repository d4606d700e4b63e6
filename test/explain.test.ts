// Explainers (src/explain) against PyTorch: scripts/golden/explain.py computes every map on the ResNet-20
// of resnet20_parity.safetensors (eval mode) for 4 seeded 1x16x16 images. The maps are forward or
// first-gradient quantities (float32 vs float64 gap in PyTorch itself <= 1e-6 of each map's maximum, see
// the golden's metadata), so they are compared elementwise with atol 1e-4 x the map's maximum, rtol 1e-4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose, goldenPath } from './helpers.js';
import { loadGoldenResnet20 } from './support/golden_model.js';
import * as torch from '../src/torch/index.js';
import type { Tensor } from '../src/torch/index.js';
import { loadSafetensors } from '../src/torch/io/safetensors.js';
import type { CsgBackbone } from '../src/models/index.js';
import { ActivMap, Cam, CsgCam, FilterClassStats, GradCam, GradCamPlusPlus, GradMap, activationThresholds, gradMapBlur, type Explainer } from '../src/explain/index.js';
import { ClassSpecificGate } from '../src/csg/gate.js';

const nums = (t: Tensor): number[] => Array.from(t.toFloat64Array());
const { tensors: T, metadata } = loadSafetensors(goldenPath('explain.safetensors'));

function loadModel(): CsgBackbone {
  return loadGoldenResnet20(metadata as Record<string, string>, 'explain.safetensors', 'explain.py');
}

const model = loadModel();
const x = T.x!, labels = T.labels!;

function close(actual: Tensor, expected: Tensor, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const e = nums(expected);
  const scale = Math.max(...e.map(Math.abs));
  assertClose(nums(actual), e, 1e-4 * scale, 1e-4, what);
}

function disposeAll(r: { maps: Tensor; targets: Tensor; filters?: Tensor }): void { r.maps.dispose(); r.targets.dispose(); r.filters?.dispose(); }

test('the golden model is the one csgnet loads: same logits', () => {
  torch.tidy(() => torch.noGrad(() => close(model.call(x), T.logits!, 'logits')));
});

test('CAM, Grad-CAM and Grad-CAM++ for the ground-truth class match pytorch-grad-cam\'s formulas', () => {
  for (const [E, key] of [[Cam, 'cam'], [GradCam, 'gradcam'], [GradCamPlusPlus, 'gradcampp']] as const) {
    const r = new E(model).explain(x, labels);
    assert.deepEqual(r.maps.shape, [4, 16, 16]);
    assert.deepEqual(nums(r.targets), nums(labels));
    assert.equal(r.maps.requiresGrad, false, `${key}: maps carry no graph`);
    close(r.maps, T[key]!, key);
    disposeAll(r);
  }
});

test("target 'prediction' explains the argmax class; labels are optional then", () => {
  const pred = torch.tidy(() => T.logits!.argmax(1));
  for (const [E, key] of [[Cam, 'cam_pred'], [GradCam, 'gradcam_pred'], [GradCamPlusPlus, 'gradcampp_pred']] as const) {
    const r = new E(model, { target: 'prediction' }).explain(x);
    assert.deepEqual(nums(r.targets), nums(pred));
    close(r.maps, T[key]!, key);
    disposeAll(r);
  }
  pred.dispose();
});

test('CSG-CAM with a CSG gate, and with the mean-activation assignment of an STD model', () => {
  const r = new CsgCam(model, T.G!).explain(x, labels);
  close(r.maps, T.csgcam!, 'csgcam (G)');
  disposeAll(r);
  const gate = new ClassSpecificGate(64, 10);
  torch.noGrad(() => gate.weight.copy_(T.G!));
  const viaGate = new CsgCam(model, gate);
  const r2 = viaGate.explain(x, labels);
  close(r2.maps, T.csgcam!, 'csgcam (ClassSpecificGate)');
  disposeAll(r2); viaGate.dispose(); gate.weight.dispose();

  const stats = FilterClassStats.of(model, [{ x, labels }]);
  const mean = stats.meanActivation(), expected = nums(T.mean_act!);
  assert.deepEqual(Array.from(mean, Number.isNaN), expected.map((v) => Number.isNaN(v)), 'classes without images are NaN');
  assertClose(Array.from(mean).filter((v) => !Number.isNaN(v)), expected.filter((v) => !Number.isNaN(v)), 1e-5, 1e-4, 'mean activation');
  const G = stats.assignmentGate();
  assert.deepEqual(nums(G), nums(T.std_gate!), 'STD assignment gate');
  const std = new CsgCam(model, G);
  const r3 = std.explain(x, labels);
  close(r3.maps, T.csgcam_std!, 'csgcam (STD assignment)');
  disposeAll(r3); std.dispose(); G.dispose();
  assert.throws(() => new CsgCam(model, torch.zeros([10, 64])), /gate must be \[64, 10\]/);
});

test('ActivMap: every filter upsampled; per-filter thresholds T_k, also accumulated over batches', () => {
  const r = new ActivMap(model).explain(x, labels);
  assert.deepEqual(r.maps.shape, [4, 64, 16, 16]);
  assert.deepEqual(r.filters!.shape, [4, 64]);
  assert.deepEqual(nums(r.filters!.select(0, 3)), Array.from({ length: 64 }, (_, k) => k));
  torch.tidy(() => close(r.maps.narrow(1, 0, 16), T.activmap16!, 'activmap (first 16 filters)'));
  disposeAll(r);
  const t1 = activationThresholds(model, [{ x }]);
  close(t1, T.activ_thresholds!, 'T_k');
  const halves = torch.tidy(() => [{ x: x.narrow(0, 0, 1) }, { x: x.narrow(0, 1, 3) }]);
  const t2 = activationThresholds(model, halves);
  close(t2, t1, 'the same thresholds from two batches (another batch size may round convolutions differently)');
  t1.dispose(); t2.dispose(); for (const h of halves) h.x.dispose();
});

test('GradMap: top-30 filters per class, batched input gradients, RMS normalization and blur match the per-image definition', () => {
  assert.deepEqual(gradMapBlur(128, 128), { kernelSize: 61, sigma: 30 });
  assert.deepEqual(gradMapBlur(16, 16), { kernelSize: 9, sigma: 3.75 });
  assert.deepEqual(JSON.parse(metadata.blur!), [9, 3.75]);
  const stats = FilterClassStats.of(model, [{ x, labels }]);
  const top = stats.topFilters(30);
  assert.equal(top[0]!.length, 30);
  const r = new GradMap(model, top).explain(x, labels);
  assert.deepEqual(r.maps.shape, [4, 30, 16, 16]);
  assert.deepEqual(nums(r.filters!), nums(T.gradmap_filters!), 'filters per image');
  close(r.maps, T.gradmap!, 'gradmap');
  assert.equal(r.maps.requiresGrad, false);
  disposeAll(r);
  assert.equal(new FilterClassStats(8, 3).topFilters(30)[0]!.length, 8, 'fewer filters than 30: all of them');

  // images grouped by class inside: a shuffled batch must come back in its own order
  const perm = torch.tensor([3, 1, 0, 2], { dtype: 'int64' });
  const [xp, yp, expected] = torch.tidy(() => [x.indexSelect(0, perm), labels.indexSelect(0, perm), T.gradmap!.indexSelect(0, perm)]);
  const rp = new GradMap(model, top).explain(xp!, yp!);
  close(rp.maps, expected!, 'gradmap of a shuffled batch');
  disposeAll(rp);
  // target 'prediction' is GradMap with the predicted classes as labels
  const pred = torch.tidy(() => T.logits!.argmax(1));
  const a = new GradMap(model, top, { target: 'prediction' }).explain(x), b = new GradMap(model, top).explain(x, pred);
  assert.deepEqual(nums(a.targets), nums(pred));
  assert.deepEqual(nums(a.maps), nums(b.maps));
  disposeAll(a); disposeAll(b);
  for (const t of [perm, xp!, yp!, expected!, pred]) t.dispose();
});

test('no tensors or gradient tapes leak; CAM, CSG-CAM and ActivMap run entirely without gradient recording', () => {
  const stats = FilterClassStats.of(model, [{ x, labels }]);
  const G = stats.assignmentGate();
  const explainers: Explainer[] = [new Cam(model), new GradCam(model), new GradCamPlusPlus(model), new CsgCam(model, G), new ActivMap(model),
    new GradMap(model, stats.topFilters(30)), new GradCam(model, { target: 'prediction' })];
  for (const e of explainers) disposeAll(e.explain(x, labels));   // warm-up
  const before = torch.liveTensors();
  for (const e of explainers) disposeAll(e.explain(x, labels));
  assert.equal(torch.liveTensors(), before, 'live tensors after explaining');
  for (const [n, p] of model.namedParameters()) assert.equal(p.grad, null, `${n}: no .grad accumulated`);

  const seen: boolean[] = [];
  const orig = { features: model.features, head: model.head };
  model.features = (t: Tensor) => { seen.push(torch.isGradEnabled()); return orig.features.call(model, t); };
  model.head = (t: Tensor) => { seen.push(torch.isGradEnabled()); return orig.head.call(model, t); };
  try {
    for (const e of [new Cam(model), new CsgCam(model, G), new ActivMap(model), new Cam(model, { target: 'prediction' })]) disposeAll(e.explain(x, labels));
    assert.ok(seen.length >= 8 && seen.every((v) => v === false), `grad mode during features/head: ${seen}`);
  } finally {
    model.features = orig.features; model.head = orig.head;
  }
  G.dispose();
});

test('bad use is refused with a clear message', () => {
  assert.throws(() => new Cam(model).explain(x), /target 'label' needs the labels/);
  assert.throws(() => new Cam(model).explain(x, torch.tensor([0, 1, 2, 3], { dtype: 'int32' })), /labels must be int64 \[4\]/);
  assert.throws(() => new Cam(model, { target: 'best' as never }), /target must be one of label, prediction/);
  assert.throws(() => new GradMap(model, [[0]]), /one list per class/);
  model.train();
  try { assert.throws(() => new GradCam(model).explain(x, labels), /training mode; call model.eval\(\)/); } finally { model.eval(); }
});
