// The key of a cached analysis: everything that produced it. Torch-free, so that `compare` can tell
// whether RUN_DIR/analysis/analysis.json is still valid without loading libtorch.
import { isAbsolute, relative, resolve } from 'node:path';
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { checkpointPath } from '../csg/run_dir.js';
import type { MiMatrixOptions } from '../metrics/mutual_info.js';
import { DEFAULT_N_NEIGHBORS } from '../metrics/mi/estimator.js';

export interface CheckpointKey { file: string; bytes: number; sha256: string; run?: string }

export interface AnalyzeOptions { split?: 'test' | 'train' | 'val'; limit?: number; checkpoint?: string; mi?: MiMatrixOptions }

/**
 * Everything that produced an analysis: which checkpoint (its path, size and SHA-256 of its bytes, so a
 * rewritten checkpoint is told apart whatever its mtime), split, image limit and MI options (defaults
 * filled in). A cached analysis.json is reused only when its key equals the wanted one.
 */
export interface AnalysisKey {
  /** 2: images normalised with the run's training statistics on every split (1 used the split's own). */
  version: 2;
  /**
   * The checkpoint path relative to the run folder (absolute when outside it), its size and SHA-256, and the run
   * folder's real path (absent in results of older csgnets): a result written into another run's folder says so.
   */
  checkpoint: CheckpointKey;
  split: 'test' | 'train' | 'val';
  /** First N images (0 = all). */
  limit: number;
  mi: { n_neighbors: number; random_state: number | null; balance_negatives: boolean; balance_seed: number | null; normalize_columns: boolean };
}

function hashFile(path: string): { bytes: number; sha256: string } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new Error(`checkpoint not found or unreadable: ${path} (${(e as Error).message})`);
  }
  try {
    const h = createHash('sha256');
    const chunk = Buffer.alloc(1 << 22);
    let bytes = 0;
    for (;;) {
      const r = readSync(fd, chunk, 0, chunk.length, bytes);
      if (r === 0) break;
      h.update(chunk.subarray(0, r));
      bytes += r;
    }
    if (bytes !== fstatSync(fd).size) throw new Error(`${path} changed while it was read`);
    return { bytes, sha256: h.digest('hex') };
  } finally {
    closeSync(fd);
  }
}

/** The key of an analysis of run `dir` with options `o` (hashes the checkpoint file). */
export function analysisKey(dir: string, o: AnalyzeOptions = {}): AnalysisKey {
  const path = checkpointPath(dir, o.checkpoint ?? 'last');
  const rel = relative(resolve(dir), resolve(path));
  const file = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : resolve(path);
  const mi = o.mi ?? {};
  const randomState = mi.randomState === undefined ? 0 : mi.randomState;
  return {
    version: 2,
    checkpoint: { file, ...hashFile(path), run: realpathSync(resolve(dir)) },
    split: o.split ?? 'test',
    limit: o.limit ?? 0,
    mi: {
      n_neighbors: mi.nNeighbors ?? DEFAULT_N_NEIGHBORS, random_state: randomState, balance_negatives: !!mi.balanceNegatives,
      balance_seed: mi.balanceNegatives ? (mi.balanceSeed ?? randomState ?? 0) : null, normalize_columns: !!mi.normalizeColumns,
    },
  };
}

/** 'from another run (DIR)' when a result's checkpoint is not `want` and belongs to another run folder, else ''. */
function fromAnotherRun(have: Partial<CheckpointKey>, want: CheckpointKey): string {
  const same = have.file === want.file && have.bytes === want.bytes && have.sha256 === want.sha256;
  return !same && have.run && want.run && have.run !== want.run ? `from another run (${have.run})` : '';
}

/** Why a cached analysis `file` with key `have` is not the one wanted: a sentence starting with the file, '' when it is. */
export function analysisStaleness(file: string, have: AnalysisKey | undefined, want: AnalysisKey): string {
  const other = have?.checkpoint ? fromAnotherRun(have.checkpoint, want.checkpoint) : '';
  if (other) return `${file} is ${other}`;
  const diff = keyDifference(have, want);
  return diff ? `${file} was made with ${diff}` : '';
}

/**
 * Why a result `file` (localization.json, adversarial.json) recording checkpoint key `have` is not a result of
 * checkpoint `want`: a sentence starting with the file, '' when it is.
 */
export function resultStaleness(file: string, have: Partial<CheckpointKey> | null | undefined, want: CheckpointKey): string {
  if (!have || typeof have !== 'object' || typeof have.sha256 !== 'string') return `${file} was made by an older csgnet (no checkpoint key)`;
  const other = fromAnotherRun(have, want);
  if (other) return `${file} is ${other}`;
  if (have.file !== want.file) return `${file} was made from ${have.file}, not ${want.file}`;
  if (have.bytes !== want.bytes || have.sha256 !== want.sha256) return `${file} was made from an older ${want.file} (its content changed since)`;
  return '';
}

/** How two keys differ, for a message ('' when they are equal). */
export function keyDifference(have: AnalysisKey | undefined, want: AnalysisKey): string {
  if (!have) return 'it has no key (made by an older csgnet)';
  if (have.version !== want.version) return 'it was made by an older csgnet (before the training normalisation was used on every split)';
  const diffs: string[] = [];
  if (have.checkpoint?.file !== want.checkpoint.file) diffs.push(`checkpoint ${have.checkpoint?.file} instead of ${want.checkpoint.file}`);
  else if (have.checkpoint.bytes !== want.checkpoint.bytes || have.checkpoint.sha256 !== want.checkpoint.sha256) diffs.push(`an older ${want.checkpoint.file} (its content changed since)`);
  if (have.split !== want.split) diffs.push(`split ${have.split} instead of ${want.split}`);
  if (have.limit !== want.limit) diffs.push(`limit ${have.limit || 'all'} instead of ${want.limit || 'all'} images`);
  for (const k of Object.keys(want.mi) as (keyof AnalysisKey['mi'])[]) {
    if (have.mi?.[k] !== want.mi[k]) diffs.push(`MI option ${k} ${have.mi?.[k]} instead of ${want.mi[k]}`);
  }
  return diffs.join(', ');
}
