// Validation of class labels read from a file (e.g. the labels .npy of `csgnet mis`): integer dtype,
// one label per sample, every value read exactly (int64 as bigint: no wrapping, no rounding), none
// negative, and a class count bounded by the data.
//
// The bound: the class count is max label + 1, and the MI matrix has one row per class; a class with
// no sample only adds a row of zeros (MI of a constant target), so it can never change MIS, while
// every row costs O(N) memory and time (one-vs-rest targets). So:
//   - max label < N (the number of samples): with a larger label at least one class between 0 and it
//     is empty (N samples cannot fill N + 1 classes), which is a mislabelled or wrong file, not data;
//   - max label < MAX_CLASSES = 65536: above every classification label set in use (ImageNet-21k has
//     21,841 classes), and it keeps the [C, N] targets of a huge N bounded.
// Errors name the file (and the flag, when given), the offending value and its index.
import type { NpyArray } from '../io/npy.js';

export const MAX_CLASSES = 65536;

export interface ValidLabels {
  /** The labels, each in [0, numClasses). */
  labels: Int32Array;
  /** max label + 1. */
  numClasses: number;
}

/**
 * Checks labels read from `path` (a parsed .npy) for `n` samples. `flag` (e.g. '--labels') is named
 * in the errors. Accepts integer dtypes (int8..int64, uint8, bool); refuses floats, wrong shapes,
 * negative labels and labels >= min(n, MAX_CLASSES).
 */
export function validateLabels(arr: Pick<NpyArray, 'data' | 'shape' | 'dtype'>, path: string, n: number, flag?: string): ValidLabels {
  const where = flag ? `${flag} ${path}` : path;
  if (arr.shape.length !== 1 || arr.shape[0] !== n) throw new Error(`${where}: expected ${n} labels (shape [${n}]), got shape [${arr.shape}]`);
  const d = arr.data;
  if (d instanceof Float32Array || d instanceof Float64Array) throw new Error(`${where}: labels must be integers, got ${arr.dtype}`);
  if (n === 0) throw new Error(`${where}: no labels (0 samples)`);
  const bound = Math.min(n, MAX_CLASSES);
  const why = (v: bigint | number) => BigInt(v) >= BigInt(MAX_CLASSES)
    ? `at most ${MAX_CLASSES} classes are supported`
    : `a label must be < the number of samples, ${n}: classes 0..${v} cannot all occur in ${n} samples`;
  const labels = new Int32Array(n);
  let max = 0;
  if (d instanceof BigInt64Array) {
    const b = BigInt(bound);
    for (let i = 0; i < n; i++) {
      const v = d[i]!;
      if (v < 0n) throw new Error(`${where}: label ${v} at index ${i} is negative`);
      if (v >= b) throw new Error(`${where}: label ${v} at index ${i} is out of range (${why(v)})`);
      labels[i] = Number(v);
      if (labels[i]! > max) max = labels[i]!;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = (d as Int32Array | Int16Array | Uint8Array)[i]!;
      if (v < 0) throw new Error(`${where}: label ${v} at index ${i} is negative`);
      if (v >= bound) throw new Error(`${where}: label ${v} at index ${i} is out of range (${why(v)})`);
      labels[i] = v;
      if (v > max) max = v;
    }
  }
  return { labels, numClasses: max + 1 };
}
