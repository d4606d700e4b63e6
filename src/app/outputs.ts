// Where a command may write a file it was given with --out: checked before any work, so that a typo
// costs nothing and never replaces something else. One message style: the flag, the path, the problem.
import { existsSync, lstatSync, statSync } from 'node:fs';
import { basename, dirname, parse, resolve } from 'node:path';
import { CHECKPOINT_DIR, CONFIG_FILE, LOCK_FILE, METRICS_FILE } from '../csg/run_dir.js';
import { EVENTS_FILE } from '../csg/events_log.js';

/** The files a run folder's training owns; no other command may replace them, --force or not. */
const RUN_OWNED = new Set([CONFIG_FILE, METRICS_FILE, EVENTS_FILE, LOCK_FILE]);

/** The run folder that holds `path` (the nearest ancestor with config.json), or null. */
function enclosingRun(path: string): string | null {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, CONFIG_FILE))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

/**
 * Checks a file output: not empty, not a folder or the file-system root, not below a file, no file a
 * run's training owns (config, metrics, events, lock, checkpoints/), and an existing file only with
 * `force`. Returns the absolute path.
 */
export function checkOutputFile(flag: string, path: string, o: { force?: boolean } = {}): string {
  if (path.trim() === '') throw new Error(`${flag}: empty path`);
  const abs = resolve(path);
  if (abs === parse(abs).root) throw new Error(`${flag} ${path}: the file-system root is not a file`);
  // Missing folders are made by the writer; the nearest existing one must be a folder.
  let ancestor = dirname(abs);
  while (!existsSync(ancestor)) ancestor = dirname(ancestor);
  if (!statSync(ancestor).isDirectory()) throw new Error(`${flag} ${path}: ${ancestor} is a file, not a folder`);
  const run = enclosingRun(abs);
  if (run && (RUN_OWNED.has(basename(abs)) && dirname(abs) === run || abs.startsWith(resolve(run, CHECKPOINT_DIR) + '/'))) {
    throw new Error(`${flag} ${path}: that file belongs to the training of run ${run}; choose another path`);
  }
  let st;
  try { st = lstatSync(abs); } catch { return abs; }
  if (st.isDirectory()) throw new Error(`${flag} ${path}: is a folder; give a file name`);
  if (!o.force) throw new Error(`${flag} ${path}: exists; add --force to replace it`);
  if (!st.isFile()) throw new Error(`${flag} ${path}: exists and is not a regular file`);
  return abs;
}
