// The one dtype table: each tensor dtype's element size, the JS typed array that holds it, NumPy's
// .npy descriptor and the safetensors code. The tensor API, .npy and safetensors I/O all read it; the
// addon's own name <-> ScalarType table (native/src/convert.cc) is checked against it by a test.
export type Dtype = 'float32' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool' | 'float16' | 'bfloat16';

export type TypedArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | BigInt64Array;

export interface TypedArrayCtor<T extends TypedArray = TypedArray> {
  new (length: number): T;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

export interface DtypeInfo {
  /** Bytes per element. */
  itemSize: number;
  /** The typed array holding its values; null for float16/bfloat16 (JS has none: they are read as float32). */
  array: TypedArrayCtor | null;
  /** NumPy's little-endian descriptor, or null where NumPy has no such type. */
  npy: string | null;
  /** The safetensors dtype code. */
  safetensors: string;
}

const c = <T extends TypedArray>(ctor: unknown) => ctor as TypedArrayCtor<T>;

export const DTYPES: Readonly<Record<Dtype, DtypeInfo>> = {
  float64: { itemSize: 8, array: c(Float64Array), npy: '<f8', safetensors: 'F64' },
  float32: { itemSize: 4, array: c(Float32Array), npy: '<f4', safetensors: 'F32' },
  float16: { itemSize: 2, array: null, npy: '<f2', safetensors: 'F16' },
  bfloat16: { itemSize: 2, array: null, npy: null, safetensors: 'BF16' },
  int64: { itemSize: 8, array: c(BigInt64Array), npy: '<i8', safetensors: 'I64' },
  int32: { itemSize: 4, array: c(Int32Array), npy: '<i4', safetensors: 'I32' },
  int16: { itemSize: 2, array: c(Int16Array), npy: '<i2', safetensors: 'I16' },
  int8: { itemSize: 1, array: c(Int8Array), npy: '|i1', safetensors: 'I8' },
  uint8: { itemSize: 1, array: c(Uint8Array), npy: '|u1', safetensors: 'U8' },
  bool: { itemSize: 1, array: c(Uint8Array), npy: '|b1', safetensors: 'BOOL' },
};

export const DTYPE_NAMES = Object.keys(DTYPES) as Dtype[];

/** The dtype a typed array holds (a Uint8Array is uint8: bool is a reading of its bytes, never implied). */
export function dtypeOfArray(a: TypedArray): Dtype {
  if (a instanceof Uint8Array) return 'uint8';
  for (const name of DTYPE_NAMES) {
    const ctor = DTYPES[name].array;
    if (ctor && a instanceof (ctor as unknown as Function)) return name;
  }
  throw new TypeError(`not a supported typed array: ${Object.prototype.toString.call(a)}`);
}

/** The dtype with this field value (e.g. dtypeWhere('safetensors', 'F32') === 'float32'), or undefined. */
export function dtypeWhere(field: 'npy' | 'safetensors', value: string): Dtype | undefined {
  return DTYPE_NAMES.find((n) => DTYPES[n][field] === value);
}
