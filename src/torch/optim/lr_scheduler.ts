// Learning-rate schedulers (torch.optim.lr_scheduler, PyTorch 1.13): StepLR, MultiStepLR,
// CosineAnnealingLR. step() uses PyTorch's chainable (recursive) get_lr formulas, which update
// each group's current lr; step(epoch) uses the closed forms, as PyTorch does.

/** What a scheduler needs from an optimizer: its groups' learning rates (any Optimizer fits). */
export interface LRSchedulable {
  paramGroups: Array<{ lr: number; initialLr?: number }>;
}

/** A scheduler's state in PyTorch's layout (JSON-serializable). */
export type SchedulerStateDict = Record<string, unknown> & {
  base_lrs: number[];
  last_epoch: number;
  _step_count: number;
  _last_lr: number[];
};

/** Python's floor modulo (the result has the sign of the divisor). */
function pymod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

export abstract class LRScheduler {
  readonly optimizer: LRSchedulable;
  /** The groups' initial learning rates. */
  baseLrs: number[];
  /** Index of the last epoch stepped (-1 before construction's initial step). */
  lastEpoch: number;
  /** Number of step() calls, including the one made at construction (PyTorch's `_step_count`). */
  protected stepCount = 0;
  protected lastLr: number[] = [];

  constructor(optimizer: LRSchedulable, lastEpoch = -1) {
    this.optimizer = optimizer;
    if (lastEpoch === -1) {
      for (const g of optimizer.paramGroups) if (g.initialLr === undefined) g.initialLr = g.lr;
    } else {
      optimizer.paramGroups.forEach((g, i) => {
        if (g.initialLr === undefined) throw new Error(`param 'initial_lr' is not specified in param_groups[${i}] when resuming an optimizer`);
      });
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
    // Subclasses call initialStep() at the end of their constructors (once their own fields are set).
  }

  protected initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** The chainable form: new lrs from the groups' current lrs (called by step()). */
  protected abstract getLr(): number[];
  /** The closed form at lastEpoch (used by step(epoch)). */
  protected abstract closedFormLr(): number[];

  /** Advances one epoch (or, deprecated in PyTorch, jumps to `epoch` using the closed form) and sets the groups' lrs. */
  step(epoch?: number): void {
    this.stepCount += 1;
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch += 1;
      values = this.getLr();
    } else {
      this.lastEpoch = epoch;
      values = this.closedFormLr();
    }
    this.optimizer.paramGroups.forEach((g, i) => { if (i < values.length) g.lr = values[i]; });
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The learning rates set by the last step(). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** Subclass fields under PyTorch's names (e.g. step_size, gamma). */
  protected abstract extraState(): Record<string, unknown>;
  protected abstract loadExtraState(sd: Record<string, unknown>): void;

  /** The scheduler's state in PyTorch's layout (what PyTorch's state_dict() holds, JSON-friendly). */
  stateDict(): SchedulerStateDict {
    return {
      ...this.extraState(),
      base_lrs: [...this.baseLrs],
      last_epoch: this.lastEpoch,
      verbose: false,
      _step_count: this.stepCount,
      _get_lr_called_within_step: false,
      _last_lr: [...this.lastLr],
    };
  }

  /** Restores state saved by stateDict() (does not touch the optimizer's lrs, like PyTorch). */
  loadStateDict(sd: Partial<SchedulerStateDict>): void {
    if (sd.base_lrs !== undefined) this.baseLrs = [...sd.base_lrs];
    if (sd.last_epoch !== undefined) this.lastEpoch = sd.last_epoch;
    if (sd._step_count !== undefined) this.stepCount = sd._step_count;
    if (sd._last_lr !== undefined) this.lastLr = [...sd._last_lr];
    this.loadExtraState(sd);
  }
}

/** Decays each group's lr by gamma every stepSize epochs. */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;

  constructor(optimizer: LRSchedulable, stepSize: number, gamma = 0.1, lastEpoch = -1) {
    super(optimizer, lastEpoch);
    this.stepSize = stepSize;
    this.gamma = gamma;
    this.initialStep();
  }

  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0 || pymod(this.lastEpoch, this.stepSize) !== 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }

  protected closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }

  protected extraState(): Record<string, unknown> {
    return { step_size: this.stepSize, gamma: this.gamma };
  }

  protected loadExtraState(sd: Record<string, unknown>): void {
    if (typeof sd.step_size === 'number') this.stepSize = sd.step_size;
    if (typeof sd.gamma === 'number') this.gamma = sd.gamma;
  }
}

/** Decays each group's lr by gamma at each milestone epoch (a milestone listed k times decays by gamma^k). */
export class MultiStepLR extends LRScheduler {
  /** Milestone epoch -> count (PyTorch's Counter). */
  milestones: Map<number, number>;
  gamma: number;

  constructor(optimizer: LRSchedulable, milestones: number[], gamma = 0.1, lastEpoch = -1) {
    super(optimizer, lastEpoch);
    this.milestones = counter(milestones);
    this.gamma = gamma;
    this.initialStep();
  }

  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    const n = this.milestones.get(this.lastEpoch);
    if (n === undefined) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma ** n);
  }

  protected closedFormLr(): number[] {
    let passed = 0; // bisect_right over the sorted milestone elements
    for (const [m, c] of this.milestones) if (m <= this.lastEpoch) passed += c;
    return this.baseLrs.map((b) => b * this.gamma ** passed);
  }

  protected extraState(): Record<string, unknown> {
    const ms: Record<string, number> = {};
    for (const [m, c] of this.milestones) ms[String(m)] = c;
    return { milestones: ms, gamma: this.gamma };
  }

  protected loadExtraState(sd: Record<string, unknown>): void {
    const ms = sd.milestones;
    if (Array.isArray(ms)) this.milestones = counter(ms.map(Number));
    else if (ms && typeof ms === 'object') {
      this.milestones = new Map(Object.entries(ms as Record<string, number>).map(([k, v]) => [Number(k), Number(v)]));
    }
    if (typeof sd.gamma === 'number') this.gamma = sd.gamma;
  }
}

function counter(xs: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

/**
 * Cosine annealing from each base lr down to etaMin over tMax epochs (and back up, periodically),
 * using PyTorch's recursive formula: lr_t = (1 + cos(pi t / T)) / (1 + cos(pi (t-1) / T)) * (lr_{t-1} - etaMin) + etaMin.
 */
export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;

  constructor(optimizer: LRSchedulable, tMax: number, etaMin = 0, lastEpoch = -1) {
    super(optimizer, lastEpoch);
    this.tMax = tMax;
    this.etaMin = etaMin;
    this.initialStep();
  }

  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    const { tMax: T, etaMin } = this;
    const e = this.lastEpoch;
    if (e === 0) return groups.map((g) => g.lr);
    if (this.stepCount === 1 && e > 0) {
      return this.baseLrs.map((b) => etaMin + (b - etaMin) * (1 + Math.cos(e * Math.PI / T)) / 2);
    }
    if (pymod(e - 1 - T, 2 * T) === 0) {
      return groups.map((g, i) => g.lr + (this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / T)) / 2);
    }
    return groups.map((g) => (1 + Math.cos(Math.PI * e / T)) / (1 + Math.cos(Math.PI * (e - 1) / T)) * (g.lr - etaMin) + etaMin);
  }

  protected closedFormLr(): number[] {
    const { tMax: T, etaMin } = this;
    return this.baseLrs.map((b) => etaMin + (b - etaMin) * (1 + Math.cos(Math.PI * this.lastEpoch / T)) / 2);
  }

  protected extraState(): Record<string, unknown> {
    return { T_max: this.tMax, eta_min: this.etaMin };
  }

  protected loadExtraState(sd: Record<string, unknown>): void {
    if (typeof sd.T_max === 'number') this.tMax = sd.T_max;
    if (typeof sd.eta_min === 'number') this.etaMin = sd.eta_min;
  }
}
