// Optimizers (SGD, Adam, AdamW) and LR schedulers against PyTorch 1.13 goldens
// (scripts/golden/optim.py -> test/golden/optim.json), state-dict round trips, and leak checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, type Dtype } from '../src/torch/tensor.js';
import { tensor, zeros, liveTensors } from '../src/torch/creation.js';
import { tidy } from '../src/torch/scope.js';
import {
  SGD, Adam, AdamW, Optimizer, StepLR, MultiStepLR, CosineAnnealingLR, LRScheduler,
  stateDictToFlat, stateDictFromFlat, type ParamGroup,
} from '../src/torch/optim/index.js';
import { loadGolden, assertClose } from './helpers.js';

type Nested = number | Nested[];
interface OptCase {
  name: string; optimizer: 'SGD' | 'Adam' | 'AdamW'; options: Record<string, unknown>;
  groups: { params: number[]; options: Record<string, unknown> }[] | null; dtype: Dtype;
  init: Nested[]; grads: (Nested | null)[][]; after: Nested[][];
  state_after2: GoldenState; state: GoldenState;
}
interface GoldenState { state: Record<string, Record<string, Nested | null>>; param_groups: Record<string, unknown>[] }
interface SchedCase {
  name: string; scheduler: 'StepLR' | 'MultiStepLR' | 'CosineAnnealingLR'; lrs0: number[]; options: Record<string, any>;
  lrs: number[][]; state_at_8: Record<string, unknown>; state: Record<string, unknown>;
  optimizer_groups: Record<string, unknown>[]; closed: [number, number[]][];
}
const golden = loadGolden<{ torch: string; steps: number; optimizers: OptCase[]; schedulers: SchedCase[] }>('optim.json');

const flat = (x: Nested | Nested[]): number[] => (Array.isArray(x) ? (x as Nested[]).flat(Infinity as 1) as number[] : [x]);
const tol = (c: OptCase) => (c.dtype === 'float64' ? { atol: 1e-12, rtol: 1e-10 } : { atol: 1e-6, rtol: 1e-5 });

function makeParams(c: OptCase): Tensor[] {
  return c.init.map((v) => tensor(v as number[], { dtype: c.dtype, requiresGrad: true }));
}

function makeOptimizer(c: OptCase, params: Tensor[]): Optimizer<any> {
  const ctor: any = { SGD, Adam, AdamW }[c.optimizer];
  const spec = c.groups ? c.groups.map((g) => ({ ...g.options, params: g.params.map((i) => params[i]) })) : params;
  return new ctor(spec, c.options);
}

function setGrads(c: OptCase, params: Tensor[], step: number): void {
  c.grads[step].forEach((g, i) => {
    if (g === null) { params[i].grad = null; return; }
    const t = tensor(g as number[], { dtype: c.dtype });
    params[i].grad = t;
    t.dispose();
  });
}

function checkParams(c: OptCase, params: Tensor[], step: number, what: string): void {
  const { atol, rtol } = tol(c);
  params.forEach((p, i) => assertClose(p.toFloat64Array(), flat(c.after[step][i]), atol, rtol, `${c.name} ${what} step ${step} param ${i}`));
}

function checkState(c: OptCase, opt: Optimizer<any>, expected: GoldenState, what: string): void {
  const { atol, rtol } = tol(c);
  const sd = opt.stateDict();
  assert.deepEqual(Object.keys(sd.state).sort(), Object.keys(expected.state).sort(), `${c.name} ${what}: state indices`);
  for (const [k, entry] of Object.entries(expected.state)) {
    const ours = sd.state[Number(k)];
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(entry).sort(), `${c.name} ${what}: state ${k} keys`);
    for (const [name, v] of Object.entries(entry)) {
      const o = ours[name];
      if (v === null) assert.equal(o, null, `${c.name} ${what}: state.${k}.${name}`);
      else if (name === 'step') assert.equal(o, v, `${c.name} ${what}: state.${k}.step`);
      else {
        assert.ok(o instanceof Tensor, `${c.name} ${what}: state.${k}.${name} is a tensor`);
        assert.equal(o.dtype, c.dtype);
        assertClose(o.toFloat64Array(), flat(v), atol, rtol, `${c.name} ${what}: state.${k}.${name}`);
      }
    }
  }
  assert.equal(sd.param_groups.length, expected.param_groups.length);
  sd.param_groups.forEach((g, i) => {
    const e = expected.param_groups[i];
    for (const [k, v] of Object.entries(g)) assert.deepEqual(v, e[k], `${c.name} ${what}: param_groups[${i}].${k}`);
    for (const k of Object.keys(e)) {
      if (!['foreach', 'differentiable', 'capturable', 'fused'].includes(k)) assert.ok(k in g, `${c.name} ${what}: param_groups[${i}] lacks ${k}`);
    }
  });
}

const dispose = (ts: Tensor[]) => ts.forEach((t) => t.dispose());

test(`golden file comes from torch ${golden.torch}`, () => {
  assert.match(golden.torch, /^1\.13/);
});

for (const c of golden.optimizers) {
  test(`optimizer ${c.name}: parameters and state match PyTorch`, () => {
    const params = makeParams(c);
    const opt = makeOptimizer(c, params);
    for (let s = 0; s < golden.steps; s++) {
      setGrads(c, params, s);
      opt.step();
      checkParams(c, params, s, 'uninterrupted');
      if (s === 1) checkState(c, opt, c.state_after2, 'after 2 steps');
    }
    checkState(c, opt, c.state, 'final');
    opt.dispose();
    dispose(params);
  });

  test(`optimizer ${c.name}: state dict round trip (2 steps, save, load into a new optimizer, 2 more == 4 steps)`, () => {
    const p1 = makeParams(c);
    const opt1 = makeOptimizer(c, p1);
    for (let s = 0; s < 2; s++) { setGrads(c, p1, s); opt1.step(); }
    const { tensors, json } = opt1.toFlat();
    for (const name of Object.keys(tensors)) assert.match(name, /^optim\.state\.\d+\.(momentum_buffer|exp_avg|exp_avg_sq|max_exp_avg_sq)$/);
    const jsonText = JSON.stringify(json);
    // copies of the saved tensors, as if read back from a file; then the original optimizer is gone
    const loaded: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(tensors)) loaded[k] = t.clone();
    const p2 = p1.map((p) => p.detach().clone().requiresGrad_(true));
    opt1.dispose();
    dispose(p1);

    // a fresh optimizer with different hyper-parameters: loading must restore the saved ones
    const ctor: any = { SGD, Adam, AdamW }[c.optimizer];
    const opt2: Optimizer<any> = new ctor(c.groups ? c.groups.map((g) => ({ params: g.params.map((i) => p2[i]) })) : p2, { lr: 123 });
    opt2.fromFlat(loaded, JSON.parse(jsonText));
    dispose(Object.values(loaded));
    for (let s = 2; s < 4; s++) { setGrads(c, p2, s); opt2.step(); checkParams(c, p2, s, 'resumed'); }
    opt2.dispose();
    dispose(p2);
  });
}

test('stateDictToFlat / stateDictFromFlat use the given prefix and keep numbers in JSON', () => {
  const c = golden.optimizers.find((o) => o.name === 'adam_amsgrad')!;
  const params = makeParams(c);
  const opt = makeOptimizer(c, params);
  setGrads(c, params, 0);
  opt.step();
  const f = stateDictToFlat(opt.stateDict(), 'x/');
  assert.deepEqual(Object.keys(f.tensors).sort(), ['x/state.0.exp_avg', 'x/state.0.exp_avg_sq', 'x/state.0.max_exp_avg_sq',
    'x/state.1.exp_avg', 'x/state.1.exp_avg_sq', 'x/state.1.max_exp_avg_sq']);
  assert.deepEqual(f.json.state, { 0: { step: 1 }, 1: { step: 1 } });
  assert.deepEqual(f.json.param_groups[0], { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: true, maximize: false, params: [0, 1] });
  const back = stateDictFromFlat(f.tensors, f.json, 'x/');
  assert.equal(back.state[1].exp_avg, f.tensors['x/state.1.exp_avg']);
  assert.equal(back.state[1].step, 1);
  // loading a PyTorch-style tensor step works too
  const stepT = tensor(1, { dtype: 'float32' });
  opt.loadStateDict({ ...back, state: { ...back.state, 0: { ...back.state[0], step: stepT } } });
  assert.equal(opt.stateDict().state[0].step, 1);
  stepT.dispose();
  opt.dispose();
  dispose(params);
});

test('loadStateDict casts state to the parameter dtype and copies it', () => {
  const p = zeros([3], { dtype: 'float64', requiresGrad: true });
  const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
  const buf = tensor([1, 2, 3], { dtype: 'float32' });
  opt.loadStateDict({ state: { 0: { momentum_buffer: buf } }, param_groups: [{ lr: 0.5, momentum: 0.9, dampening: 0, weight_decay: 0, nesterov: false, maximize: false, params: [0] }] });
  buf.dispose();
  const mb = opt.stateDict().state[0].momentum_buffer as Tensor;
  assert.equal(mb.dtype, 'float64');
  assert.deepEqual(Array.from(mb.toFloat64Array()), [1, 2, 3]);
  assert.equal(opt.paramGroups[0].lr, 0.5);
  assert.throws(() => opt.loadStateDict({ state: {}, param_groups: [] }), /different number of parameter groups/);
  opt.dispose();
  p.dispose();
});

test('optimizer validation errors', () => {
  const p = zeros([2], { requiresGrad: true });
  const q = zeros([2], { requiresGrad: true });
  assert.throws(() => new SGD([p], { lr: 0.1, nesterov: true }), /Nesterov momentum requires a momentum and zero dampening/);
  assert.throws(() => new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), /Nesterov momentum requires a momentum and zero dampening/);
  assert.throws(() => new SGD([p], { lr: -1 }), /Invalid learning rate/);
  assert.throws(() => new SGD([p], { lr: 0.1, momentum: -1 }), /Invalid momentum/);
  assert.throws(() => new SGD([], { lr: 0.1 }), /empty parameter list/);
  assert.throws(() => new SGD(p as any, { lr: 0.1 }), /got a Tensor/);
  assert.throws(() => new SGD([{ params: [p] }, { params: [p, q] }], { lr: 0.1 }), /more than one parameter group/);
  assert.throws(() => new SGD([p, p], { lr: 0.1 }), /duplicate parameters/);
  assert.throws(() => new Adam([p], { betas: [1, 0.9] }), /Invalid beta parameter at index 0/);
  assert.throws(() => new AdamW([p], { eps: -1 }), /Invalid epsilon/);
  const nonLeaf = tidy(() => p.mul(2));
  assert.throws(() => new SGD([nonLeaf], { lr: 0.1 }), /non-leaf/);
  const opt = new SGD([p], { lr: 0.1 });
  opt.addParamGroup({ params: [q], lr: 0.01, momentum: 0.5 });
  assert.equal(opt.paramGroups[1].lr, 0.01);
  assert.equal(opt.paramGroups[1].momentum, 0.5);
  assert.equal(opt.paramGroups[1].dampening, 0);
  assert.equal(opt.defaults.lr, 0.1);
  assert.equal(new AdamW([p]).paramGroups[0].weightDecay, 1e-2);
  assert.equal(new Adam([p]).paramGroups[0].weightDecay, 0);
  dispose([nonLeaf, p, q]);
});

test('zeroGrad sets grads to null by default, or zeroes them in place', () => {
  const p = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
  const opt = new SGD([p], { lr: 0.1 });
  const g = tensor([3, 4], { dtype: 'float32' });
  p.grad = g;
  opt.zeroGrad(false);
  const z = p.grad!;
  assert.deepEqual(Array.from(z.toFloat64Array()), [0, 0]);
  assert.deepEqual(Array.from(g.toFloat64Array()), [0, 0], 'zeroed in place (same storage)');
  opt.zeroGrad();
  assert.equal(p.grad, null);
  dispose([z, g, p]);
});

test('step() returns the closure value and leaves parameters without grads untouched', () => {
  const p = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
  const opt = new Adam([p], { lr: 0.1 });
  assert.equal(opt.step(() => 42), 42);
  assert.deepEqual(Array.from(p.toFloat64Array()), [1, 2]);
  assert.equal(opt.state.size, 0);
  p.dispose();
});

test('100 steps do not leak tensors', () => {
  const makers: [string, (ps: Tensor[]) => Optimizer<any>][] = [
    ['SGD nesterov+wd', (ps) => new SGD(ps, { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-4 })],
    ['SGD maximize+dampening', (ps) => new SGD(ps, { lr: 0.01, momentum: 0.9, dampening: 0.1, maximize: true })],
    ['Adam amsgrad+wd', (ps) => new Adam(ps, { lr: 0.01, amsgrad: true, weightDecay: 0.1, maximize: true })],
    ['AdamW', (ps) => new AdamW(ps, { lr: 0.01 })],
  ];
  for (const [name, make] of makers) {
    const ps = [zeros([4, 5], { requiresGrad: true }), zeros([5], { requiresGrad: true })];
    const opt = make(ps);
    const setG = (k: number) => ps.forEach((p, i) => {
      const g = tensor(Array.from({ length: p.numel }, (_, j) => Math.sin(k + i + j)), { dtype: 'float32' }).reshape(p.shape);
      p.grad = g;
    });
    const setGrads = (k: number) => tidy(() => setG(k));
    setGrads(0);
    opt.step();
    const before = liveTensors();
    for (let k = 1; k <= 100; k++) {
      setGrads(k);
      opt.step();
      if (k % 10 === 0) opt.zeroGrad(k % 20 === 0);
    }
    opt.stateDict();
    opt.toFlat();
    assert.equal(liveTensors(), before, `${name}: live tensors grew`);
    opt.dispose();
    dispose(ps);
  }
});

// ---- schedulers ------------------------------------------------------------------------------

function schedSetup(c: SchedCase): { params: Tensor[]; opt: SGD } {
  const params = c.lrs0.map(() => zeros([1], { requiresGrad: true }));
  const opt = new SGD(params.map((p, i) => ({ params: [p], lr: c.lrs0[i] })), { lr: c.lrs0[0] });
  return { params, opt };
}

function makeScheduler(c: SchedCase, opt: SGD): LRScheduler {
  const o = c.options;
  switch (c.scheduler) {
    case 'StepLR': return new StepLR(opt, o.stepSize, o.gamma);
    case 'MultiStepLR': return new MultiStepLR(opt, o.milestones, o.gamma);
    default: return new CosineAnnealingLR(opt, o.tMax, o.etaMin);
  }
}

function checkSchedState(ours: Record<string, unknown>, expected: Record<string, unknown>, what: string): void {
  assert.deepEqual(Object.keys(ours).sort(), Object.keys(expected).sort(), `${what}: keys`);
  for (const [k, v] of Object.entries(expected)) {
    if (Array.isArray(v)) assertClose(ours[k] as number[], v as number[], 1e-12, 1e-9, `${what}: ${k}`);
    else if (typeof v === 'number') assertClose([ours[k] as number], [v], 1e-12, 1e-9, `${what}: ${k}`);
    else assert.deepEqual(ours[k], v, `${what}: ${k}`);
  }
}

for (const c of golden.schedulers) {
  test(`scheduler ${c.name}: lr sequence, state dict and resume match PyTorch`, () => {
    const { params, opt } = schedSetup(c);
    const s = makeScheduler(c, opt);
    assertClose(s.getLastLr(), c.lrs[0], 1e-12, 1e-9, `${c.name} epoch 0`);
    for (let e = 1; e < c.lrs.length; e++) {
      opt.step();
      s.step();
      assertClose(s.getLastLr(), c.lrs[e], 1e-12, 1e-9, `${c.name} epoch ${e}`);
      assertClose(opt.paramGroups.map((g) => g.lr), c.lrs[e], 1e-12, 1e-9, `${c.name} group lrs epoch ${e}`);
      if (e === 8) checkSchedState(s.stateDict(), c.state_at_8, `${c.name} state at 8`);
    }
    assert.equal(s.lastEpoch, c.lrs.length - 1);
    checkSchedState(s.stateDict(), c.state, `${c.name} final state`);
    const groups = opt.stateDict().param_groups;
    groups.forEach((g, i) => {
      assertClose([g.lr as number, g.initial_lr as number], [c.optimizer_groups[i].lr as number, c.optimizer_groups[i].initial_lr as number],
        1e-12, 1e-9, `${c.name} optimizer group ${i}`);
    });

    // resume at epoch 8 from JSON: optimizer lrs restored, new scheduler loads the saved state
    const r = schedSetup(c);
    const s2 = makeScheduler(c, r.opt);
    s2.loadStateDict(JSON.parse(JSON.stringify(c.state_at_8)));
    r.opt.paramGroups.forEach((g, i) => { g.lr = c.lrs[8][i]; });
    for (let e = 9; e < c.lrs.length; e++) {
      s2.step();
      assertClose(s2.getLastLr(), c.lrs[e], 1e-12, 1e-9, `${c.name} resumed epoch ${e}`);
    }

    // closed form via step(epoch)
    const q = schedSetup(c);
    const s3 = makeScheduler(c, q.opt);
    for (const [e, lrs] of c.closed) {
      s3.step(e);
      assertClose(s3.getLastLr(), lrs, 1e-12, 1e-9, `${c.name} closed form epoch ${e}`);
    }
    dispose([...params, ...r.params, ...q.params]);
  });
}

test('schedulers: resuming with lastEpoch requires initialLr', () => {
  const p = zeros([1], { requiresGrad: true });
  const opt = new SGD([p], { lr: 0.1 });
  assert.throws(() => new StepLR(opt, 2, 0.5, 4), /initial_lr/);
  const s = new CosineAnnealingLR(opt, 10);
  assert.equal((opt.paramGroups[0] as ParamGroup).initialLr, 0.1);
  for (let i = 0; i < 3; i++) s.step();
  // a fresh scheduler resumed at epoch 3 uses the closed form on its first step (PyTorch's _step_count == 1 branch)
  const opt2 = new SGD([p], { lr: 0.1 });
  opt2.paramGroups[0].initialLr = 0.1;
  const s2 = new CosineAnnealingLR(opt2, 10, 0, 3);
  assertClose(s2.getLastLr(), [0.1 * (1 + Math.cos(Math.PI * 4 / 10)) / 2], 1e-15, 0, 'resumed cosine');
  p.dispose();
});
