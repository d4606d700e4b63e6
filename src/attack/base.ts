// The shared core of csgnet's adversarial attacks, with torchattacks' semantics in pixel space: images
// in [0, 1] (the dataset's normalization lives inside PixelModel, so eps is in pixel units), every
// iterate clipped to [0, 1], gradients of the objective w.r.t. the image through torch.grad only (the
// model's parameters never accumulate .grad). Untargeted attacks ascend CE to the true class; targeted
// ones descend CE to the target class (torchattacks' set_mode_targeted: cost = -CE(logits, target)).
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { Rng } from '../data/rng.js';
import type { PixelModel } from './pixel_model.js';
import type { AttackName } from './names.js';

export interface AttackOptions {
  /** Perturbation budget in pixel units: Linf radius (fgsm, bim, pgd) or L2 radius (pgd-l2); unused by cw. */
  eps?: number;
  /** Iterations (bim, pgd, pgd-l2: gradient steps; cw: Adam steps). */
  steps?: number;
  /** Step size alpha (bim, pgd: Linf step; pgd-l2: L2 length of each step). */
  stepSize?: number;
  /** Labels are target classes: succeed when the prediction equals them. */
  targeted?: boolean;
  /**
   * Seed of the random starts. pgd, pgd-l2: each attack draws from its own stream, advancing over perturb calls.
   * apgd-*, square, autoattack: torch's RNG is seeded with it at every perturb call, as torchattacks does (so every
   * call gives the same result); the caller's RNG state is restored afterwards.
   */
  seed?: number;
  /** cw: weight of the margin term (torchattacks' c). */
  c?: number;
  /** cw: confidence margin kappa >= 0. */
  kappa?: number;
  /** cw: Adam learning rate on the tanh-space variable. */
  lr?: number;
  /**
   * extra objective: PGD/BIM maximize loss(x01, logits, labels) (per-batch scalar) instead of CE (FGSM and
   * PGD-L2 too; CW refuses it). It is always maximized: a targeted objective carries its own sign, and
   * `targeted` then only decides what counts as success.
   */
  loss?: (x01: Tensor, logits: Tensor, labels: Tensor) => Tensor;
  /**
   * pgd, pgd-l2: the random-start perturbation delta0 [N, C, H, W] to use (x0 = clamp(x + delta0, 0, 1)) instead
   * of drawing one, e.g. a start stored by a PyTorch run; it must lie in the eps ball. Used by every perturb call.
   */
  startNoise?: Tensor;
  /** deepfool: the overshoot (torchattacks' default 0.02). */
  overshoot?: number;
  /** square (and autoattack's square): query budget per image (torchattacks' n_queries, default 5000). */
  nQueries?: number;
  /** square: initial fraction of pixels a square covers (torchattacks' p_init, default 0.8). */
  pInit?: number;
  /** apgd-*: the step-size halving threshold rho (torchattacks' default 0.75). */
  rho?: number;
  /** apgd-*: Linf (default) or L2 ball. */
  norm?: 'Linf' | 'L2';
}

const isNum = (v: number | undefined): v is number => typeof v === 'number';

/** Refuses out-of-range options with a message naming the option. */
function checkOptions(name: string, o: AttackOptions): void {
  const bad = (what: string, v: unknown) => new Error(`${name}: ${what}, got ${String(v)}`);
  if (o.eps !== undefined && !(isNum(o.eps) && Number.isFinite(o.eps) && o.eps >= 0)) throw bad('eps must be a finite number >= 0', o.eps);
  if (o.steps !== undefined && !(Number.isInteger(o.steps) && o.steps >= 1)) throw bad('steps must be an integer >= 1', o.steps);
  if (o.stepSize !== undefined && !(isNum(o.stepSize) && Number.isFinite(o.stepSize) && o.stepSize >= 0)) throw bad('stepSize must be a finite number >= 0', o.stepSize);
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) throw bad('seed must be a safe integer', o.seed);
  if (o.c !== undefined && !(isNum(o.c) && Number.isFinite(o.c) && o.c >= 0)) throw bad('c must be a finite number >= 0', o.c);
  if (o.kappa !== undefined && !(isNum(o.kappa) && Number.isFinite(o.kappa) && o.kappa >= 0)) throw bad('kappa must be a finite number >= 0', o.kappa);
  if (o.lr !== undefined && !(isNum(o.lr) && Number.isFinite(o.lr) && o.lr > 0)) throw bad('lr must be a finite number > 0', o.lr);
  if (o.overshoot !== undefined && !(isNum(o.overshoot) && Number.isFinite(o.overshoot) && o.overshoot >= 0)) throw bad('overshoot must be a finite number >= 0', o.overshoot);
  if (o.nQueries !== undefined && !(Number.isInteger(o.nQueries) && o.nQueries >= 1)) throw bad('nQueries must be an integer >= 1', o.nQueries);
  if (o.pInit !== undefined && !(isNum(o.pInit) && o.pInit > 0 && o.pInit <= 1)) throw bad('pInit must be a number in (0, 1]', o.pInit);
  if (o.rho !== undefined && !(isNum(o.rho) && o.rho > 0 && o.rho <= 1)) throw bad('rho must be a number in (0, 1]', o.rho);
  if (o.norm !== undefined && o.norm !== 'Linf' && o.norm !== 'L2') throw bad("norm must be 'Linf' or 'L2'", o.norm);
  if (o.loss !== undefined && typeof o.loss !== 'function') throw bad('loss must be a function (x01, logits, labels) => scalar tensor', typeof o.loss);
}

export abstract class Attack {
  abstract readonly name: AttackName;
  readonly targeted: boolean;
  protected readonly rng: Rng;
  /** Model forward passes of the last perturb call, counted per image (a forward of n images counts n). */
  queries = 0;

  constructor(readonly model: PixelModel, protected readonly o: AttackOptions = {}) {
    checkOptions(new.target.name, o);
    this.targeted = o.targeted ?? false;
    this.rng = new Rng(o.seed ?? 0);
  }

  /** x01 [N,C,H,W] in [0,1]; labels int64 [N]: true classes (untargeted) or target classes (targeted). Returns new adv tensor in [0,1]. */
  perturb(x01: Tensor, labels: Tensor): Tensor {
    this.checkInputs(x01, labels);
    this.queries = 0;
    return torch.tidy(() => torch.noGrad(() => {
      const x = x01.detach();
      const adv = this.run(x, labels);
      return adv === x ? x.clone() : adv;
    }));
  }

  /** The attack proper, under noGrad inside a tidy scope; x is detached. */
  protected abstract run(x: Tensor, labels: Tensor): Tensor;

  protected checkInputs(x: Tensor, labels: Tensor): void {
    const m = this.model;
    if (m.backbone.training) throw new Error(`${this.name}: the model is in training mode; call model.eval() first`);
    if (x.ndim !== 4 || x.shape[1] !== m.channels) throw new Error(`${this.name}: x01 must be [N, ${m.channels}, H, W], got [${x.shape.join(', ')}]`);
    if (x.dtype !== 'float32') throw new Error(`${this.name}: x01 must be float32, got ${x.dtype}`);
    const N = x.shape[0]!;
    if (labels.dtype !== 'int64' || labels.ndim !== 1 || labels.shape[0] !== N) {
      throw new Error(`${this.name}: labels must be int64 [${N}], got ${labels.dtype} [${labels.shape.join(', ')}]`);
    }
    if (N === 0) return;
    const [lo, hi] = torch.tidy(() => [x.min().item(), x.max().item()]);
    if (!(lo! >= 0 && hi! <= 1)) throw new Error(`${this.name}: x01 must lie in [0, 1] (pixel space), got values in [${lo}, ${hi}]`);
    const [lmin, lmax] = torch.tidy(() => [labels.min().item(), labels.max().item()]);
    const C = m.backbone.numClasses;
    if (lmin! < 0 || lmax! >= C) throw new Error(`${this.name}: labels must be classes in [0, ${C}), got values in [${lmin}, ${lmax}]`);
    const s = this.o.startNoise;
    if (s && (s.ndim !== 4 || s.shape.some((d, i) => d !== x.shape[i]))) {
      throw new Error(`${this.name}: startNoise must have x01's shape [${x.shape.join(', ')}], got [${s.shape.join(', ')}]`);
    }
  }

  /** The model's logits, counting the forward in `queries`. */
  protected logits(x01: Tensor): Tensor {
    this.queries += x01.shape[0]!;
    return this.model.logits(x01);
  }

  /** Refuses options this attack does not take (torchattacks' own signature has no such argument). */
  protected refuse(...names: (keyof AttackOptions)[]): void {
    for (const n of names) if (this.o[n] !== undefined) throw new Error(`${this.name}: the ${n} option is not supported`);
  }

  /**
   * fn with torch's global RNG seeded by the seed option (0 by default), as torchattacks seeds it at every call
   * (torch.random.manual_seed): the same draws as PyTorch's CPU generator. The caller's RNG state is restored after.
   */
  protected withTorchSeed<T>(fn: () => T): T {
    const state = torch.keep(torch.getRngState());
    torch.manualSeed(this.o.seed ?? 0);
    try { return fn(); } finally { torch.setRngState(state); state.dispose(); }
  }

  /** The scalar each gradient step ascends: CE (untargeted), -CE to the target (targeted), or the caller's loss. */
  protected objective(xin: Tensor, labels: Tensor): Tensor {
    const logits = this.logits(xin);
    if (this.o.loss) {
      const v = this.o.loss(xin, logits, labels);
      if (v.numel !== 1) throw new Error(`${this.name}: loss must return a scalar (one value per batch), got shape [${v.shape.join(', ')}]`);
      return v;
    }
    const ce = torch.F.crossEntropy(logits, labels);
    return this.targeted ? ce.neg() : ce;
  }

  /** d objective / d x at x (an image batch in [0, 1]); no graph is kept. */
  protected gradient(x: Tensor, labels: Tensor): Tensor {
    return torch.tidy(() => {
      const xin = x.detach().requiresGrad_(true);
      const obj = torch.enableGrad(() => this.objective(xin, labels));
      return torch.grad(obj, xin)[0]!;
    });
  }

  /** A float32 tensor of x's shape and device from values drawn in JS (the project's seeded RNG, not libtorch's). */
  protected drawn(x: Tensor, draw: () => number): Tensor {
    const data = new Float32Array(x.numel);
    for (let i = 0; i < data.length; i++) data[i] = draw();
    return torch.fromTypedArray(data, x.shape, { device: x.device });
  }

  /** A standard normal draw from the seeded stream (Rng.normal). */
  protected normal(): number {
    return this.rng.normal();
  }
}

/** torchattacks' defaults of an iterative attack: radius, step size alpha, step count. */
export interface IterativeDefaults { eps: number; stepSize: number; steps: number }

/** BIM, PGD and PGD-L2: a radius, a step size and a step count, each the attack's default unless given. */
export abstract class IterativeAttack extends Attack {
  readonly eps: number;
  readonly stepSize: number;
  readonly steps: number;

  constructor(model: PixelModel, o: AttackOptions, defaults: IterativeDefaults) {
    super(model, o);
    this.eps = o.eps ?? defaults.eps;
    this.stepSize = o.stepSize ?? defaults.stepSize;
    this.steps = o.steps ?? defaults.steps;
  }
}

/** Per-image norms of a batch [N, ...]: Linf and L2 of each flattened row. */
export function perImageNorms(delta: Tensor): { linf: Tensor; l2: Tensor } {
  return torch.tidy(() => {
    const flat = delta.flatten(1);
    return { linf: flat.abs().amax(1), l2: flat.norm(2, 1) };
  });
}
