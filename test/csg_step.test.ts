// Parity of one STD and two CSG training steps with the PyTorch reference (scripts/golden/csg_step.py): the same
// weights, batch and gate give the same loss parts, gate gradient, projected gate, gradients and
// updated parameters. Tolerances: float32 over a ResNet-20 forward/backward, so 1e-4 relative on
// losses and summaries, 2e-5 absolute on gate values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../src/torch/index.js';
import { SGD } from '../src/torch/optim/index.js';
import { loadSafetensors } from '../src/torch/io/safetensors.js';
import { createModel } from '../src/models/registry.js';
import { ClassSpecificGate } from '../src/csg/gate.js';
import { trainStep } from '../src/csg/step.js';
import { withPrefix } from '../src/csg/checkpoint.js';
import { assertClose, goldenPath } from './helpers.js';

const stats = (t: torch.Tensor): number[] => torch.tidy(() => {
  const d = t.detach().double();
  return [d.sum().item(), d.abs().sum().item(), d.norm().item()];
});

test('an STD step then two CSG steps match the PyTorch reference (loss, gate gradient, projection, gradients, SGD update)', () => {
  // The golden script runs single-threaded; with more threads oneDNN reduces in another order, and
  // BatchNorm on a 16-image batch turns those 1e-7 differences into ~1e-3 ones by the second step.
  const threads = torch.getNumThreads();
  torch.setNumThreads(1);
  const { tensors: g, metadata } = loadSafetensors(goldenPath('csg_step.safetensors'));
  const model = createModel('resnet20', { inChannels: 1, numClasses: 10 });
  const weights = withPrefix(g, 'model');
  const asF32: Record<string, torch.Tensor> = {};
  for (const [k, v] of Object.entries(weights)) asF32[k] = v.dtype === 'float16' ? v.float() : v;
  model.loadStateDict(asF32, { strict: true });
  model.train();
  const gate = new ClassSpecificGate(64, 10);
  torch.noGrad(() => gate.weight.copy_(g['gate0']));
  const params = [...model.parameters()];
  const names = [...model.namedParameters()].map(([n]) => n);
  const optimizer = new SGD(params, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
  const gateOptimizer = new SGD([gate.weight], { lr: 0.1, momentum: 0.9 });
  const ctx = { model, gate, optimizer, gateOptimizer, lambda: Number(metadata.lambda), rho: Number(metadata.rho) };
  const x = g['x'], y = g['y'];
  for (const [step, path] of (['std', 'csg', 'csg'] as const).entries()) {
    const s = `step${step}.`;
    const r = trainStep(ctx, x, y, path);
    const [loss, ce, reg] = Array.from(g[s + 'loss'].toFloat64Array());
    assertClose([r.loss, r.ce, r.reg], [loss, ce, reg], 1e-5, 1e-4, `${s}loss/ce/reg`);
    if (path === 'csg') assertClose(gate.weight.grad!.toFloat64Array(), g[s + 'gate_grad'].toFloat64Array(), 1e-6, 1e-4, `${s}gate grad`);
    else assert.equal(gate.weight.grad, null, 'the STD path leaves G without a gradient');
    assertClose(gate.weight.toFloat64Array(), g[s + 'gate'].toFloat64Array(), 2e-5, 0, `${s}projected gate`);
    assertClose(model.fc.weight.grad!.toFloat64Array(), g[s + 'grad.fc.weight'].toFloat64Array(), 1e-5, 1e-3, `${s}fc grad`);
    assertClose(model.getSubmodule('conv1').getParameter('weight')!.grad!.toFloat64Array(), g[s + 'grad.conv1.weight'].toFloat64Array(), 1e-5, 1e-3, `${s}conv1 grad`);
    for (const [i, p] of params.entries()) {
      assertClose(stats(p.grad!), Array.from(g[s + 'grad_stats.' + names[i]].toFloat64Array()), 1e-5, 2e-3, `${s}grad stats of ${names[i]}`);
      assertClose(stats(p), Array.from(g[s + 'param_stats.' + names[i]].toFloat64Array()), 1e-5, 1e-4, `${s}param stats of ${names[i]}`);
    }
    assertClose(model.fc.weight.toFloat64Array(), g[s + 'fc.weight'].toFloat64Array(), 1e-6, 1e-4, `${s}fc after step`);
  }
  // The projection keeps every filter fully open for at least one class.
  const rowMax = torch.tidy(() => gate.weight.amax(1).toFloat64Array());
  for (const v of rowMax) assert.equal(v, 1);
  torch.setNumThreads(threads);
});
