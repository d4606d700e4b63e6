// Where a command may write what it was given with --out (a file or a folder): checked before any
// work, so that a typo costs nothing and never replaces something else. One message style for these
// checks and for file-system errors met while writing: the flag, the path, the problem.
import { accessSync, constants, existsSync, lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, parse, relative, resolve, sep } from 'node:path';
import { isTempName } from '../util/atomic.js';
import { StagedDir } from '../util/staged_dir.js';
import { CHECKPOINT_DIR, CONFIG_FILE, LOCK_FILE, METRICS_FILE } from '../csg/run_dir.js';
import { EVENTS_FILE } from '../csg/events_log.js';

/** The files a run folder's training owns; no other command may replace them, --force or not. */
const RUN_OWNED = new Set([CONFIG_FILE, METRICS_FILE, EVENTS_FILE, LOCK_FILE]);

/** The nearest existing folder of an output must take new entries (a read-only mount, no permission: said now, not after the work). */
function writable(flag: string, path: string, folder: string): void {
  try {
    accessSync(folder, constants.W_OK);
  } catch (e) {
    throw outputError(flag, path, e);
  }
}

/** The run folder that holds `path` (the nearest ancestor with config.json), or null. */
function enclosingRun(path: string): string | null {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, CONFIG_FILE))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

/**
 * Checks a file output: not empty, not a folder or the file-system root, not below a file, no file a
 * run's training owns (config, metrics, events, lock, checkpoints/), not inside a run other than
 * `runs` (the runs the command reads, when given), and an existing file only with `force`. Returns the
 * absolute path.
 */
export function checkOutputFile(flag: string, path: string, o: { force?: boolean; runs?: readonly string[] } = {}): string {
  if (path.trim() === '') throw new Error(`${flag}: empty path`);
  const abs = resolve(path);
  if (abs === parse(abs).root) throw new Error(`${flag} ${path}: the file-system root is not a file`);
  // Missing folders are made by the writer; the nearest existing one must be a folder.
  let ancestor = dirname(abs);
  while (!existsSync(ancestor)) ancestor = dirname(ancestor);
  if (!statSync(ancestor).isDirectory()) throw new Error(`${flag} ${path}: ${ancestor} is a file, not a folder`);
  writable(flag, path, ancestor);
  const run = enclosingRun(abs);
  if (run && (RUN_OWNED.has(basename(abs)) && dirname(abs) === run || abs.startsWith(resolve(run, CHECKPOINT_DIR) + '/'))) {
    throw new Error(`${flag} ${path}: that file belongs to the training of run ${run}; choose another path`);
  }
  if (run && o.runs) notAnotherRun(flag, path, canonical(run), o.runs);
  let st;
  try { st = lstatSync(abs); } catch { return abs; }
  if (st.isDirectory()) throw new Error(`${flag} ${path}: is a folder; give a file name`);
  if (!o.force) throw new Error(`${flag} ${path}: exists; add --force to replace it`);
  if (!st.isFile()) throw new Error(`${flag} ${path}: exists and is not a regular file`);
  return abs;
}

/** What a command may find in an existing --out folder. */
export interface OutputDirOptions {
  /** The runs the command reads (--run): their own subfolders may take results; other runs' folders may not. */
  runs?: readonly string[];
  /**
   * 'replace': the folder is replaced as a whole (StagedDir), so an existing one may hold only `owns`
   * (this command's earlier results); 'empty': it must be new or empty; 'add': the command adds its
   * named files to whatever is there (features, analyze, compare).
   */
  mode: 'replace' | 'empty' | 'add';
  /** The names the command writes into the folder (mode 'replace'). */
  owns?: readonly string[];
  /** Where results of this kind usually go, suggested when a run folder itself is given (e.g. 'RUN/localization'). */
  suggest?: string;
}

/** `abs` with its existing part's symlinks resolved, so that two names of one folder compare equal. */
function canonical(abs: string): string {
  let head = abs;
  while (!existsSync(head) && dirname(head) !== head) head = dirname(head);
  return resolve(realpathSync(head), relative(head, abs));
}

/** The run folder at or above `abs` (the nearest with config.json), or null. */
function runAtOrAbove(abs: string): string | null {
  return existsSync(resolve(abs, CONFIG_FILE)) ? abs : enclosingRun(abs);
}

/** Refuses an output inside run folder `run` (canonical) unless the command reads that run. */
function notAnotherRun(flag: string, path: string, run: string, runs: readonly string[]): void {
  if (runs.map((r) => canonical(resolve(r))).includes(run)) return;
  throw new Error(`${flag} ${path}: is inside run ${run}, not the run this command reads` +
    `${runs.length ? ` (${runs.join(', ')})` : ''}; its results there would pass for that run's own`);
}

/**
 * Checks a folder output before any work: not empty, not '/', not a file, not below a file, not a run
 * folder itself, not inside another run than the ones read, and its existing contents as `mode` allows.
 * Returns the absolute path.
 */
export function checkOutputDir(flag: string, path: string, o: OutputDirOptions): string {
  if (typeof path !== 'string' || path.trim() === '') throw new Error(`${flag}: empty path`);
  const abs = canonical(resolve(path));
  if (abs === parse(abs).root) throw new Error(`${flag} ${path}: the file-system root; give a folder of its own`);
  let ancestor = abs;
  while (!existsSync(ancestor)) ancestor = dirname(ancestor);
  if (!statSync(ancestor).isDirectory()) {
    throw new Error(ancestor === abs ? `${flag} ${path}: is a file, not a folder` : `${flag} ${path}: ${ancestor} is a file, not a folder`);
  }
  writable(flag, path, ancestor);
  const run = runAtOrAbove(abs);
  if (run === abs) {
    throw new Error(`${flag} ${path}: is a run folder (its config, metrics and checkpoints); give a folder of its own${o.suggest ? `, e.g. ${o.suggest}` : ''}`);
  }
  if (run) {
    if (abs === resolve(run, CHECKPOINT_DIR) || abs.startsWith(resolve(run, CHECKPOINT_DIR) + sep)) {
      throw new Error(`${flag} ${path}: is inside the checkpoints of run ${run}; choose another folder`);
    }
    notAnotherRun(flag, path, run, o.runs ?? []);
  }
  if (ancestor !== abs || o.mode === 'add') return abs;
  const entries = readdirSync(abs).filter((n) => !isTempName(n));
  const foreign = o.mode === 'empty' ? entries : entries.filter((n) => !o.owns?.includes(n));
  if (foreign.length) {
    const list = `${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', ...' : ''}`;
    throw new Error(`${flag} ${path}: the folder exists and ${o.mode === 'empty' ? `is not empty (it holds ${list})` : `holds what this command did not write: ${list}`}` +
      '; choose a new or empty folder');
  }
  return abs;
}

/** What an errno code means for an output path, in the words of the messages above. */
const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EEXIST: 'exists already',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is a file, not a folder',
  ENOTEMPTY: 'is a folder that is not empty',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  ENAMETOOLONG: 'a name is too long',
};

/**
 * A file-system error met while writing an output, as "FLAG PATH: problem" (the flag and the path the
 * user gave, not a temp file's); other errors are returned as they are.
 */
export function outputError(flag: string, path: string, e: unknown): unknown {
  const err = e as NodeJS.ErrnoException;
  const text = err && typeof err.code === 'string' ? ERRNO_TEXT[err.code] : undefined;
  if (!text || !err.syscall) return e;
  // The file it happened to, when that says more than the flag's path (never a temp name).
  const at = typeof err.path === 'string' && resolve(err.path) !== resolve(path) && !/\.(tmp|old)-\d+-\d+/.test(err.path) ? ` (${err.path})` : '';
  return new Error(`${flag} ${path}: ${text}${at}`, { cause: e });
}

/** Runs `write` and turns its file-system errors into outputError's messages. */
export async function writingOutput<T>(flag: string, path: string, write: () => T | Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    throw outputError(flag, path, e);
  }
}

/**
 * Writes a results folder as a whole (util/staged_dir.ts): `fill` writes into a temp folder beside
 * `target` and returns the paths it wrote; once it has finished, the folder replaces `target` and the
 * paths come back named under `target`. On failure `target` is left as it was.
 */
export async function stagedWrite(target: string, fill: (dir: string) => Promise<string[]> | string[]): Promise<string[]> {
  const stage = new StagedDir(target);
  try {
    const written = await fill(stage.dir);
    stage.commit();
    return written.map((f) => stage.final(f, target));
  } finally {
    stage.discard();
  }
}
