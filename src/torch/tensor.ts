// The Tensor class: a TypeScript face over one native at::Tensor, with PyTorch's names and
// semantics (camelCased). Every method is a call into the op registry (ops.ts).
import { native, type Handle } from './native.js';
import { callOpRaw, type OpKey } from './ops.js';
import { track } from './scope.js';

import { DTYPES, type Dtype, type TypedArray } from '../util/dtypes.js';

export type { Dtype, TypedArray } from '../util/dtypes.js';
export type MemoryFormat = 'contiguous_format' | 'channels_last' | 'preserve_format';
export type Scalar = number | boolean;
export type TensorLike = Tensor | number | boolean;
export type Reduction = 'none' | 'mean' | 'sum';

export const REDUCTION: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

/** Wraps native results: handles become Tensors, arrays are mapped, other values pass through. */
export function wrap(raw: any): any {
  if (raw instanceof native.NativeTensor) return new Tensor(raw);
  if (Array.isArray(raw)) return raw.map(wrap);
  return raw;
}

/** Calls an op and wraps its result. */
export function op(key: OpKey, ...args: unknown[]): any {
  return wrap(callOpRaw(key, args));
}

function dims(d: number | number[]): number[] {
  return typeof d === 'number' ? [d] : d;
}

export class Tensor {
  readonly __isTensor = true as const;
  /** The native handle. dispose() frees its at::Tensor but keeps the handle: then isDisposed is true
   *  and any use throws 'tensor was disposed'. */
  h: Handle;

  constructor(h: Handle) {
    this.h = h;
    track(this);
  }

  // ---- metadata -------------------------------------------------------------------------------
  get shape(): number[] { return native.shape(this.h); }
  get dtype(): Dtype { return native.dtype(this.h) as Dtype; }
  get device(): string { return native.device(this.h); }
  get ndim(): number { return this.shape.length; }
  dim(): number { return this.shape.length; }
  size(d?: number): number | number[] {
    const s = this.shape;
    if (d === undefined) return s;
    return s[d < 0 ? d + s.length : d];
  }
  stride(): number[] { return native.strides(this.h); }
  get numel(): number { return this.shape.reduce((a, b) => a * b, 1); }
  get isLeaf(): boolean { return native.isLeaf(this.h); }
  get requiresGrad(): boolean { return native.requiresGrad(this.h); }
  // requires_grad_ returns self as a fresh native handle: free it at once (it would count as live until GC)
  set requiresGrad(on: boolean) { native.dispose(callOpRaw('requiresGrad_', [this, on])); }
  requiresGrad_(on = true): this { native.dispose(callOpRaw('requiresGrad_', [this, on])); return this; }
  get isDisposed(): boolean { return native.isDisposed(this.h); }
  /**
   * Tensor.is_contiguous(memory_format), computed from sizes and strides as c10::TensorImpl does
   * (aten::is_contiguous is a TorchScript prim, not a dispatcher op, so it cannot be called by name).
   */
  isContiguous(memoryFormat: MemoryFormat = 'contiguous_format'): boolean {
    const size = this.shape, st = this.stride();
    let order: number[];
    if (memoryFormat === 'contiguous_format') order = size.map((_, i) => size.length - 1 - i);
    else if (memoryFormat === 'channels_last') { if (size.length !== 4) return false; order = [1, 3, 2, 0]; }
    else throw new Error(`isContiguous: memory format '${memoryFormat}' is not a layout`);
    if (size.some((s) => s === 0)) return true;
    let expected = 1;
    for (const d of order) {
      if (size[d] === 1) continue;
      if (st[d] !== expected) return false;
      expected *= size[d];
    }
    return true;
  }
  isFloatingPoint(): boolean { return ['float32', 'float64', 'float16', 'bfloat16'].includes(this.dtype); }

  /** Frees the native tensor now (idempotent). */
  dispose(): void { native.dispose(this.h); }

  toString(): string { return `Tensor(shape=[${this.shape}], dtype=${this.dtype}, device=${this.device})`; }

  // ---- autograd -------------------------------------------------------------------------------
  get grad(): Tensor | null { const g = native.getGrad(this.h); return g ? new Tensor(g) : null; }
  set grad(g: Tensor | null) { native.setGrad(this.h, g ? g.h : null); }
  backward(gradient?: Tensor, opts: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    native.backward([this.h], gradient ? [gradient.h] : null, opts.retainGraph, opts.createGraph);
  }
  detach(): Tensor { return op('detach', this); }

  // ---- conversion and read-back --------------------------------------------------------------
  to(target: Dtype | string | { dtype?: Dtype; device?: string; memoryFormat?: MemoryFormat }): Tensor {
    if (typeof target === 'string') {
      if (isDtype(target)) return op('to', this, target);
      return op('toDevice', this, target, this.dtype);
    }
    let t: Tensor = this;
    if (target.device) t = op('toDevice', t, target.device, target.dtype ?? t.dtype, false, false, target.memoryFormat);
    else if (target.dtype || target.memoryFormat) t = op('to', t, target.dtype ?? t.dtype, false, false, target.memoryFormat);
    return t;
  }
  float(): Tensor { return this.to('float32'); }
  double(): Tensor { return this.to('float64'); }
  long(): Tensor { return this.to('int64'); }
  int(): Tensor { return this.to('int32'); }
  bool(): Tensor { return this.to('bool'); }
  cpu(): Tensor { return this.to('cpu'); }
  cuda(): Tensor { return this.to('cuda'); }
  clone(memoryFormat?: MemoryFormat): Tensor { return op('clone', this, memoryFormat); }
  contiguous(memoryFormat: MemoryFormat = 'contiguous_format'): Tensor { return op('contiguous', this, memoryFormat); }

  /** The value of a one-element tensor. */
  item(): number { const v = callOpRaw('item', [this]); return typeof v === 'boolean' ? Number(v) : v; }

  /** A copy of the data, row-major, in the typed array matching the dtype. */
  data(): TypedArray {
    const array = DTYPES[this.dtype].array;
    if (array) return new array(native.toBuffer(this.h));
    // float16 / bfloat16: no JS typed array holds them
    const f = this.to('float32');
    try { return new Float32Array(native.toBuffer(f.h)); } finally { f.dispose(); }
  }
  /** The data as plain JS numbers (int64 converted to Number). */
  toFloat64Array(): Float64Array {
    const d = this.data();
    if (d instanceof BigInt64Array) return Float64Array.from(d, (x) => Number(x));
    return Float64Array.from(d as ArrayLike<number>);
  }
  /** Nested arrays of numbers (booleans for bool tensors), like PyTorch's tolist(). */
  tolist(): any {
    const flat = Array.from(this.toFloat64Array()) as any[];
    const vals = this.dtype === 'bool' ? flat.map((x) => x !== 0) : flat;
    const shape = this.shape;
    if (shape.length === 0) return vals[0];
    let pos = 0;
    const build = (d: number): any[] => {
      const out: any[] = [];
      for (let i = 0; i < shape[d]; i++) out.push(d === shape.length - 1 ? vals[pos++] : build(d + 1));
      return out;
    };
    return build(0);
  }

  // ---- arithmetic -----------------------------------------------------------------------------
  add(other: TensorLike, alpha?: number): Tensor {
    return other instanceof Tensor ? op('add', this, other, alpha) : op('addScalar', this, other, alpha);
  }
  sub(other: TensorLike, alpha?: number): Tensor {
    return other instanceof Tensor ? op('sub', this, other, alpha) : op('subScalar', this, other, alpha);
  }
  /** other - this (PyTorch's rsub). */
  rsub(other: number, alpha?: number): Tensor { return op('rsubScalar', this, other, alpha); }
  mul(other: TensorLike): Tensor { return other instanceof Tensor ? op('mul', this, other) : op('mulScalar', this, other); }
  div(other: TensorLike, roundingMode?: 'trunc' | 'floor'): Tensor {
    if (roundingMode) return other instanceof Tensor ? op('divMode', this, other, roundingMode) : op('divScalarMode', this, other, roundingMode);
    return other instanceof Tensor ? op('div', this, other) : op('divScalar', this, other);
  }
  remainder(other: TensorLike): Tensor {
    return other instanceof Tensor ? op('remainder', this, other) : op('remainderScalar', this, other);
  }
  pow(exponent: TensorLike): Tensor {
    return exponent instanceof Tensor ? op('pow', this, exponent) : op('powScalar', this, exponent);
  }
  neg(): Tensor { return op('neg', this); }
  abs(): Tensor { return op('abs', this); }
  exp(): Tensor { return op('exp', this); }
  log(): Tensor { return op('log', this); }
  log1p(): Tensor { return op('log1p', this); }
  log2(): Tensor { return op('log2', this); }
  sqrt(): Tensor { return op('sqrt', this); }
  rsqrt(): Tensor { return op('rsqrt', this); }
  sign(): Tensor { return op('sign', this); }
  square(): Tensor { return op('square', this); }
  reciprocal(): Tensor { return op('reciprocal', this); }
  floor(): Tensor { return op('floor', this); }
  ceil(): Tensor { return op('ceil', this); }
  round(): Tensor { return op('round', this); }
  sin(): Tensor { return op('sin', this); }
  cos(): Tensor { return op('cos', this); }
  erf(): Tensor { return op('erf', this); }
  clamp(min?: TensorLike | null, max?: TensorLike | null): Tensor {
    if (min instanceof Tensor || max instanceof Tensor) return op('clampTensor', this, min ?? null, max ?? null);
    return op('clamp', this, min ?? null, max ?? null);
  }
  clampMin(min: number): Tensor { return this.clamp(min, null); }
  clampMax(max: number): Tensor { return this.clamp(null, max); }
  maximum(other: Tensor): Tensor { return op('maximum', this, other); }
  minimum(other: Tensor): Tensor { return op('minimum', this, other); }

  // in-place variants return this (the native call returns the same tensor, which we free at once)
  private inplace(key: OpKey, ...args: unknown[]): this {
    native.dispose(callOpRaw(key, [this, ...args]));
    return this;
  }
  add_(other: TensorLike, alpha?: number): this { return other instanceof Tensor ? this.inplace('add_', other, alpha) : this.inplace('addScalar_', other, alpha); }
  sub_(other: TensorLike, alpha?: number): this { return other instanceof Tensor ? this.inplace('sub_', other, alpha) : this.inplace('subScalar_', other, alpha); }
  mul_(other: TensorLike): this { return other instanceof Tensor ? this.inplace('mul_', other) : this.inplace('mulScalar_', other); }
  div_(other: TensorLike): this { return other instanceof Tensor ? this.inplace('div_', other) : this.inplace('divScalar_', other); }
  addcmul_(t1: Tensor, t2: Tensor, value = 1): this { return this.inplace('addcmul_', t1, t2, value); }
  addcdiv_(t1: Tensor, t2: Tensor, value = 1): this { return this.inplace('addcdiv_', t1, t2, value); }
  lerp_(end: Tensor, weight: number): this { return this.inplace('lerp_', end, weight); }
  clamp_(min?: number | null, max?: number | null): this { return this.inplace('clamp_', min ?? null, max ?? null); }
  sqrt_(): this { return this.inplace('sqrt_'); }
  relu_(): this { return this.inplace('relu_'); }
  zero_(): this { return this.inplace('zero_'); }
  fill_(value: number): this { return this.inplace('fill_', value); }
  copy_(src: Tensor): this { return this.inplace('copy_', src); }
  /** Makes this tensor use src's storage, sizes and strides (e.g. a parameter converted to channels_last, under noGrad). */
  set_(src: Tensor): this { return this.inplace('set_', src); }
  normal_(mean = 0, std = 1): this { return this.inplace('normal_', mean, std); }
  uniform_(from = 0, to = 1): this { return this.inplace('uniform_', from, to); }
  bernoulli_(p = 0.5): this { return this.inplace('bernoulli_', p); }
  indexPut_(indices: (Tensor | null)[], values: Tensor, accumulate = false): this { return this.inplace('indexPut_', indices, values, accumulate); }
  maskedFill_(mask: Tensor, value: number): this { return this.copy_Owned(this.maskedFill(mask, value)); }
  private copy_Owned(t: Tensor): this { this.copy_(t); t.dispose(); return this; }

  // ---- comparison and logic -------------------------------------------------------------------
  eq(o: TensorLike): Tensor { return o instanceof Tensor ? op('eq', this, o) : op('eqScalar', this, o); }
  ne(o: TensorLike): Tensor { return o instanceof Tensor ? op('ne', this, o) : op('neScalar', this, o); }
  lt(o: TensorLike): Tensor { return o instanceof Tensor ? op('lt', this, o) : op('ltScalar', this, o); }
  le(o: TensorLike): Tensor { return o instanceof Tensor ? op('le', this, o) : op('leScalar', this, o); }
  gt(o: TensorLike): Tensor { return o instanceof Tensor ? op('gt', this, o) : op('gtScalar', this, o); }
  ge(o: TensorLike): Tensor { return o instanceof Tensor ? op('ge', this, o) : op('geScalar', this, o); }
  logicalAnd(o: Tensor): Tensor { return op('logicalAnd', this, o); }
  logicalOr(o: Tensor): Tensor { return op('logicalOr', this, o); }
  logicalNot(): Tensor { return op('logicalNot', this); }
  isnan(): Tensor { return op('isnan', this); }
  isfinite(): Tensor { return op('isfinite', this); }
  any(): Tensor { return op('any', this); }
  all(): Tensor { return op('all', this); }
  equal(o: Tensor): boolean { return callOpRaw('equal', [this, o]); }
  allclose(o: Tensor, rtol = 1e-5, atol = 1e-8): boolean { return callOpRaw('allclose', [this, o, rtol, atol]); }
  /** cond ? this : other */
  where(cond: Tensor, other: Tensor): Tensor { return op('where', cond, this, other); }

  // ---- reductions -----------------------------------------------------------------------------
  sum(dim?: number | number[], keepdim = false, dtype?: Dtype): Tensor {
    return dim === undefined ? op('sum', this, dtype) : op('sumDim', this, dims(dim), keepdim, dtype);
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    return dim === undefined ? op('mean', this) : op('meanDim', this, dims(dim), keepdim);
  }
  /** Without dim: the maximum value. With dim: [values, indices]. */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): [Tensor, Tensor];
  max(dim?: number, keepdim = false): any { return dim === undefined ? op('max', this) : op('maxDim', this, dim, keepdim); }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): [Tensor, Tensor];
  min(dim?: number, keepdim = false): any { return dim === undefined ? op('min', this) : op('minDim', this, dim, keepdim); }
  amax(dim: number | number[] = [], keepdim = false): Tensor { return op('amax', this, dims(dim), keepdim); }
  amin(dim: number | number[] = [], keepdim = false): Tensor { return op('amin', this, dims(dim), keepdim); }
  argmax(dim?: number, keepdim = false): Tensor { return op('argmax', this, dim ?? null, keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return op('argmin', this, dim ?? null, keepdim); }
  topk(k: number, dim = -1, largest = true, sorted = true): [Tensor, Tensor] { return op('topk', this, k, dim, largest, sorted); }
  sort(dim = -1, descending = false): [Tensor, Tensor] { return op('sort', this, dim, descending); }
  argsort(dim = -1, descending = false): Tensor { return op('argsort', this, dim, descending); }
  kthvalue(k: number, dim = -1, keepdim = false): [Tensor, Tensor] { return op('kthvalue', this, k, dim, keepdim); }
  /** Variance; `unbiased` (default true) divides by N-1 like torch.var. */
  var(dim?: number | number[], unbiased = true, keepdim = false): Tensor {
    return op('var', this, dim === undefined ? null : dims(dim), unbiased ? 1 : 0, keepdim);
  }
  std(dim?: number | number[], unbiased = true, keepdim = false): Tensor {
    return op('std', this, dim === undefined ? null : dims(dim), unbiased ? 1 : 0, keepdim);
  }
  norm(p: number = 2, dim?: number | number[], keepdim = false): Tensor {
    return op('norm', this, p, dim === undefined ? [] : dims(dim), keepdim);
  }
  prod(): Tensor { return op('prod', this); }
  cumsum(dim: number): Tensor { return op('cumsum', this, dim); }
  logsumexp(dim: number | number[], keepdim = false): Tensor { return op('logsumexp', this, dims(dim), keepdim); }
  quantile(q: number, dim?: number, keepdim = false, interpolation: 'linear' | 'lower' | 'higher' | 'midpoint' | 'nearest' = 'linear'): Tensor {
    return op('quantile', this, q, dim ?? null, keepdim, interpolation);
  }
  countNonzero(dim?: number | number[]): Tensor { return op('countNonzero', this, dim === undefined ? [] : dims(dim)); }

  // ---- linear algebra -------------------------------------------------------------------------
  matmul(o: Tensor): Tensor { return op('matmul', this, o); }
  mm(o: Tensor): Tensor { return op('mm', this, o); }
  bmm(o: Tensor): Tensor { return op('bmm', this, o); }
  t(): Tensor { return op('t', this); }
  outer(o: Tensor): Tensor { return op('outer', this, o); }

  // ---- shape ----------------------------------------------------------------------------------
  reshape(...shape: number[] | [number[]]): Tensor { return op('reshape', this, flatArgs(shape)); }
  view(...shape: number[] | [number[]]): Tensor { return op('view', this, flatArgs(shape)); }
  permute(...order: number[] | [number[]]): Tensor { return op('permute', this, flatArgs(order)); }
  transpose(d0: number, d1: number): Tensor { return op('transpose', this, d0, d1); }
  squeeze(dim?: number): Tensor { return dim === undefined ? op('squeeze', this) : op('squeezeDim', this, dim); }
  unsqueeze(dim: number): Tensor { return op('unsqueeze', this, dim); }
  flatten(startDim = 0, endDim = -1): Tensor { return op('flatten', this, startDim, endDim); }
  expand(...shape: number[] | [number[]]): Tensor { return op('expand', this, flatArgs(shape)); }
  expandAs(o: Tensor): Tensor { return this.expand(o.shape); }
  repeat(...reps: number[] | [number[]]): Tensor { return op('repeat', this, flatArgs(reps)); }
  narrow(dim: number, start: number, length: number): Tensor { return op('narrow', this, dim, start, length); }
  /** Python's x[start:end:step] along dim (negative and omitted bounds allowed). */
  slice(dim: number, start: number | null = null, end: number | null = null, step = 1): Tensor {
    return op('slice', this, dim, start, end, step);
  }
  select(dim: number, index: number): Tensor { return op('select', this, dim, index); }
  indexSelect(dim: number, index: Tensor): Tensor { return op('indexSelect', this, dim, index); }
  gather(dim: number, index: Tensor): Tensor { return op('gather', this, dim, index); }
  scatter(dim: number, index: Tensor, src: TensorLike): Tensor {
    return src instanceof Tensor ? op('scatter', this, dim, index, src) : op('scatterValue', this, dim, index, src);
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return op('scatterAdd', this, dim, index, src); }
  maskedFill(mask: Tensor, value: number): Tensor { return op('maskedFill', this, mask, value); }
  maskedSelect(mask: Tensor): Tensor { return op('maskedSelect', this, mask); }
  /** Advanced indexing x[i0, i1, ...] with index tensors (null = full slice), like aten::index. */
  index(indices: (Tensor | null)[]): Tensor { return op('index', this, indices); }
  nonzero(): Tensor { return op('nonzero', this); }
  split(sizeOrSizes: number | number[], dim = 0): Tensor[] {
    return typeof sizeOrSizes === 'number' ? op('split', this, sizeOrSizes, dim) : op('splitSizes', this, sizeOrSizes, dim);
  }
  chunk(chunks: number, dim = 0): Tensor[] { return op('chunk', this, chunks, dim); }
  unbind(dim = 0): Tensor[] { return op('unbind', this, dim); }
  flip(...d: number[] | [number[]]): Tensor { return op('flip', this, flatArgs(d)); }
  roll(shifts: number | number[], d: number | number[] = []): Tensor { return op('roll', this, dims(shifts), dims(d)); }
  tril(diagonal = 0): Tensor { return op('tril', this, diagonal); }
  triu(diagonal = 0): Tensor { return op('triu', this, diagonal); }
}

function flatArgs(a: number[] | [number[]]): number[] {
  return a.length === 1 && Array.isArray(a[0]) ? (a[0] as number[]) : (a as number[]);
}

export function isDtype(s: string): s is Dtype {
  return Object.hasOwn(DTYPES, s);
}
