// Tensor factories (torch.tensor, zeros, randn, ...) and the global RNG / thread settings.
import { native } from './native.js';
import { Tensor, op, wrap, type Dtype, type TypedArray } from './tensor.js';
import { DTYPES, dtypeOfArray } from '../util/dtypes.js';

export interface TensorOptions { dtype?: Dtype; device?: string; requiresGrad?: boolean }

function finish(t: Tensor, o: TensorOptions | undefined): Tensor {
  if (o?.requiresGrad) t.requiresGrad_(true);
  return t;
}


/** A tensor from a typed array (copied) with a shape; dtype defaults to the array's own. */
export function fromTypedArray(data: TypedArray, shape: number[], opts: TensorOptions = {}): Tensor {
  const own = dtypeOfArray(data);
  const dtype = opts.dtype ?? own;
  // bytes other than 0/1 are not valid bools: convert uint8 -> bool with != 0 (to('bool')) instead of copying
  let t = new Tensor(native.fromBuffer(data, shape, own));
  if (dtype !== t.dtype) { const c = t.to(dtype); t.dispose(); t = c; }
  if (opts.device && opts.device !== 'cpu') { const c = t.to(opts.device); t.dispose(); t = c; }
  return finish(t, opts);
}

/**
 * torch.tensor: from a number, nested arrays of numbers/booleans, or a typed array (1-D).
 * Integers infer int64, other numbers float32, booleans bool, as PyTorch does.
 */
export function tensor(data: number | boolean | unknown[] | TypedArray, opts: TensorOptions = {}): Tensor {
  if (ArrayBuffer.isView(data)) return fromTypedArray(data as TypedArray, [(data as TypedArray).length], opts);
  const shape: number[] = [];
  let probe: unknown = data;
  while (Array.isArray(probe)) { shape.push(probe.length); probe = probe[0]; }
  const flat: unknown[] = Array.isArray(data) ? (data as unknown[]).flat(Infinity) : [data];
  const n = shape.reduce((a, b) => a * b, 1);
  const regular = (v: unknown, d: number): boolean => d === shape.length ? !Array.isArray(v)
    : Array.isArray(v) && v.length === shape[d] && v.every((e) => regular(e, d + 1));
  if (flat.length !== n || !regular(data, 0)) throw new Error(`tensor: ragged nested array (shape ${JSON.stringify(shape)} needs ${n} values, got ${flat.length})`);
  let dtype = opts.dtype;
  if (!dtype) {
    if (flat.length && flat.every((v) => typeof v === 'boolean')) dtype = 'bool';
    else if (flat.length && flat.every((v) => Number.isInteger(v))) dtype = 'int64';
    else dtype = 'float32';
  }
  // float16/bfloat16 have no typed array: fill float32, convert below
  const holder = Object.hasOwn(DTYPES, dtype) && DTYPES[dtype].array ? dtype : 'float32';
  const arr = new (DTYPES[holder].array!)(n);
  for (let i = 0; i < n; i++) {
    const v = flat[i];
    if (typeof v !== 'number' && typeof v !== 'boolean') throw new TypeError(`tensor: element ${i} is ${typeof v}, expected a number or boolean`);
    (arr as any)[i] = arr instanceof BigInt64Array ? BigInt(Math.trunc(Number(v))) : dtype === 'bool' ? (v ? 1 : 0) : Number(v);
  }
  let t = new Tensor(native.fromBuffer(arr, shape, holder));
  if (t.dtype !== dtype) { const c = t.to(dtype); t.dispose(); t = c; }
  if (opts.device && opts.device !== 'cpu') { const c = t.to(opts.device); t.dispose(); t = c; }
  return finish(t, opts);
}

type Shape = number[];
const dev = (o?: TensorOptions) => o?.device ?? null;

export function zeros(shape: Shape, o?: TensorOptions): Tensor { return finish(op('zeros', shape, o?.dtype, null, dev(o)), o); }
export function ones(shape: Shape, o?: TensorOptions): Tensor { return finish(op('ones', shape, o?.dtype, null, dev(o)), o); }
export function empty(shape: Shape, o?: TensorOptions): Tensor { return finish(op('empty', shape, o?.dtype, null, dev(o)), o); }
export function full(shape: Shape, value: number | boolean, o?: TensorOptions): Tensor {
  return finish(op('full', shape, value, o?.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32'), null, dev(o)), o);
}
/** arange(end) or arange(start, end, step); integers give int64, as in PyTorch. */
export function arange(start: number, end?: number, step = 1, o?: TensorOptions): Tensor {
  if (end === undefined) { end = start; start = 0; }
  const dtype = o?.dtype ?? ([start, end, step].every(Number.isInteger) ? 'int64' : 'float32');
  return finish(op('arange', start, end, step, dtype, null, dev(o)), o);
}
export function linspace(start: number, end: number, steps: number, o?: TensorOptions): Tensor {
  return finish(op('linspace', start, end, steps, o?.dtype, null, dev(o)), o);
}
export function eye(n: number, o?: TensorOptions): Tensor { return finish(op('eye', n, o?.dtype, null, dev(o)), o); }
export function rand(shape: Shape, o?: TensorOptions): Tensor { return finish(op('rand', shape, o?.dtype, null, dev(o)), o); }
export function randn(shape: Shape, o?: TensorOptions): Tensor { return finish(op('randn', shape, o?.dtype, null, dev(o)), o); }
/** Integers uniform in [low, high). */
export function randint(low: number, high: number, shape: Shape, o?: TensorOptions): Tensor {
  return finish(op('randint', low, high, shape, o?.dtype ?? 'int64', null, dev(o)), o);
}
export function randperm(n: number, o?: TensorOptions): Tensor { return finish(op('randperm', n, o?.dtype ?? 'int64', null, dev(o)), o); }
export function zerosLike(t: Tensor, o?: TensorOptions): Tensor { return finish(op('zerosLike', t, o?.dtype), o); }
export function onesLike(t: Tensor, o?: TensorOptions): Tensor { return finish(op('onesLike', t, o?.dtype), o); }
export function fullLike(t: Tensor, v: number, o?: TensorOptions): Tensor { return finish(op('fullLike', t, v, o?.dtype), o); }
export function randLike(t: Tensor): Tensor { return op('randLike', t); }
export function randnLike(t: Tensor): Tensor { return op('randnLike', t); }
export function emptyLike(t: Tensor): Tensor { return op('emptyLike', t); }

export function cat(tensors: Tensor[], dim = 0): Tensor { return op('cat', tensors, dim); }
export function stack(tensors: Tensor[], dim = 0): Tensor { return op('stack', tensors, dim); }
/** cond ? a : b elementwise. */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor { return op('where', cond, a, b); }

/** Seeds libtorch's global CPU generator (and CUDA's, where present). */
export function manualSeed(seed: number): void { native.manualSeed(seed); }
/** The global generator's state, for checkpoints. */
export function getRngState(): Tensor { return wrap(native.getRngState()); }
export function setRngState(state: Tensor): void { native.setRngState(state.h); }
export function setNumThreads(n: number): void { native.setNumThreads(n); }
export function getNumThreads(): number { return native.getNumThreads(); }
export function cudaIsAvailable(): boolean { return native.cudaAvailable(); }
/** libtorch's version string, e.g. "1.13.1". */
export function libtorchVersion(): string { return native.version(); }
/** Count of native tensors alive (created and not yet freed), for leak checks. */
export function liveTensors(): number { return native.liveTensors(); }

/** The cap of csgnet's CPU block cache unless CSGNET_CPU_CACHE_MB sets another (1 GiB). */
export const DEFAULT_CPU_CACHE_BYTES = 2 ** 30;
/** Frees the blocks of freed tensors that the caching CPU allocator keeps for reuse (the CPU analogue
 *  of torch.cuda.empty_cache); RSS then drops by them. */
export function emptyCache(): void { native.emptyCache(); }
/** Bytes held in that cache (0 with CSGNET_DEFAULT_ALLOCATOR=1, which keeps libtorch's own allocator). */
export function cachedBytes(): number { return native.cachedBytes(); }
/** Caps the cache at `bytes` (0 = cache nothing); blocks beyond the cap are freed when released. */
export function setCacheLimit(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new Error(`setCacheLimit: bytes must be a non-negative integer, got ${bytes}`);
  native.setCacheLimit(bytes);
}
