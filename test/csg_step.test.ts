// Parity of one STD and two CSG training steps with the PyTorch reference (scripts/golden/csg_step.py): the same
// weights, batch and gate give the same logits, loss parts, gate gradient, projected gate, gradients and
// updated parameters, in float32 and in float64.
//
// Tolerances come from the problem's conditioning, measured by the golden script (see its docstring):
// - float32: BatchNorm over 16 images and lr-0.1 steps make this problem ill-conditioned, so a 1e-7
//   relative perturbation of the input (what another BLAS or summation order amounts to) moves gradients
//   by percents. The script reruns the steps on 8 such perturbed inputs and stores the spread of every
//   value: `nspread.K` (largest norm-wise relative difference of a tensor) and `aspread.K` (largest
//   absolute difference of each scalar). Rule: ||ours - ref|| / ||ref|| <= max(10 * nspread, 1e-6) per
//   tensor, |ours - ref| <= max(10 * aspread, 1e-6 * |ref|) per scalar; the STD step's values whose
//   spread is within a tenth of the usual float32 tolerances (metadata `elementwise`: logits, loss, the
//   head's gradients) are also compared elementwise with those tolerances.
// - float64: well conditioned (spread ~1e-11), compared elementwise everywhere with rtol 1e-10 and atol
//   1e-10 times the tensor's largest magnitude, whatever the BLAS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../src/torch/index.js';
import { SGD } from '../src/torch/optim/index.js';
import { loadSafetensors } from '../src/torch/io/safetensors.js';
import { createModel } from '../src/models/registry.js';
import { ClassSpecificGate } from '../src/csg/gate.js';
import { trainStep, type StepContext } from '../src/csg/step.js';
import { withPrefix } from '../src/csg/checkpoint.js';
import { assertClose, goldenPath } from './helpers.js';

const { tensors: G, metadata: META } = loadSafetensors(goldenPath('csg_step.safetensors'));
const nums = (t: torch.Tensor): number[] => Array.from(t.toFloat64Array());
const stats = (t: torch.Tensor): number[] => torch.tidy(() => {
  const d = t.detach().double();
  return [d.sum().item(), d.abs().sum().item(), d.norm().item()];
});

/** ||a - b|| / ||b||, the norm-wise relative error (0 when both are 0). */
function normwiseError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0, n = 0;
  for (let i = 0; i < a.length; i++) { d += (a[i] - b[i]) ** 2; n += b[i] ** 2; }
  return d === 0 ? 0 : Math.sqrt(d / n);
}

/**
 * Runs the golden's three steps (STD, CSG, CSG) in dtype from its weights, batch and gate; hands every
 * value the golden has (without prefix: `step1.grad.fc.weight`, ...) to `check`.
 */
function runSteps(dtype: 'float32' | 'float64', check: (key: string, actual: number[]) => void): void {
  const threads = torch.getNumThreads();
  torch.setNumThreads(1); // the golden script runs single-threaded
  const model = createModel('resnet20', { inChannels: 1, numClasses: 10 });
  model.to({ dtype });
  model.loadStateDict(withPrefix(G, 'model'), { strict: true });
  model.train();
  const gate = new ClassSpecificGate(64, 10, 0.5, dtype);
  torch.noGrad(() => gate.weight.copy_(G['gate0']));
  assert.equal(gate.weight.dtype, dtype);
  const named = [...model.namedParameters()];
  const optimizer = new SGD(named.map(([, p]) => p), { lr: Number(META.lr), momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
  const gateOptimizer = new SGD([gate.weight], { lr: Number(META.lr), momentum: 0.9 });
  const ctx: StepContext = { model, gate, optimizer, gateOptimizer, lambda: Number(META.lambda), rho: Number(META.rho) };
  const x = torch.keep(G['x'].to({ dtype })), y = G['y'];
  const has = (k: string) => (dtype === 'float64' ? `f64.${k}` : k) in G;
  for (const [step, path] of (['std', 'csg', 'csg'] as const).entries()) {
    const s = `step${step}.`;
    // The logits of the step's forward pass (an extra forward: it also updates BN running stats, which no check reads).
    const logits = torch.tidy(() => torch.noGrad(() => {
      const f = model.features(x);
      return nums(model.head(path === 'csg' ? gate.apply(f, y) : f));
    }));
    check(s + 'logits', logits);
    const r = trainStep(ctx, x, y, path);
    check(s + 'loss', [r.loss, r.ce, r.reg]);
    if (path === 'csg') check(s + 'gate_grad', nums(gate.weight.grad!));
    else assert.equal(gate.weight.grad, null, 'the STD path leaves G without a gradient');
    check(s + 'gate', nums(gate.weight));
    for (const [n, p] of named) {
      if (has(`${s}grad.${n}`)) check(`${s}grad.${n}`, nums(p.grad!));
      check(`${s}grad_stats.${n}`, stats(p.grad!));
      if (has(`${s}param.${n}`)) check(`${s}param.${n}`, nums(p));
      check(`${s}param_stats.${n}`, stats(p));
    }
    // The projection keeps every filter fully open for at least one class.
    if (path === 'csg') for (const v of torch.tidy(() => nums(gate.weight.amax(1)))) assert.equal(v, 1, `${s}row maxima of G`);
  }
  x.dispose();
  model.dispose();
  torch.setNumThreads(threads);
}

test('float32: an STD step then two CSG steps match the PyTorch reference within the spread of 1e-7 input perturbations', () => {
  const factor = Number(META.spread_factor);
  const elementwise = new Set<string>(JSON.parse(META.elementwise));
  const step0Tol: Record<string, [number, number]> = JSON.parse(META.step0_tol);
  assert.equal(factor, 10);
  assert.ok(elementwise.has('step0.logits') && elementwise.has('step0.loss') && elementwise.has('step0.grad.fc.weight'));
  const seen = new Set<string>();
  runSteps('float32', (key, actual) => {
    seen.add(key);
    const expected = nums(G[key]);
    if (G[`aspread.${key}`]) {
      const spread = nums(G[`aspread.${key}`]);
      actual.forEach((a, i) => {
        const tol = Math.max(factor * spread[i], 1e-6 * Math.abs(expected[i]));
        assert.ok(Math.abs(a - expected[i]) <= tol, `${key}[${i}]: ${a}, expected ${expected[i]} within ${tol} (${factor} x the perturbation spread ${spread[i]})`);
      });
    } else {
      const spread = G[`nspread.${key}`].item();
      const tol = Math.max(factor * spread, 1e-6), err = normwiseError(actual, expected);
      assert.ok(err <= tol, `${key}: norm-wise relative error ${err.toExponential(3)} > ${tol.toExponential(3)} (${factor} x the perturbation spread ${spread.toExponential(3)})`);
    }
    if (elementwise.has(key)) {
      const kind = key.split('.')[1];
      const [atol, rtol] = step0Tol[kind === 'gate_grad' ? 'grad' : kind === 'gate' ? 'param' : kind];
      assertClose(actual, expected, atol, rtol, `${key} (elementwise)`);
    }
  });
  const golden = Object.keys(G).filter((k) => /^step\d\./.test(k));
  assert.deepEqual(golden.filter((k) => !seen.has(k)), [], 'every golden value is checked');
});

test('float64: an STD step then two CSG steps match the PyTorch reference elementwise to rtol 1e-10', () => {
  const rtol = Number(META.f64_rtol);
  assert.equal(rtol, 1e-10);
  const seen = new Set<string>();
  runSteps('float64', (key, actual) => {
    seen.add(key);
    const e = G[`f64.${key}`];
    assert.equal(e.dtype, 'float64', key);
    const expected = nums(e);
    const atol = rtol * Math.max(...expected.map(Math.abs));
    assertClose(actual, expected, atol, rtol, `f64.${key}`);
  });
  const golden = Object.keys(G).filter((k) => k.startsWith('f64.')).map((k) => k.slice(4));
  assert.deepEqual(golden.filter((k) => !seen.has(k)), [], 'every golden value is checked');
});
