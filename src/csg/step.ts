// One optimization step of either path (method.md sections 1-2), shared by the trainer, the
// benchmarks and the parity test against the PyTorch reference.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { F } from '../torch/index.js';
import type { Optimizer } from '../torch/optim/index.js';
import type { CsgBackbone } from '../models/types.js';
import type { ClassSpecificGate } from './gate.js';
import { gateSparsityPenalty } from './losses.js';
import type { Path } from './schedule.js';

export interface StepContext {
  model: CsgBackbone;
  gate: ClassSpecificGate | null;
  /** The optimizer of this path (the shared one when both paths use one). */
  optimizer: Optimizer;
  /** The gate's own optimizer, or null when G sits in the CSG optimizer (or there is no gate). */
  gateOptimizer: Optimizer | null;
  lambda: number;
  rho: number;
}

export interface StepResult { loss: number; ce: number; reg: number; correct: number }

/** Raised when the loss is NaN or infinite; nothing has been updated for that batch. */
export class NonFiniteLossError extends Error {
  constructor(readonly value: number, readonly path: Path) {
    super(`loss is ${value} on the ${path} path`);
  }
}

/**
 * STD path: CE(fc(GAP(a(x)))). CSG path: CE(fc(GAP(a(x) * G[:, y]))) + lambda * hinge(G), then after
 * the optimizer steps, the row-max projection of G. Returns the loss parts and the correct count.
 */
export function trainStep(ctx: StepContext, x: Tensor, y: Tensor, path: Path): StepResult {
  return torch.tidy(() => {
    ctx.optimizer.zeroGrad();
    ctx.gateOptimizer?.zeroGrad();
    const csg = path === 'csg' && ctx.gate !== null;
    const feats = ctx.model.features(x);
    const logits = ctx.model.head(csg ? ctx.gate!.apply(feats, y) : feats);
    const ce = F.crossEntropy(logits, y);
    const reg = csg ? gateSparsityPenalty(ctx.gate!.weight, ctx.lambda, ctx.rho) : null;
    const loss = reg ? ce.add(reg) : ce;
    const value = loss.item();
    if (!Number.isFinite(value)) throw new NonFiniteLossError(value, path);
    loss.backward();
    ctx.optimizer.step();
    if (csg) {
      ctx.gateOptimizer?.step();
      ctx.gate!.project_();
    }
    return { loss: value, ce: ce.item(), reg: reg ? reg.item() : 0, correct: logits.argmax(1).eq(y).sum().item() };
  });
}
