// torch.nn parity with PyTorch (goldens from scripts/golden/nn_models.py): every layer's forward and
// the gradients of sum(out * r) w.r.t. input and parameters (BatchNorm in train mode incl. updated
// running stats, eval, cumulative momentum, no stats), seeded default initialization equal to
// PyTorch's, init statistics, and the Module API (names, state dicts, loading errors, freezing, ...).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goldenPath, loadGolden, assertClose } from './helpers.js';
import { Tensor, tensor, randn, zeros, tidy, noGrad, manualSeed, F, liveTensors } from '../src/torch/index.js';
import { loadSafetensors } from '../src/torch/io/safetensors.js';
import {
  Module, Conv2d, Linear, BatchNorm2d, ReLU, LeakyReLU, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Dropout,
  Identity, Sequential, init,
} from '../src/torch/nn/index.js';

const nums = (t: Tensor) => Array.from(t.toFloat64Array());

const L = loadSafetensors(goldenPath('nn_layers.safetensors'));
const G = L.tensors;
const CONFIGS: Record<string, { train: boolean; steps: number }> = JSON.parse(L.metadata.configs);

const BUILD: Record<string, () => Module> = {
  conv_a: () => new Conv2d(3, 4, 3, { stride: 2, padding: 1 }),
  conv_b: () => new Conv2d(4, 6, [3, 2], { stride: [1, 2], padding: [2, 1], dilation: 2, groups: 2, bias: false }),
  linear: () => new Linear(5, 3),
  linear_nobias: () => new Linear(5, 3, { bias: false }),
  bn_train: () => new BatchNorm2d(3),
  bn_eval: () => new BatchNorm2d(3),
  bn_cma: () => new BatchNorm2d(3, { momentum: null, eps: 1e-3 }),
  bn_nostats: () => new BatchNorm2d(3, { affine: false, trackRunningStats: false }),
  relu: () => new ReLU(),
  leaky_relu: () => new LeakyReLU(0.2),
  maxpool_a: () => new MaxPool2d(3, { stride: 2, padding: 1 }),
  maxpool_ceil: () => new MaxPool2d(2, { ceilMode: true }),
  avgpool_a: () => new AvgPool2d(2),
  avgpool_b: () => new AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }),
  adaptive: () => new AdaptiveAvgPool2d([2, 3]),
  flatten: () => new Flatten(),
  sequential: () => new Sequential(new Conv2d(2, 3, 3, { padding: 1 }), new BatchNorm2d(3), new ReLU(), new MaxPool2d(2),
    new Flatten(), new Linear(12, 4)),
};

test('golden cases cover every configured layer case', () => {
  assert.deepEqual(Object.keys(BUILD).sort(), Object.keys(CONFIGS).sort());
});

for (const [name, build] of Object.entries(BUILD)) {
  test(`layer parity: ${name} (forward, input and parameter gradients${name.startsWith('bn') ? ', running stats' : ''})`, () => {
    const cfg = CONFIGS[name];
    const m = build();
    m.train(cfg.train);
    const g = (k: string) => { const t = G[`${name}.${k}`]; assert.ok(t, `golden ${name}.${k} missing`); return t; };
    // same parameter and buffer names as PyTorch, then the golden values
    const pnames = m.namedParameters().map(([n]) => n);
    assert.deepEqual(pnames, Object.keys(G).filter((k) => k.startsWith(`${name}.p.`)).map((k) => k.slice(name.length + 3)).sort((a, b) => pnames.indexOf(a) - pnames.indexOf(b)));
    const own = m.stateDict();
    const initial: Record<string, Tensor> = {};
    for (const k of Object.keys(own)) initial[k] = G[`${name}.p.${k}`] ?? g(`b0.${k}`);
    m.loadStateDict(initial);
    tidy(() => {
      const xs: Tensor[] = [];
      let loss: Tensor | null = null;
      for (let i = 0; i < cfg.steps; i++) {
        const x = g(`x${i}`).clone().requiresGrad_(true);
        xs.push(x);
        const y = m.call(x);
        assert.deepEqual(y.shape, g(`y${i}`).shape, `${name} y${i} shape`);
        assertClose(nums(y), nums(g(`y${i}`)), 2e-5, 1e-4, `${name} y${i}`);
        const l = y.mul(g(`r${i}`)).sum();
        loss = loss ? loss.add(l) : l;
      }
      loss!.backward();
      xs.forEach((x, i) => assertClose(nums(x.grad!), nums(g(`gx${i}`)), 3e-5, 1e-4, `${name} grad x${i}`));
      for (const [pn, p] of m.namedParameters()) assertClose(nums(p.grad!), nums(g(`g.${pn}`)), 5e-5, 1e-4, `${name} grad ${pn}`);
      for (const [bn, b] of m.namedBuffers()) {
        assert.equal(b.dtype, g(`b1.${bn}`).dtype, `${name} ${bn} dtype`);
        assertClose(nums(b), nums(g(`b1.${bn}`)), 1e-5, 1e-5, `${name} buffer ${bn} after`);
      }
    });
    m.dispose();
  });
}

test('BatchNorm2d: num_batches_tracked is an int64 scalar buffer, counted in train mode only', () => {
  const bn = new BatchNorm2d(2);
  const sd = bn.stateDict();
  assert.deepEqual(Object.keys(sd), ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
  assert.equal(sd.num_batches_tracked.dtype, 'int64');
  assert.deepEqual(sd.num_batches_tracked.shape, []);
  tidy(() => { bn.call(randn([3, 2, 2, 2])); bn.call(randn([3, 2, 2, 2])); bn.eval(); bn.call(randn([3, 2, 2, 2])); });
  assert.equal(bn.numBatchesTracked!.item(), 2);
  assert.throws(() => bn.call(zeros([2, 2])), /expected 4D input \(got 2D input\)/);
  assert.deepEqual(new BatchNorm2d(2, { affine: false, trackRunningStats: false }).stateDict(), {});
});

test('Dropout: identity in eval; in training zeroes ~p and scales survivors by 1/(1-p)', () => {
  tidy(() => {
    const d = new Dropout(0.3);
    const x = zeros([20000]).add(1);
    const y = d.call(x);
    const v = nums(y);
    const zerosFrac = v.filter((a) => a === 0).length / v.length;
    assert.ok(Math.abs(zerosFrac - 0.3) < 0.02, `zero fraction ${zerosFrac}`);
    assert.ok(v.every((a) => a === 0 || Math.abs(a - 1 / 0.7) < 1e-6));
    d.eval();
    assert.deepEqual(nums(d.call(x)), nums(x));
    assert.throws(() => new Dropout(1.5), /between 0 and 1/);
  });
});

test('Identity returns its input; Flatten(startDim, endDim)', () => {
  tidy(() => {
    const x = randn([2, 3, 4, 5]);
    assert.equal(new Identity().call(x), x);
    assert.deepEqual(new Flatten(1, 2).call(x).shape, [2, 12, 5]);
  });
});

// ---- init ----------------------------------------------------------------------------------------
const INIT = loadGolden('nn_init.json');

function checkSummary(t: Tensor, s: { shape: number[]; sum: number; abs: number; first: number[] }, what: string): void {
  assert.deepEqual(t.shape, s.shape, `${what} shape`);
  const v = nums(t);
  assertClose(v.slice(0, s.first.length), s.first, 0, 0, `${what} first values (seeded, exact)`);
  const sum = v.reduce((a, b) => a + b, 0), abs = v.reduce((a, b) => a + Math.abs(b), 0);
  assertClose([sum, abs], [s.sum, s.abs], 1e-6, 1e-9, `${what} sum / abs sum`);
}

test('init: calculateGain matches torch.nn.init.calculate_gain', () => {
  const g = INIT.gain;
  assert.equal(init.calculateGain('relu'), g.relu);
  assert.equal(init.calculateGain('tanh'), g.tanh);
  assert.equal(init.calculateGain('leaky_relu'), g.leaky_relu);
  assert.equal(init.calculateGain('leaky_relu', 0.2), g['leaky_relu_0.2']);
  assert.equal(init.calculateGain('sigmoid'), g.sigmoid);
  assert.equal(init.calculateGain('selu'), g.selu);
});

test('init: seeded default init of Conv2d / Linear and nn.init functions equal PyTorch exactly', () => {
  manualSeed(11);
  const c = new Conv2d(3, 8, 3);
  checkSummary(c.weight, INIT.conv2d.weight, 'Conv2d weight');
  checkSummary(c.bias!, INIT.conv2d.bias, 'Conv2d bias');
  const cg = new Conv2d(4, 6, [3, 2], { groups: 2 });
  checkSummary(cg.weight, INIT.conv2d_groups.weight, 'grouped Conv2d weight');
  checkSummary(cg.bias!, INIT.conv2d_groups.bias, 'grouped Conv2d bias');
  const l = new Linear(20, 5);
  checkSummary(l.weight, INIT.linear.weight, 'Linear weight');
  checkSummary(l.bias!, INIT.linear.bias, 'Linear bias');
  tidy(() => {
    checkSummary(init.kaimingNormal_(zeros([16, 8, 3, 3]), { mode: 'fan_out', nonlinearity: 'relu' }), INIT.kaiming_normal_fan_out_relu, 'kaimingNormal_');
    checkSummary(init.kaimingUniform_(zeros([16, 8, 3, 3])), INIT.kaiming_uniform_default, 'kaimingUniform_');
    checkSummary(init.kaimingUniform_(zeros([10, 7]), { a: 1, mode: 'fan_out' }), INIT.kaiming_uniform_a1_fan_out, 'kaimingUniform_ a=1 fan_out');
    checkSummary(init.xavierUniform_(zeros([10, 20])), INIT.xavier_uniform, 'xavierUniform_');
    checkSummary(init.xavierNormal_(zeros([10, 20, 3]), 2), INIT.xavier_normal_gain2, 'xavierNormal_');
    checkSummary(init.normal_(zeros([40]), 1, 0.5), INIT.normal, 'normal_');
    checkSummary(init.uniform_(zeros([40]), -2, 3), INIT.uniform, 'uniform_');
  });
  for (const m of [c, cg, l]) m.dispose();
});

test('init: default Conv2d/Linear weights lie within 1/sqrt(fan_in) with the uniform std; BN is 1/0', () => {
  manualSeed(3);
  const c = new Conv2d(16, 64, 3);
  const fanIn = 16 * 9, bound = 1 / Math.sqrt(fanIn);
  const w = nums(c.weight);
  assert.ok(w.every((v) => Math.abs(v) <= bound), 'max |w| <= 1/sqrt(fan_in)');
  const mean = w.reduce((a, b) => a + b, 0) / w.length;
  const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
  assert.ok(Math.abs(std - bound / Math.sqrt(3)) / (bound / Math.sqrt(3)) < 0.03, `std ${std}`);
  assert.ok(nums(c.bias!).every((v) => Math.abs(v) <= bound));
  const k = init.kaimingNormal_(zeros([256, 64, 3, 3]), { mode: 'fan_out', nonlinearity: 'relu' });
  const kv = nums(k);
  const kstd = Math.sqrt(kv.reduce((a, b) => a + b * b, 0) / kv.length);
  assert.ok(Math.abs(kstd - Math.sqrt(2 / (256 * 9))) / Math.sqrt(2 / (256 * 9)) < 0.01, `kaiming std ${kstd}`);
  const bn = new BatchNorm2d(4);
  assert.deepEqual(nums(bn.weight!), [1, 1, 1, 1]);
  assert.deepEqual(nums(bn.bias!), [0, 0, 0, 0]);
  assert.throws(() => init.kaimingNormal_(zeros([3])), /fewer than 2 dimensions/);
  k.dispose(); c.dispose(); bn.dispose();
});

// ---- Module API -----------------------------------------------------------------------------------
class Net extends Module {
  readonly features: Sequential;
  readonly fc: Linear;
  constructor() {
    super();
    this.features = this.registerModule('features', new Sequential(new Conv2d(1, 2, 3, { bias: false }), new BatchNorm2d(2), new ReLU()));
    this.fc = this.registerModule('fc', new Linear(2, 3));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => this.fc.call(this.features.call(x).mean([2, 3])));
  }
}

test('Module: PyTorch names and order for parameters, buffers, state dict, children and modules', () => {
  const net = new Net();
  assert.deepEqual(net.namedParameters().map(([n]) => n), ['features.0.weight', 'features.1.weight', 'features.1.bias', 'fc.weight', 'fc.bias']);
  assert.deepEqual(net.namedBuffers().map(([n]) => n), ['features.1.running_mean', 'features.1.running_var', 'features.1.num_batches_tracked']);
  assert.deepEqual(Object.keys(net.stateDict()), ['features.0.weight', 'features.1.weight', 'features.1.bias', 'features.1.running_mean',
    'features.1.running_var', 'features.1.num_batches_tracked', 'fc.weight', 'fc.bias']);
  assert.deepEqual(net.namedChildren().map(([n]) => n), ['features', 'fc']);
  assert.deepEqual(net.namedModules().map(([n, m]) => `${n}:${m.typeName}`),
    [':Net', 'features:Sequential', 'features.0:Conv2d', 'features.1:BatchNorm2d', 'features.2:ReLU', 'fc:Linear']);
  assert.deepEqual(net.namedParameters('', false), []);
  assert.equal(net.parameters().length, 5);
  assert.equal(net.numParameters(), 2 * 9 + 2 + 2 + 6 + 3);
  assert.equal(net.getSubmodule('features.1').typeName, 'BatchNorm2d');
  assert.throws(() => net.getSubmodule('features.7'), /no submodule '7'/);
  assert.ok(net.parameters().every((p) => p.requiresGrad && p.isLeaf));
  assert.match(String(net), /\(features\): Sequential\(\n {4}\(0\): Conv2d\(1, 2, kernel_size=\(3, 3\), stride=\(1, 1\), bias=False\)/);
  const order: string[] = [];
  net.apply((m) => order.push(m.typeName));
  assert.deepEqual(order, ['Conv2d', 'BatchNorm2d', 'ReLU', 'Sequential', 'Linear', 'Net']);
  net.dispose();
});

test('Module: parameters and buffers survive tidy scopes; forward inside tidy frees intermediates', () => {
  const net = tidy(() => new Net());
  assert.ok(net.parameters().every((p) => !p.isDisposed));
  assert.ok(net.buffers().every((b) => !b.isDisposed));
  const before = liveTensors();
  tidy(() => { net.call(randn([2, 1, 5, 5])).sum().backward(); });
  net.zeroGrad();
  assert.equal(liveTensors(), before);
  net.dispose();
});

test('Module: train/eval propagate; requiresGrad_, freeze/unfreeze by prefix, zeroGrad', () => {
  const net = new Net();
  net.eval();
  assert.ok(net.modules().every((m) => !m.training));
  net.train();
  assert.ok(net.modules().every((m) => m.training));
  assert.deepEqual(net.freeze(['features']), ['features.0.weight', 'features.1.weight', 'features.1.bias']);
  assert.deepEqual(net.parameters().map((p) => p.requiresGrad), [false, false, false, true, true]);
  assert.throws(() => net.freeze(['feat']), /no parameters match prefix\(es\) 'feat'/);
  net.unfreeze(['features.1']);
  assert.deepEqual(net.parameters().map((p) => p.requiresGrad), [false, true, true, true, true]);
  tidy(() => net.call(randn([2, 1, 5, 5])).sum().backward());
  assert.equal(net.features.at(0).getParameter('weight')!.grad, null);
  const g = net.fc.weight.grad!;
  assert.ok(nums(g).some((v) => v !== 0));
  g.dispose();
  net.zeroGrad(false);
  const z = net.fc.weight.grad!;
  assert.ok(nums(z).every((v) => v === 0));
  z.dispose();
  net.zeroGrad();
  assert.equal(net.fc.weight.grad, null);
  net.requiresGrad_(false);
  assert.ok(net.parameters().every((p) => !p.requiresGrad));
  net.dispose();
});

test('Module: loadStateDict copies in place; names missing/unexpected keys and shape mismatches', () => {
  const a = new Net(), b = new Net();
  const w = b.fc.weight;
  b.loadStateDict(a.stateDict());
  assert.equal(b.fc.weight, w, 'same tensor object after loading');
  for (const [k, t] of Object.entries(a.stateDict())) assert.deepEqual(nums(b.stateDict()[k]), nums(t), k);
  assert.ok(b.fc.weight.requiresGrad && b.fc.weight.isLeaf);
  const sd = { ...a.stateDict() };
  delete (sd as any)['fc.bias'];
  const extra = tensor([1]);
  (sd as any)['fc.extra'] = extra;
  assert.throws(() => b.loadStateDict(sd), (e: Error) =>
    /Missing key\(s\) in state_dict: "fc.bias"/.test(e.message) && /Unexpected key\(s\) in state_dict: "fc.extra"/.test(e.message));
  assert.deepEqual(b.loadStateDict(sd, { strict: false }), { missingKeys: ['fc.bias'], unexpectedKeys: ['fc.extra'] });
  const bad = zeros([3, 5]);
  assert.throws(() => b.loadStateDict({ ...a.stateDict(), 'fc.weight': bad }),
    /size mismatch for fc.weight: copying a param with shape \[3,5\] from checkpoint, the shape in current model is \[3,2\]/);
  assert.throws(() => b.loadStateDict({ ...a.stateDict(), 'fc.weight': bad }, { strict: false }), /size mismatch/);
  // dtype conversion on load (float64 source into float32 parameters)
  const d64 = noGrad(() => a.fc.weight.double());
  b.loadStateDict({ ...a.stateDict(), 'fc.weight': d64 });
  assert.equal(b.fc.weight.dtype, 'float32');
  for (const t of [extra, bad, d64]) t.dispose();
  a.dispose(); b.dispose();
});

test('Module.to(dtype) keeps the same Tensor objects and requiresGrad', () => {
  const net = new Net();
  const w = net.fc.weight;
  const before = nums(w);
  net.to('float64');
  assert.equal(net.fc.weight, w);
  assert.equal(w.dtype, 'float64');
  assert.ok(w.requiresGrad && w.isLeaf);
  assert.equal(net.features.at(1).getBuffer('num_batches_tracked')!.dtype, 'int64', 'integer buffers are not cast');
  assertClose(nums(w), before, 0, 0, 'values');
  tidy(() => net.call(randn([1, 1, 4, 4], { dtype: 'float64' })).sum().backward());
  const g = w.grad!;
  assert.equal(g.dtype, 'float64');
  g.dispose();
  net.to({ dtype: 'float32', device: 'cpu' });
  assert.equal(w.dtype, 'float32');
  net.dispose();
});

test('Sequential: children "0", "1", ...; at(), length, iteration, forward chains', () => {
  const s = new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2));
  assert.equal(s.length, 3);
  assert.deepEqual(s.namedChildren().map(([n]) => n), ['0', '1', '2']);
  assert.equal(s.at(-1), s.at(2));
  assert.deepEqual([...s].map((m) => m.typeName), ['Linear', 'ReLU', 'Linear']);
  assert.throws(() => s.at(3), /out of range/);
  tidy(() => {
    const x = randn([5, 4]);
    const want = F.linear(F.relu(F.linear(x, (s.at(0) as Linear).weight, (s.at(0) as Linear).bias)), (s.at(2) as Linear).weight, (s.at(2) as Linear).bias);
    assertClose(nums(s.call(x)), nums(want), 1e-6, 0, 'sequential forward');
  });
  s.dispose();
});

test('Conv2d validates groups', () => {
  assert.throws(() => new Conv2d(3, 4, 3, { groups: 2 }), /in_channels \(3\) must be divisible by groups \(2\)/);
});
