// libtorch's intra-op thread count: the default csgnet applies when it loads libtorch, and a way to
// choose another one before or after that. Importing this module loads nothing native, so the CLI can
// take --threads for a command before (or without) loading libtorch.
import { availableParallelism } from 'node:os';

/** The thread count csgnet sets when libtorch loads: every core (`os.availableParallelism()`), unless
 *  OMP_NUM_THREADS is set (then null: libtorch's OpenMP pool already follows it). libtorch's own default
 *  can be 1 thread (omp_get_max_threads() is 1 on some machines), which PyTorch users do not expect. */
export function defaultNumThreads(env: NodeJS.ProcessEnv = process.env): number | null {
  return env.OMP_NUM_THREADS ? null : availableParallelism();
}

let requested: number | null = null;
let setter: ((n: number) => void) | null = null;

/** Chooses the intra-op thread count: now when libtorch is loaded, else as soon as it loads (instead of
 *  the default). n <= 0 keeps the default. Returns the count that was (or will be) set, or null. */
export function useNumThreads(n: number): number | null {
  if (!Number.isInteger(n)) throw new Error(`thread count must be an integer, got ${n}`);
  if (n <= 0) return requested;
  requested = n;
  setter?.(n);
  return n;
}

/** Called once by src/torch/native.ts when the addon has loaded: applies the chosen or default count. */
export function attachThreadSetter(set: (n: number) => void): void {
  setter = set;
  const n = requested ?? defaultNumThreads();
  if (n !== null) set(n);
}
