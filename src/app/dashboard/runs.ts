// The runs the dashboard shows: run folders (holding config.json) found under the runs root, a few
// levels deep (e.g. runs/demo/std), with their status read from the lock, events.jsonl and
// metrics.jsonl. Everything here reads; nothing writes or takes a lock.
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE, LOCK_FILE, METRICS_FILE, REPORT_FILE, RunDir, type EpochMetrics } from '../../csg/run_dir.js';
import { EVENTS_FILE, parseEvents, type RunEvent } from '../../csg/events_log.js';
import { lockHolder } from '../../util/lock.js';
import { ForbiddenPathError, resolveInside } from './safe_path.js';

/** How deep below the root run folders are looked for (runs/a/b/c). */
export const MAX_RUN_DEPTH = 3;

export type RunStatus = 'training' | 'finished' | 'stopped' | 'failed';

export interface RunSummary {
  /** Path below the runs root, '/'-separated: also the run's URL path. */
  name: string;
  status: RunStatus;
  /** Why it stopped (the stop event's detail: signal or error message), when known. */
  detail: string | null;
  model: string | null;
  dataset: string | null;
  strategy: string | null;
  epochs: number | null;
  epochsDone: number;
  last: EpochMetrics | null;
  /** Latest change of metrics.jsonl or events.jsonl (ISO), for sorting. */
  updated: string;
  hasReport: boolean;
}

/** Run folder names under `root` (which must be a real path), sorted. Symlinks are not followed. */
export function discoverRuns(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, rel: string[], depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // vanished or unreadable meanwhile
    }
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const path = join(dir, e.name);
      const name = [...rel, e.name];
      if (existsSync(join(path, CONFIG_FILE))) found.push(name.join('/'));
      else if (depth < MAX_RUN_DEPTH) walk(path, name, depth + 1);
    }
  };
  walk(root, [], 1);
  return found.sort();
}

/** The events in the last `maxBytes` of events.jsonl (it grows long), whole lines only; [] if none. */
export function recentEvents(file: string, maxBytes = 1 << 16): RunEvent[] {
  let fd = -1;
  try {
    const size = statSync(file).size;
    const n = Math.min(size, maxBytes);
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, size - n);
    let text = buf.toString('utf8');
    if (n < size) text = text.slice(text.indexOf('\n') + 1); // the cut first line
    return parseEvents(text);
  } catch {
    return [];
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** Where the current (or last) epoch stands, from the latest epochStart and batch events. */
export interface Progress {
  epoch: number; epochs: number; path: 'std' | 'csg'; batch: number; batches: number; loss: number | null; acc: number | null; time: string;
}

/** Folds one event into the progress (epochStart opens an epoch, batch advances it); other events leave it. */
export function nextProgress(p: Progress | null, e: RunEvent): Progress | null {
  if (e.event === 'epochStart') return { epoch: e.epoch, epochs: e.epochs, path: e.path, batch: e.startBatch, batches: e.batches, loss: null, acc: null, time: e.time };
  if (e.event === 'batch' && p && p.epoch === e.epoch) return { ...p, batch: e.batch, batches: e.batches, loss: e.loss, acc: e.acc, time: e.time };
  return p;
}

function mtime(file: string): number {
  try { return statSync(file).mtimeMs; } catch { return 0; }
}

/** Status from the lock (a live owner: training), else the log's last line, else the epoch count. */
export function runStatus(dir: string, epochs: number | null, epochsDone: number): { status: RunStatus; detail: string | null } {
  if (lockHolder(join(dir, LOCK_FILE))) return { status: 'training', detail: null };
  const last = recentEvents(join(dir, EVENTS_FILE), 1 << 14).at(-1) ?? null;
  if (last?.event === 'stop') {
    const status: RunStatus = last.reason === 'finished' ? 'finished' : last.reason === 'error' ? 'failed' : 'stopped';
    return { status, detail: last.reason === 'finished' ? null : `${last.reason}${last.detail ? `: ${last.detail}` : ''}` };
  }
  if (epochs !== null && epochsDone >= epochs) return { status: 'finished', detail: null };
  return { status: 'stopped', detail: last ? 'ended without a stop event (killed?)' : null };
}

/** Whether every file whose contents the run list and streams send stays inside the (real) runs root
 *  (report.html is only sent by its own route, which refuses a link out). */
export function filesInside(root: string, name: string): boolean {
  try {
    for (const f of [CONFIG_FILE, METRICS_FILE, EVENTS_FILE, LOCK_FILE]) resolveInside(root, `${name}/${f}`);
    return true;
  } catch (e) {
    if (e instanceof ForbiddenPathError) return false;
    throw e;
  }
}

/** A run's summary; null when the folder is gone, is no run (any more), or has a file linked out of the root. */
export function summarizeRun(root: string, name: string): RunSummary | null {
  if (!filesInside(root, name)) return null;
  const dir = join(root, ...name.split('/'));
  const rd = new RunDir(dir, '--run');
  if (!rd.isRun()) return null;
  let config: any = null;
  try { config = rd.readConfig(); } catch { /* being written or damaged: shown without its settings */ }
  const metrics = rd.readMetrics();
  const epochs = typeof config?.train?.epochs === 'number' ? config.train.epochs : null;
  const { status, detail } = runStatus(dir, epochs, metrics.length);
  const updated = Math.max(mtime(rd.metricsFile), mtime(join(dir, EVENTS_FILE)), mtime(rd.configFile));
  return {
    name, status, detail,
    model: config?.train?.model ?? null, dataset: config?.dataset?.name ?? config?.train?.dataset ?? null, strategy: config?.train?.strategy ?? null,
    epochs, epochsDone: metrics.length, last: metrics.at(-1) ?? null,
    updated: new Date(updated).toISOString(), hasReport: existsSync(rd.reportFile),
  };
}

export function listRuns(root: string): RunSummary[] {
  return discoverRuns(root).map((n) => summarizeRun(root, n)).filter((s): s is RunSummary => s !== null);
}

export { METRICS_FILE, EVENTS_FILE, REPORT_FILE };
