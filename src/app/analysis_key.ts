// The key of a cached result: everything that produced it (the checkpoint's bytes; for an analysis also its
// split, limit and MI options), and the one test of whether a cached result is current. Torch-free, so that
// `compare` and `report` can tell whether a run's analysis.json, localization.json or adversarial.json is still
// valid without loading libtorch.
import { isAbsolute, relative, resolve } from 'node:path';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, realpathSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { checkpointPath } from '../csg/run_dir.js';
import type { MiMatrixOptions } from '../metrics/mutual_info.js';
import { DEFAULT_N_NEIGHBORS } from '../metrics/mi/estimator.js';
import { normalizeResultKeys, type AnalysisKey, type CheckpointKey } from '../csg/results.js';

export type { AnalysisKey, CheckpointKey } from '../csg/results.js';

export interface AnalyzeOptions { split?: 'test' | 'train' | 'val'; limit?: number; checkpoint?: string; mi?: MiMatrixOptions }

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

/**
 * The one test of whether a result is current. `want` is what it must have been made from: a checkpoint key
 * (localization.json, adversarial.json: their `checkpointKey`) or a whole analysis key (analysis.json: its
 * `key`). `have` is the key the file records. Returns why `file` is not current, a sentence starting with the
 * file, or '' when it is.
 */
export function resultStaleness(file: string, have: Partial<CheckpointKey> | AnalysisKey | null | undefined, want: CheckpointKey | AnalysisKey): string {
  if (isAnalysisKey(want)) {
    const h = have as AnalysisKey | undefined;
    const other = h?.checkpoint ? fromAnotherRun(h.checkpoint, want.checkpoint) : '';
    if (other) return `${file} is ${other}`;
    const diff = keyDifference(h ?? undefined, want);
    return diff ? `${file} was made with ${diff}` : '';
  }
  const h = have as Partial<CheckpointKey> | null | undefined;
  if (!h || typeof h !== 'object' || typeof h.sha256 !== 'string') return `${file} was made by an older csgnet (no checkpoint key)`;
  const other = fromAnotherRun(h, want);
  if (other) return `${file} is ${other}`;
  if (h.file !== want.file) return `${file} was made from ${h.file}, not ${want.file}`;
  if (h.bytes !== want.bytes || h.sha256 !== want.sha256) return `${file} was made from an older ${want.file} (its content changed since)`;
  return '';
}

const isAnalysisKey = (k: CheckpointKey | AnalysisKey): k is AnalysisKey => 'version' in k;

/** The key a result file records: analysis.json's `key`, the others' `checkpointKey`. */
function recordedKey(json: unknown, want: CheckpointKey | AnalysisKey): Partial<CheckpointKey> | AnalysisKey | undefined {
  const o = json !== null && typeof json === 'object' ? (json as Record<string, any>) : {};
  return isAnalysisKey(want) ? o.key : o.checkpointKey;
}

/** A result file's JSON, older key names renamed (normalizeResultKeys); null and why when it cannot be read ('' when there is no file). */
export function readResultJson(file: string): { json: unknown; why: string } {
  if (!existsSync(file)) return { json: null, why: '' };
  try {
    return { json: normalizeResultKeys(JSON.parse(readFileSync(file, 'utf8'))), why: '' };
  } catch (e) {
    return { json: null, why: `${file} is not valid JSON (${(e as Error).message})` };
  }
}

/**
 * A cached result `file` when it exists, is JSON and is current for `want` (resultStaleness; null: any key);
 * otherwise null and why ('' when there is no file), and whether it is there but stale (rerunning its command helps).
 */
export function readCurrentResult<T>(file: string, want: CheckpointKey | AnalysisKey | null): { result: T | null; why: string; stale: boolean } {
  const { json, why: unreadable } = readResultJson(file);
  if (unreadable || json === null) return { result: null, why: unreadable, stale: false };
  const why = want ? resultStaleness(file, recordedKey(json, want), want) : '';
  return why ? { result: null, why, stale: true } : { result: json as T, why: '', stale: false };
}

/** How two keys differ, for a message ('' when they are equal). */
export function keyDifference(have: AnalysisKey | undefined, want: AnalysisKey): string {
  if (!have) return 'it has no key (made by an older csgnet)';
  if (have.version !== want.version) return 'it was made by an older csgnet (before the training normalization was used on every split)';
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
