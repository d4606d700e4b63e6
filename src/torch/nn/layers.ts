// The torch.nn layers csgnet's models use, with PyTorch's parameter names, shapes, defaults and
// default initialization (drawn with the same generator calls, so seeded runs match PyTorch).
import type { Tensor } from '../tensor.js';
import { zeros, ones, tensor } from '../creation.js';
import { noGrad } from '../autograd.js';
import * as F from '../functional.js';
import * as init from './init.js';
import { Module } from './module.js';
import type { ProcessGroup } from '../distributed.js';
import { syncBatchNorm } from './sync_batchnorm.js';

export type Pair = number | [number, number];
const pair = (p: Pair): [number, number] => (typeof p === 'number' ? [p, p] : [p[0], p[1]]);
const tup = (p: [number, number]) => `(${p[0]}, ${p[1]})`;
const pyBool = (b: boolean) => (b ? 'True' : 'False');
const pyNum = (x: number) => (Number.isInteger(x) && Math.abs(x) < 1e16 ? `${x}.0` : Math.abs(x) < 1e-4 && x !== 0 ? x.toExponential().replace(/e([+-])(\d)$/, 'e$10$2') : `${x}`);

/**
 * Applies the functions in turn, disposing each intermediate result's wrapper as soon as the next is
 * made (autograd keeps what backward needs). x and the final result are not disposed.
 */
export function chain(x: Tensor, fns: ((t: Tensor) => Tensor)[]): Tensor {
  let cur = x;
  for (const f of fns) {
    const next = f(cur);
    if (cur !== x && next !== cur) cur.dispose();
    cur = next;
  }
  return cur;
}

/** PyTorch's default for Conv2d and Linear: weight kaiming_uniform_(a=sqrt 5), bias U(+-1/sqrt(fan_in)). */
function resetWeightAndBias(weight: Tensor, bias: Tensor | null): void {
  init.kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const [fanIn] = init.calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    init.uniform_(bias, -bound, bound);
  }
}

export interface Conv2dOptions { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number; bias?: boolean }

/** nn.Conv2d: weight [out, in/groups, kh, kw] (kaiming_uniform_(a=sqrt 5)), bias [out] (U(+-1/sqrt(fan_in))). */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Pair, o: Conv2dOptions = {}) {
    super();
    this.kernelSize = pair(kernelSize);
    this.stride = pair(o.stride ?? 1);
    this.padding = pair(o.padding ?? 0);
    this.dilation = pair(o.dilation ?? 1);
    this.groups = o.groups ?? 1;
    if (this.groups <= 0) throw new Error('Conv2d: groups must be a positive integer');
    if (inChannels % this.groups) throw new Error(`Conv2d: in_channels (${inChannels}) must be divisible by groups (${this.groups})`);
    if (outChannels % this.groups) throw new Error(`Conv2d: out_channels (${outChannels}) must be divisible by groups (${this.groups})`);
    this.weight = this.registerParameter('weight', zeros([outChannels, inChannels / this.groups, ...this.kernelSize]));
    this.bias = this.registerParameter('bias', (o.bias ?? true) ? zeros([outChannels]) : null);
    this.resetParameters();
  }

  resetParameters(): void { resetWeightAndBias(this.weight, this.bias); }

  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${tup(this.kernelSize)}, stride=${tup(this.stride)}`;
    if (this.padding.some((p) => p !== 0)) s += `, padding=${tup(this.padding)}`;
    if (this.dilation.some((p) => p !== 1)) s += `, dilation=${tup(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ', bias=False';
    return s;
  }
}

/** nn.Linear: weight [out, in] (kaiming_uniform_(a=sqrt 5)), bias [out] (U(+-1/sqrt(in))). */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, o: { bias?: boolean } = {}) {
    super();
    this.weight = this.registerParameter('weight', zeros([outFeatures, inFeatures]));
    this.bias = this.registerParameter('bias', (o.bias ?? true) ? zeros([outFeatures]) : null);
    this.resetParameters();
  }

  resetParameters(): void { resetWeightAndBias(this.weight, this.bias); }

  forward(x: Tensor): Tensor { return F.linear(x, this.weight, this.bias); }
  override extraRepr(): string { return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyBool(!!this.bias)}`; }
}

export interface BatchNormOptions { eps?: number; momentum?: number | null; affine?: boolean; trackRunningStats?: boolean }

/**
 * nn.BatchNorm2d. Training: normalizes with batch statistics and (with trackRunningStats) updates
 * running_mean / running_var (unbiased variance) with `momentum`, or with a cumulative average when
 * momentum is null, and counts num_batches_tracked (int64). Eval: uses the running statistics.
 */
export class BatchNorm2d extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  readonly numBatchesTracked: Tensor | null;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  /** Training statistics over this process group (nn.SyncBatchNorm; set by convertSyncBatchNorm). */
  syncGroup: ProcessGroup | null = null;

  constructor(readonly numFeatures: number, o: BatchNormOptions = {}) {
    super();
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum === undefined ? 0.1 : o.momentum;
    this.affine = o.affine ?? true;
    this.trackRunningStats = o.trackRunningStats ?? true;
    this.weight = this.registerParameter('weight', this.affine ? ones([numFeatures]) : null);
    this.bias = this.registerParameter('bias', this.affine ? zeros([numFeatures]) : null);
    this.runningMean = this.registerBuffer('running_mean', this.trackRunningStats ? zeros([numFeatures]) : null);
    this.runningVar = this.registerBuffer('running_var', this.trackRunningStats ? ones([numFeatures]) : null);
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', this.trackRunningStats ? tensor(0, { dtype: 'int64' }) : null);
  }

  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    noGrad(() => { this.runningMean!.zero_(); this.runningVar!.fill_(1); this.numBatchesTracked!.zero_(); });
  }
  resetParameters(): void {
    this.resetRunningStats();
    if (this.affine) { init.ones_(this.weight!); init.zeros_(this.bias!); }
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4) throw new Error(`BatchNorm2d: expected 4D input (got ${x.ndim}D input)`);
    let factor = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && this.numBatchesTracked) {
      noGrad(() => this.numBatchesTracked!.add_(1));
      factor = this.momentum === null ? 1 / Number(this.numBatchesTracked.item()) : this.momentum;
    }
    if (this.training && this.syncGroup && this.syncGroup.worldSize > 1) return syncBatchNorm(this, x, factor, this.syncGroup);
    const bnTraining = this.training || (!this.runningMean && !this.runningVar);
    const useRunning = !this.training || this.trackRunningStats;
    return F.batchNorm(x, useRunning ? this.runningMean : null, useRunning ? this.runningVar : null,
      { weight: this.weight, bias: this.bias, training: bnTraining, momentum: factor, eps: this.eps });
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${pyNum(this.eps)}, momentum=${this.momentum === null ? 'None' : pyNum(this.momentum)}, ` +
      `affine=${pyBool(this.affine)}, track_running_stats=${pyBool(this.trackRunningStats)}`;
  }
}

/** nn.ReLU (always out of place; `inplace` is accepted for signature parity and ignored). */
export class ReLU extends Module {
  constructor(readonly inplace = false) { super(); }
  forward(x: Tensor): Tensor { return F.relu(x); }
  override extraRepr(): string { return this.inplace ? 'inplace=True' : ''; }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) { super(); }
  forward(x: Tensor): Tensor { return F.leakyRelu(x, this.negativeSlope); }
  override extraRepr(): string { return `negative_slope=${this.negativeSlope}`; }
}

export interface MaxPool2dOptions { stride?: Pair; padding?: Pair; dilation?: Pair; ceilMode?: boolean }
export class MaxPool2d extends Module {
  readonly stride: Pair;
  constructor(readonly kernelSize: Pair, readonly o: MaxPool2dOptions = {}) { super(); this.stride = o.stride ?? kernelSize; }
  forward(x: Tensor): Tensor { return F.maxPool2d(x, this.kernelSize, { ...this.o, stride: this.stride }); }
  override extraRepr(): string {
    return `kernel_size=${this.kernelSize}, stride=${this.stride}, padding=${this.o.padding ?? 0}, dilation=${this.o.dilation ?? 1}, ceil_mode=${pyBool(!!this.o.ceilMode)}`;
  }
}

export interface AvgPool2dOptions { stride?: Pair; padding?: Pair; ceilMode?: boolean; countIncludePad?: boolean; divisorOverride?: number }
export class AvgPool2d extends Module {
  readonly stride: Pair;
  constructor(readonly kernelSize: Pair, readonly o: AvgPool2dOptions = {}) { super(); this.stride = o.stride ?? kernelSize; }
  forward(x: Tensor): Tensor { return F.avgPool2d(x, this.kernelSize, { ...this.o, stride: this.stride }); }
  override extraRepr(): string { return `kernel_size=${this.kernelSize}, stride=${this.stride}, padding=${this.o.padding ?? 0}`; }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) { super(); }
  forward(x: Tensor): Tensor { return F.adaptiveAvgPool2d(x, this.outputSize); }
  override extraRepr(): string { return `output_size=${typeof this.outputSize === 'number' ? this.outputSize : tup(this.outputSize)}`; }
}

/** nn.Dropout: zeroes elements with probability p and scales the rest by 1/(1-p) in training; identity in eval. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`dropout probability has to be between 0 and 1, but got ${p}`);
  }
  forward(x: Tensor): Tensor { return F.dropout(x, this.p, this.training); }
  override extraRepr(): string { return `p=${this.p}, inplace=False`; }
}

export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) { super(); }
  forward(x: Tensor): Tensor { return x.flatten(this.startDim, this.endDim); }
  override extraRepr(): string { return `start_dim=${this.startDim}, end_dim=${this.endDim}`; }
}

/** nn.Identity: returns its input (the same Tensor object). */
export class Identity extends Module {
  forward(x: Tensor): Tensor { return x; }
}

/** nn.Sequential: children named "0", "1", ...; forward runs them in order. */
export class Sequential extends Module {
  private n = 0;
  constructor(...modules: Module[]) {
    super();
    for (const m of modules) this.append(m);
  }
  append(m: Module): this { this.registerModule(String(this.n++), m); return this; }
  get length(): number { return this.n; }
  /** The i-th module (negative counts from the end). */
  at(i: number): Module {
    const m = this.getModule(String(i < 0 ? this.n + i : i));
    if (!m) throw new RangeError(`Sequential: index ${i} is out of range (length ${this.n})`);
    return m;
  }
  [Symbol.iterator](): Iterator<Module> { return this.children()[Symbol.iterator](); }
  forward(x: Tensor): Tensor { return chain(x, [...this.children()].map((m) => (t: Tensor) => m.call(t))); }
}

/** nn.ModuleList: holds modules named "0", "1", ... without a forward of its own. */
export class ModuleList extends Module {
  private n = 0;
  constructor(modules: Module[] = []) { super(); for (const m of modules) this.append(m); }
  append(m: Module): this { this.registerModule(String(this.n++), m); return this; }
  get length(): number { return this.n; }
  at(i: number): Module {
    const m = this.getModule(String(i < 0 ? this.n + i : i));
    if (!m) throw new RangeError(`ModuleList: index ${i} is out of range (length ${this.n})`);
    return m;
  }
  [Symbol.iterator](): Iterator<Module> { return this.children()[Symbol.iterator](); }
  forward(_x: Tensor): Tensor { throw new Error('ModuleList has no forward; call its modules'); }
}
