// Model definitions vs PyTorch (goldens from scripts/golden/nn_models.py, whose ImageNet ResNets are
// checked there against torchvision and whose CIFAR ResNet against ../shared/reference): state-dict
// names, shapes and dtypes, parameter counts, top-level children, feature-map shapes, seeded
// initialization equal to PyTorch's, and a ResNet-20 forward/backward from the same weights
// (train-mode logits, loss, parameter gradients, updated running stats, then eval-mode logits).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goldenPath, loadGolden, assertClose } from './helpers.js';
import { Tensor, zeros, randn, tidy, noGrad, manualSeed, F } from '../src/torch/index.js';
import { loadSafetensors } from '../src/torch/io/safetensors.js';
import { Linear } from '../src/torch/nn/index.js';
import { createModel, modelNames, modelInfo, MODEL_NAMES, freezeAllButTopChildren, type CsgBackbone } from '../src/models/index.js';

const nums = (t: Tensor) => Array.from(t.toFloat64Array());
// __metadata__: the build information of the golden (scripts/golden/build_info.py), not a model.
const { __metadata__: _build, ...MODELS }: Record<string, { inChannels: number; numClasses: number; probeSize: number; state: [string, number[], string][];
  numParameters: number; children: string[]; featuresShape: number[] }> = loadGolden('models.json');

test('registry: names, recommended input sizes, clear errors', () => {
  assert.deepEqual(modelNames(), ['resnet20', 'resnet32', 'resnet44', 'resnet56', 'resnet110', 'resnet18', 'resnet34', 'resnet50',
    'resnet101', 'resnet152', 'vgg11_bn', 'vgg16_bn', 'lenet']);
  assert.deepEqual(MODEL_NAMES, modelNames());
  assert.deepEqual(Object.keys(MODELS).sort(), modelNames().sort());
  assert.equal(modelInfo('resnet20').inputSize, 32);
  assert.equal(modelInfo('resnet152').inputSize, 224);
  assert.equal(modelInfo('lenet').inputSize, 28);
  assert.throws(() => createModel('resnet21'), /unknown model 'resnet21'; known models: resnet20, resnet32, .*lenet/);
  assert.throws(() => createModel('vgg11_bn', { inputSize: 28 }), /inputSize 28 is too small \(minimum 32, recommended 32\)/);
  assert.throws(() => createModel('lenet', { numClasses: 0 }), /numClasses must be a positive integer/);
});

for (const name of Object.keys(MODELS)) {
  test(`${name}: state-dict names/shapes/dtypes, parameter count, children, features shape match PyTorch`, () => {
    const g = MODELS[name];
    const m = createModel(name, { inChannels: g.inChannels, numClasses: g.numClasses });
    const sd = m.stateDict();
    assert.deepEqual(Object.keys(sd), g.state.map(([k]) => k), 'state-dict names in order');
    for (const [k, shape, dtype] of g.state) {
      assert.deepEqual(sd[k].shape, shape, `${k} shape`);
      assert.equal(sd[k].dtype, dtype, `${k} dtype`);
    }
    assert.equal(m.numParameters(), g.numParameters);
    assert.deepEqual(m.topChildren(), g.children);
    assert.equal(m.numClasses, g.numClasses);
    assert.ok(m.fc instanceof Linear);
    assert.equal(m.fc.inFeatures, m.numFilters);
    m.eval();
    tidy(() => noGrad(() => {
      const x = zeros([1, g.inChannels, g.probeSize, g.probeSize]);
      const f = m.features(x);
      assert.deepEqual(f.shape, g.featuresShape);
      assert.equal(f.shape[1], m.numFilters);
      assert.deepEqual(m.head(f).shape, [1, g.numClasses]);
    }));
    m.dispose();
  });
}

test('parameter counts: resnet20 ~0.27M (10 classes), resnet18 11,689,512 (1000 classes)', () => {
  assert.equal(MODELS.resnet20.numParameters, 272474);
  assert.equal(MODELS.resnet18.numParameters, 11689512);
});

const INIT = loadGolden('nn_init.json').models as Record<string, { inChannels: number; numClasses: number; seed: number;
  params: Record<string, { shape: number[]; sum: number; abs: number; first: number[] }> }>;

for (const [name, g] of Object.entries(INIT)) {
  test(`${name}: seeded construction gives PyTorch's initial weights`, () => {
    manualSeed(g.seed);
    const m = createModel(name, { inChannels: g.inChannels, numClasses: g.numClasses });
    const sd = m.stateDict();
    for (const [k, s] of Object.entries(g.params)) {
      const v = nums(sd[k]);
      assertClose(v.slice(0, s.first.length), s.first, 0, 0, `${name} ${k} first values`);
      const sum = v.reduce((a, b) => a + b, 0), abs = v.reduce((a, b) => a + Math.abs(b), 0);
      assertClose([sum, abs], [s.sum, s.abs], 1e-5, 1e-7, `${name} ${k} sum / abs sum`);
    }
    m.dispose();
  });
}

test('zeroInitResidual zeroes the last BN weight of every residual block', () => {
  for (const [name, last] of [['resnet20', 'bn2'], ['resnet50', 'bn3']] as const) {
    const m = createModel(name, { zeroInitResidual: true, numClasses: 10 });
    const names = Object.keys(m.stateDict()).filter((k) => k.endsWith(`.${last}.weight`) && k.startsWith('layer'));
    assert.ok(names.length > 0);
    for (const k of names) assert.ok(nums(m.stateDict()[k]).every((v) => v === 0), k);
    m.dispose();
  }
});

test('ResNet-20 parity: same weights give PyTorch logits, loss, gradients and running stats', () => {
  const { tensors: T, metadata } = loadSafetensors(goldenPath('resnet20_parity.safetensors'));
  const m = createModel('resnet20', { inChannels: 1, numClasses: 10 });
  const weights: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(T)) if (k.startsWith('w.')) weights[k.slice(2)] = v;
  assert.equal(weights['conv1.weight'].dtype, 'float16', 'the golden weights are stored as F16');
  m.loadStateDict(weights);
  assert.equal(m.stateDict()['conv1.weight'].dtype, 'float32');
  m.train();
  tidy(() => {
    const logits = m.call(T.x);
    assertClose(nums(logits), nums(T.logits_train), 1e-4, 1e-4, 'train-mode logits');
    const loss = F.crossEntropy(logits, T.labels);
    assertClose([loss.item()], nums(T.loss), 1e-5, 1e-5, 'loss');
    loss.backward();
  });
  const order: string[] = JSON.parse(metadata.param_order);
  const named = m.namedParameters();
  assert.deepEqual(named.map(([n]) => n), order);
  const stats = nums(T.gradstats);
  named.forEach(([n, p], i) => {
    const g = p.grad!;
    const v = nums(g);
    const s = [v.reduce((a, b) => a + b, 0), v.reduce((a, b) => a + Math.abs(b), 0), Math.sqrt(v.reduce((a, b) => a + b * b, 0))];
    assertClose(s, stats.slice(3 * i, 3 * i + 3), 1e-4, 1e-3, `grad stats of ${n}`);
    const full = T[`grad.${n}`];
    if (full) assertClose(v, nums(full), 1e-4, 1e-3, `grad of ${n}`);
    g.dispose();
  });
  for (const k of ['bn1', 'layer2.0.downsample.1', 'layer3.2.bn2']) {
    for (const b of ['running_mean', 'running_var', 'num_batches_tracked']) {
      assertClose(nums(m.stateDict()[`${k}.${b}`]), nums(T[`after.${k}.${b}`]), 1e-5, 1e-4, `${k}.${b} after the train step`);
    }
  }
  m.eval();
  tidy(() => noGrad(() => {
    assertClose(nums(m.call(T.x)), nums(T.logits_eval), 1e-4, 1e-4, 'eval-mode logits');
    assertClose(nums(m.features(T.x).narrow(1, 0, 4)), nums(T.features_eval), 1e-4, 1e-4, 'eval-mode features');
  }));
  for (const t of Object.values(T)) t.dispose();
  m.dispose();
});

test('CsgBackbone: forward = head(features), topChildren, freezeAllButTopChildren', () => {
  manualSeed(0);
  for (const name of ['resnet20', 'vgg11_bn', 'lenet', 'resnet18']) {
    const m: CsgBackbone = createModel(name, { inChannels: 3, numClasses: 4 });
    m.eval();
    tidy(() => noGrad(() => {
      const x = randn([2, 3, 32, 32]);
      const f = m.features(x);
      assert.ok(nums(f).every((v) => v >= 0), 'features are after a ReLU');
      assertClose(nums(m.call(x)), nums(m.head(f)), 1e-6, 0, `${name} forward`);
    }));
    m.dispose();
  }
  const r = createModel('resnet18', { numClasses: 5 });
  assert.deepEqual(freezeAllButTopChildren(r, 5), ['layer2', 'layer3', 'layer4', 'avgpool', 'fc']);
  const trainable = new Set(r.namedParameters().filter(([, p]) => p.requiresGrad).map(([n]) => n.split('.')[0]));
  assert.deepEqual([...trainable], ['layer2', 'layer3', 'layer4', 'fc']);
  assert.throws(() => freezeAllButTopChildren(r, 11), /n must be an integer in \[0, 10\]/);
  r.dispose();
});
