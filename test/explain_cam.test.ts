// Score-CAM, XGrad-CAM, LayerCAM, EigenCAM, HiResCAM and Ablation-CAM against pytorch-grad-cam's own classes:
// scripts/golden/explain_cam.py runs them on explain.py's ResNet-20 and images at the default target layer
// (layer3, the last feature map) and at layer2.1, taking pytorch-grad-cam's cam from its internals before
// its min-max normalization (scale_cam_image replaced by a raw bilinear upsampling, the script says why),
// so csgnet's raw maps are compared as they are, elementwise: atol 1e-5 x the map's maximum, rtol 1e-4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose, goldenPath } from './helpers.js';
import { loadGoldenResnet20 } from './support/golden_model.js';
import * as torch from '../src/torch/index.js';
import type { Tensor } from '../src/torch/index.js';
import { loadSafetensors } from '../src/torch/io/safetensors.js';
import { createModel, layerNames, modelInfo, modelNames, splitAt } from '../src/models/index.js';
import { AblationCam, ActivMap, Cam, CsgCam, EigenCam, GradCam, GradMap, HiResCam, LayerCam, ScoreCam, XGradCam, type Explainer, type ExplainerOptions } from '../src/explain/index.js';

const nums = (t: Tensor): number[] => Array.from(t.toFloat64Array());
const { tensors: T, metadata } = loadSafetensors(goldenPath('explain_cam.safetensors'));
const model = loadGoldenResnet20(metadata as Record<string, string>, 'explain_cam.safetensors', 'explain_cam.py');
const x = T.x!, labels = T.labels!;

const METHODS: [string, new (m: typeof model, o?: ExplainerOptions) => Explainer][] = [
  ['scorecam', ScoreCam], ['xgradcam', XGradCam], ['layercam', LayerCam], ['eigencam', EigenCam], ['hirescam', HiResCam], ['ablationcam', AblationCam],
];
const LAYERS: [string | undefined, string][] = [[undefined, ''], ['layer2.1', '_layer2_1']];

function close(actual: Tensor, expected: Tensor, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const e = nums(expected);
  assertClose(nums(actual), e, 1e-5 * Math.max(...e.map(Math.abs)), 1e-4, what);
}

/** EigenCAM's expected map: the reference's, or its flipped projection where csgnet's sign convention flips it. */
function eigenExpected(suffix: string): Tensor {
  return torch.tidy(() => {
    const flip = T[`eigencam_sign${suffix}`]!.lt(0).reshape(-1, 1, 1);
    return torch.where(flip, T[`eigencam_flipped${suffix}`]!, T[`eigencam${suffix}`]!);
  });
}

test('the golden was produced by pytorch-grad-cam itself, for every method', () => {
  const m = JSON.parse(metadata.methods!);
  for (const [name] of METHODS) {
    assert.equal(m[name].reference, 'jacobgil/pytorch-grad-cam');
    assert.equal(m[name].produced_by, 'reference');
    assert.match(m[name].commit, /^[0-9a-f]{40}$/);
  }
});

for (const [layer, suffix] of LAYERS) {
  test(`every CAM-family map equals pytorch-grad-cam's at ${layer ?? 'the default layer (layer3)'}`, () => {
    for (const [name, E] of METHODS) {
      const r = new E(model, { layer }).explain(x, labels);
      assert.deepEqual(r.maps.shape, [4, 16, 16]);
      assert.deepEqual(nums(r.targets), nums(labels));
      assert.equal(r.maps.requiresGrad, false, `${name}: maps carry no graph`);
      const expected = name === 'eigencam' ? eigenExpected(suffix) : T[name + suffix]!;
      close(r.maps, expected, `${name}${suffix}`);
      if (name === 'eigencam') expected.dispose();
      r.maps.dispose(); r.targets.dispose();
    }
  });
}

test('maps do not depend on the batch size of Score-CAM / Ablation-CAM, nor on the images batched with them', () => {
  for (const E of [ScoreCam, AblationCam]) {
    const a = new E(model, { batchSize: 7 }).explain(x, labels);
    const one = torch.tidy(() => new E(model, { batchSize: 1000 }).explain(x.narrow(0, 2, 1), labels.narrow(0, 2, 1)).maps);
    const name = E === ScoreCam ? 'scorecam' : 'ablationcam';
    close(a.maps, T[name]!, `${name}, batchSize 7`);
    torch.tidy(() => close(one, a.maps.narrow(0, 2, 1), `${name}, one image alone`));
    a.maps.dispose(); a.targets.dispose(); one.dispose();
  }
});

test('HiResCAM equals Grad-CAM at the last feature map (GAP + linear head), not at layer2.1', () => {
  const [h, g] = [new HiResCam(model).explain(x, labels), new GradCam(model).explain(x, labels)];
  close(h.maps, g.maps, 'hirescam vs gradcam');
  const [h2, g2] = [new HiResCam(model, { layer: 'layer2.1' }).explain(x, labels), new GradCam(model, { layer: 'layer2.1' }).explain(x, labels)];
  assert.ok(torch.tidy(() => h2.maps.sub(g2.maps).abs().max().item()) > 1e-3, 'different at an earlier layer');
  for (const r of [h, g, h2, g2]) { r.maps.dispose(); r.targets.dispose(); }
});

test("every model's feature stages chain to its features(); every layer name splits it exactly", () => {
  // One model per family (the deeper ResNets and VGG-16 are the same code with more blocks)
  for (const name of ['resnet20', 'vgg11_bn', 'lenet']) {
    assert.ok(modelNames().includes(name));
    torch.manualSeed(0);
    const m = createModel(name, { inChannels: 1, numClasses: 3 }).eval();
    const s = modelInfo(name).inputSize;
    torch.tidy(() => torch.noGrad(() => {
      const xi = torch.randn([2, 1, s, s]);
      const whole = m.call(xi);
      for (const layer of layerNames(m)) {
        const cut = splitAt(m, layer);
        const a = cut.prefix(xi);
        assert.equal(a.ndim, 4, `${name} ${layer}: a feature map`);
        assertClose(nums(cut.suffix(a)), nums(whole), 1e-5, 1e-5, `${name} cut at ${layer}`);
      }
    }));
    m.dispose();
  }
  assert.deepEqual(layerNames(model).slice(0, 8), ['conv1', 'bn1', 'relu', 'layer1', 'layer1.0', 'layer1.1', 'layer1.2', 'layer2']);
});

test('bad layers are refused with the valid names; last-layer methods refuse another layer', () => {
  for (const bad of ['layer4', 'layer3.1.conv1', 'fc', '']) {
    assert.throws(() => new LayerCam(model, { layer: bad }), (e: Error) => e.message.includes(`layer '${bad}'`) && e.message.includes('valid layers: conv1, bn1, relu, layer1, layer1.0'), bad);
  }
  const G = torch.zeros([64, 10]);
  for (const make of [() => new Cam(model, { layer: 'layer2' }), () => new CsgCam(model, G, { layer: 'layer2' }), () => new ActivMap(model, { layer: 'layer2' }),
    () => new GradMap(model, Array.from({ length: 10 }, () => [0]), { layer: 'layer2' })]) {
    assert.throws(make, /layer 'layer2': \w+ explains the last feature map only/);
  }
  // the last stage is the default layer, for every method
  const [a, b] = [new Cam(model, { layer: 'layer3' }).explain(x, labels), new Cam(model).explain(x, labels)];
  assert.deepEqual(nums(a.maps), nums(b.maps));
  for (const r of [a, b]) { r.maps.dispose(); r.targets.dispose(); }
  assert.throws(() => new ScoreCam(model, { batchSize: 0 }), /batchSize must be a positive integer, got 0/);
  G.dispose();
});

test('no tensors or gradient tapes leak', () => {
  const explainers = METHODS.flatMap(([, E]) => [new E(model), new E(model, { layer: 'layer2.1', target: 'prediction' })]);
  for (const e of explainers) { const r = e.explain(x, labels); r.maps.dispose(); r.targets.dispose(); }   // warm-up
  const before = torch.liveTensors();
  for (const e of explainers) { const r = e.explain(x, labels); r.maps.dispose(); r.targets.dispose(); }
  assert.equal(torch.liveTensors(), before, 'live tensors after explaining');
  for (const [n, p] of model.namedParameters()) assert.equal(p.grad, null, `${n}: no .grad accumulated`);
});
