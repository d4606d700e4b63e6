// Trains a sweep (src/app/sweep.ts plans it): N runs at a time as child processes (`csgnet train`),
// threads split between them, resumable. DIR/logs/<name>.log holds each child's output. While it runs,
// the sweep holds DIR/sweep.lock (a second sweep on the folder is refused). Each child has an IPC
// channel to the sweep and stops (saving a checkpoint) when it closes, so a sweep killed even by
// SIGKILL takes its children down; a rerun waits for such leftovers to stop, then resumes their runs.
// This module owns no process state: the caller passes an AbortSignal (stop: every child gets one
// SIGINT, saves a checkpoint and exits) and event callbacks.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { readMetrics, readRunInfo, LOCK_FILE } from '../csg/run_dir.js';
import { EVENTS_FILE } from '../csg/events_log.js';
import { FolderLock, lockHolder } from '../util/lock.js';
import { packageRoot } from '../util/paths.js';
import { nextProgress, recentEvents, type Progress } from './dashboard/runs.js';
import { childArgs, planSweep, prepareSweep, readSweep, runState, type GridAxis, type SweepRunSpec, type SweepSpec } from './sweep.js';

/** Where a job stands. */
export interface JobStatus {
  name: string;
  dir: string;
  /** Finished fraction of its epochs (0..1). */
  fraction: number;
  progress: Progress | null;
  resumed: boolean;
}

export interface SweepOverall {
  /** Runs finished (before and during this call), failed, and in all. */
  done: number; failed: number; total: number;
  /** Work done in run units (finished runs plus the running runs' fractions). */
  work: number;
  /** Seconds left at this call's rate so far; null until some work was done. */
  etaSeconds: number | null;
}

export interface SweepEvents {
  /** Every pollMs while jobs run: each running job and the whole sweep. */
  progress?(jobs: JobStatus[], overall: SweepOverall): void;
  jobStart?(job: JobStatus): void;
  jobEnd?(job: JobStatus, result: { ok: boolean; interrupted: boolean; code: number | null; detail: string | null }): void;
  log?(line: string): void;
}

export interface SweepOptions {
  out: string;
  /** Required for a new sweep; for an existing one it must equal the stored grid (or be left out). */
  grid?: GridAxis[];
  seeds?: number[];
  trainArgs?: string[];
  /** Runs at a time (default 1). */
  parallel?: number;
  /** Threads for all runs together (each gets floor(threads / parallel), at least 1). */
  threads: number;
  signal?: AbortSignal;
  events?: SweepEvents;
  /** How often to read the children's events.jsonl (ms, default 1000). */
  pollMs?: number;
  /** The csgnet CLI script the children run (default dist/src/cli/main.js of this package). */
  cliPath?: string;
  /** How long a run waits for a child of an earlier, killed sweep that still holds its folder (ms, default 120 s). */
  leftoverWaitMs?: number;
}

export interface SweepResult {
  spec: SweepSpec;
  dirs: string[];
  /** Runs already finished before this call. */
  skipped: string[];
  completed: string[];
  failed: { name: string; detail: string | null }[];
  interrupted: boolean;
}

/** Threads per child: floor(total / parallel), at least 1. */
export function threadsPerRun(total: number, parallel: number): number {
  return Math.max(1, Math.floor(total / parallel));
}

function jobFraction(dir: string): { fraction: number; progress: Progress | null } {
  let p: Progress | null = null;
  for (const e of recentEvents(join(dir, EVENTS_FILE))) p = nextProgress(p, e);
  let fromMetrics = 0;
  try {
    const epochs = readRunInfo(dir).config.epochs;
    fromMetrics = Math.min(1, readMetrics(dir).length / epochs);
  } catch { /* not started yet */ }
  const fromEvents = p && p.epochs > 0 ? (p.epoch + (p.batches > 0 ? p.batch / p.batches : 0)) / p.epochs : 0;
  return { fraction: Math.min(1, Math.max(fromMetrics, fromEvents)), progress: p };
}

/** Runs (or resumes) the sweep: finished runs are skipped, started ones resumed, new ones started. */
export async function runSweep(o: SweepOptions): Promise<SweepResult> {
  const parallel = o.parallel ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1) throw new Error(`--parallel must be a positive integer, got ${parallel}`);
  if (!Number.isInteger(o.threads) || o.threads < 1) throw new Error(`--threads must be a positive integer, got ${o.threads}`);
  const cli = o.cliPath ?? join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
  // A new sweep's train flags go through the trainer's own parser before anything is stored.
  if (!readSweep(o.out)) {
    if (!o.grid) throw new Error(`--grid is required for a new sweep (${o.out} holds no sweep.json)`);
    await checkTrainFlags(cli, planSweep(o.grid, o.seeds ?? [0], o.trainArgs ?? []), o.out);
  }
  mkdirSync(o.out, { recursive: true });
  const lock = FolderLock.acquire(join(o.out, SWEEP_LOCK), `sweep folder ${resolvePath(o.out)}`);
  try {
    return await runLocked(o, parallel, cli);
  } finally {
    lock.release();
  }
}

/** DIR/sweep.lock: held by the sweep that trains DIR. */
export const SWEEP_LOCK = 'sweep.lock';
/** Set in a sweep's children: the sweep folder (how a rerun knows an earlier sweep's leftovers). */
const SWEEP_ENV = 'CSGNET_SWEEP';

async function runLocked(o: SweepOptions, parallel: number, cli: string): Promise<SweepResult> {
  const spec = prepareSweep(o);
  const threads = threadsPerRun(o.threads, parallel);
  const logDir = join(o.out, 'logs');
  mkdirSync(logDir, { recursive: true });
  const ev = o.events ?? {};
  const result: SweepResult = { spec, dirs: spec.runs.map((r) => join(o.out, r.name)), skipped: [], completed: [], failed: [], interrupted: false };
  const queue: { run: SweepRunSpec; resume: boolean }[] = [];
  for (const run of spec.runs) {
    const state = runState(join(o.out, run.name));
    if (state === 'done') result.skipped.push(run.name);
    else queue.push({ run, resume: state === 'partial' });
  }
  const total = spec.runs.length;
  const running = new Map<string, { child: ChildProcess; job: JobStatus }>();
  const t0 = performance.now();
  let workAtStart: number | null = null;
  const overall = (): SweepOverall => {
    let work = result.skipped.length + result.completed.length;
    for (const { job } of running.values()) work += job.fraction;
    workAtStart ??= work;
    const secs = (performance.now() - t0) / 1000;
    const rate = (work - workAtStart) / secs;
    return { done: result.skipped.length + result.completed.length, failed: result.failed.length, total, work,
      etaSeconds: rate > 0 ? (total - result.failed.length - work) / rate : null };
  };
  overall();
  const poll = () => {
    for (const { job } of running.values()) Object.assign(job, jobFraction(job.dir));
    ev.progress?.([...running.values()].map((r) => r.job), overall());
  };
  const timer = setInterval(poll, o.pollMs ?? 1000);
  const stopAll = () => { for (const { child } of running.values()) child.kill('SIGINT'); };
  o.signal?.addEventListener('abort', stopAll, { once: true });

  const start = (run: SweepRunSpec, resume: boolean): Promise<void> => new Promise((resolve) => {
    const dir = join(o.out, run.name);
    const logFile = join(logDir, `${run.name}.log`);
    const job: JobStatus = { name: run.name, dir, fraction: 0, progress: null, resumed: resume };
    let child: ChildProcess;
    let logFd: number | null = null, logStart = 0;
    let ended = false;
    const end = (code: number | null, error?: Error) => {
      if (ended) return;
      ended = true;
      running.delete(run.name);
      const interrupted = !!o.signal?.aborted && !error;
      const ok = code === 0 && !interrupted;
      const lastLine = error ? error.message : failureLine(logTail(logFile, logStart));
      if (ok) result.completed.push(run.name);
      else if (!interrupted) result.failed.push({ name: run.name, detail: `${lastLine ?? `exit code ${code}`} (log: ${logFile})` });
      Object.assign(job, jobFraction(dir));
      ev.jobEnd?.(job, { ok, interrupted, code, detail: ok ? null : lastLine });
      resolve();
    };
    try {
      // The child writes its log itself (it outlives a killed sweep's pipes). Own process group: a
      // terminal's Ctrl-C reaches only the sweep, which forwards one SIGINT (a second would make the
      // child exit without saving). The IPC channel closes when the sweep dies: the child then stops.
      logFd = openSync(logFile, 'a');
      logStart = fstatSync(logFd).size;
      child = spawn(process.execPath, [cli, ...childArgs(spec, run, dir, threads, resume)], { detached: true, stdio: ['ignore', logFd, logFd, 'ipc'],
        env: { ...process.env, OMP_NUM_THREADS: String(threads), [SWEEP_ENV]: resolvePath(o.out) } });
    } catch (e) {
      end(null, e as Error);
      return;
    } finally {
      if (logFd !== null) closeSync(logFd);
    }
    running.set(run.name, { child, job });
    ev.jobStart?.(job);
    child.on('error', (e) => end(null, e));
    child.on('close', (code) => end(code));
  });

  try {
    const workers = Array.from({ length: Math.min(parallel, queue.length) }, async () => {
      for (let next = queue.shift(); next && !o.signal?.aborted; next = queue.shift()) {
        const held = await waitForLeftover(join(o.out, next.run.name), o, ev);
        if (held) result.failed.push({ name: next.run.name, detail: held });
        else await start(next.run, next.resume);
      }
    });
    await Promise.all(workers);
  } finally {
    clearInterval(timer);
    o.signal?.removeEventListener('abort', stopAll);
  }
  poll();
  result.interrupted = !!o.signal?.aborted;
  return result;
}

/** The last bytes a child wrote to its log in this call. */
function logTail(file: string, from: number): string {
  try {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      const start = Math.max(from, size - 4000);
      const buf = Buffer.alloc(size - start);
      readSync(fd, buf, 0, buf.length, start);
      return buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

/** The line of a child's output that says why it failed: its last error line, not commander's usage hint. */
export function failureLine(output: string): string | null {
  const lines = output.split('\n').map((l) => l.replace(/\r/g, '').trim()).filter((l) => l && l !== '(run with --help for usage)');
  return [...lines].reverse().find((l) => /^(csgnet: (?!warning)|error: )/.test(l)) ?? lines.at(-1) ?? null;
}

/**
 * Runs the trainer's own flag parser (`csgnet train --check-flags`) on every point of a new sweep, so
 * that a typo (--epochs abc) is refused before any run starts or anything is stored.
 */
async function checkTrainFlags(cli: string, spec: SweepSpec, out: string): Promise<void> {
  const points = [...new Map(spec.runs.map((r) => [JSON.stringify(r.point), r])).values()];
  const check = (run: SweepRunSpec) => new Promise<string | null>((res) => {
    execFile(process.execPath, [cli, ...childArgs(spec, run, join(out, run.name), 1, false), '--check-flags'], { encoding: 'utf8' },
      (err, _stdout, stderr) => res(err ? failureLine(stderr) ?? err.message : null));
  });
  for (let i = 0; i < points.length; i += 4) {
    const batch = points.slice(i, i + 4);
    const errors = await Promise.all(batch.map(check));
    const k = errors.findIndex((e) => e !== null);
    if (k >= 0) {
      const where = points.length > 1 ? ` (run ${batch[k]!.name})` : '';
      throw new Error(`train flags ${JSON.stringify(spec.trainArgs)}${where}: csgnet train refuses them: ${errors[k]!.replace(/^(csgnet|error): /, '')}; nothing was started or stored`);
    }
  }
}

/** Whether process `pid` is a child of a sweep of this folder (from its environment; Linux). */
function sweepChildOf(pid: number, out: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`${SWEEP_ENV}=${resolvePath(out)}`);
  } catch {
    return false;
  }
}

/**
 * A run folder still held by a child of an earlier sweep of this folder (killed: this one holds the
 * sweep lock): that child stops on its own once its sweep is gone, so the run waits for it and then
 * resumes. Resolves to null when the folder is free, else to why the run cannot start.
 */
async function waitForLeftover(dir: string, o: SweepOptions, ev: SweepEvents): Promise<string | null> {
  const lockFile = join(dir, LOCK_FILE);
  let holder = existsSync(lockFile) ? lockHolder(lockFile) : null;
  if (!holder || !sweepChildOf(holder.pid, o.out)) return null;
  ev.log?.(`${dir}: waiting for process ${holder.pid}, left by an earlier sweep of this folder, to save and stop`);
  const until = performance.now() + (o.leftoverWaitMs ?? 120_000);
  while (holder && performance.now() < until && !o.signal?.aborted) {
    await new Promise((r) => setTimeout(r, 200));
    holder = lockHolder(lockFile);
  }
  return holder ? `process ${holder.pid}, left by an earlier sweep of this folder, still holds ${dir}; stop it (kill -INT ${holder.pid}) and run the sweep again` : null;
}
