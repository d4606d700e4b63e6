// Sweeps: a grid of train settings times seeds, one run folder per point and seed, trained N at a time
// as child processes (`csgnet train`), threads split between them, resumable. DIR/sweep.json lists the
// runs; DIR/<name>/ is a plain run folder (csgnet compare, dashboard and eval read it as any other);
// DIR/logs/<name>.log holds each child's output. This module owns no process state: the caller passes an
// AbortSignal (stop: every child gets one SIGINT, saves a checkpoint and exits) and event callbacks.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CIFAR_PRESET, PRESETS, validateConfig, type TrainConfig } from '../csg/config.js';
import { readMetrics, readRunInfo, CONFIG_FILE } from '../csg/run_dir.js';
import { EVENTS_FILE } from '../csg/events_log.js';
import { MODEL_NAMES } from '../models/names.js';
import { KNOWN_DATASETS } from '../data/names.js';
import { AUGMENT_MODES } from '../data/batch.js';
import { writeFileAtomic } from '../util/atomic.js';
import { packageRoot } from '../util/paths.js';
import { nextProgress, recentEvents, type Progress } from './dashboard/runs.js';

export type GridValue = number | string | boolean;

interface SweepKey {
  /** The train flag that sets it. */
  flag: string;
  kind: 'number' | 'int' | 'string' | 'bool';
  /** Allowed values of a string key (checked here; validateConfig checks the numbers). */
  choices?: readonly string[];
  get: (c: TrainConfig) => GridValue | undefined;
  set: (c: TrainConfig, v: GridValue) => void;
  /** Only CSG training reads it (the gate, its loss, its schedule): an STD run ignores it. */
  csgOnly?: true;
}

function plain<K extends keyof TrainConfig>(key: K, flag: string, kind: SweepKey['kind'], choices?: readonly string[]): SweepKey {
  return { flag, kind, choices, get: (c) => c[key] as GridValue | undefined, set: (c, v) => { (c as any)[key] = v; } };
}

const csgOnly = (k: SweepKey): SweepKey => ({ ...k, csgOnly: true });

/** Train config keys a grid (and compare --group-by) may name, with their train flags. */
export const SWEEP_KEYS: Record<string, SweepKey> = {
  strategy: plain('strategy', '--strategy', 'string', ['std', 'csg']),
  lambda: csgOnly(plain('lambda', '--lambda', 'number')),
  rho: csgOnly(plain('rho', '--rho', 'number')),
  warmup: csgOnly(plain('warmup', '--warmup', 'int')),
  period: csgOnly(plain('period', '--period', 'int')),
  phaseMin: csgOnly(plain('phaseMin', '--phase-min', 'int')),
  gateInit: csgOnly(plain('gateInit', '--gate-init', 'number')),
  epochs: plain('epochs', '--epochs', 'int'),
  batchSize: plain('batchSize', '--batch', 'int'),
  limit: plain('limit', '--limit', 'int'),
  model: plain('model', '--model', 'string', MODEL_NAMES),
  dataset: plain('dataset', '--dataset', 'string', KNOWN_DATASETS),
  cropPadding: plain('cropPadding', '--crop-padding', 'int'),
  hflip: plain('hflip', '--no-hflip', 'bool'),
  augment: plain('augment', '--augment', 'string', AUGMENT_MODES),
  gamma: plain('gamma', '--gamma', 'number'),
  lr: { flag: '--lr', kind: 'number', get: (c) => c.std.lr, set: (c, v) => { c.std.lr = v as number; if (!c.separatePathOptimizers) c.csg.lr = v as number; } },
  csgLr: csgOnly({ flag: '--csg-lr', kind: 'number', get: (c) => c.csg.lr, set: (c, v) => { c.csg.lr = v as number; } }),
  gateLr: csgOnly({ flag: '--gate-lr', kind: 'number', get: (c) => c.gate?.lr, set: (c, v) => { if (c.gate) c.gate.lr = v as number; } }),
  momentum: { flag: '--momentum', kind: 'number', get: (c) => c.std.momentum, set: (c, v) => { c.std.momentum = v as number; c.csg.momentum = v as number; } },
  weightDecay: { flag: '--weight-decay', kind: 'number', get: (c) => c.std.weightDecay, set: (c, v) => { c.std.weightDecay = v as number; c.csg.weightDecay = v as number; } },
  optimizer: { flag: '--optimizer', kind: 'string', choices: ['sgd', 'adam', 'adamw'], get: (c) => c.std.name, set: (c, v) => { c.std.name = v as any; c.csg.name = v as any; } },
};

/** The sweep's own flags of the children: a grid or the train flags must not set them. */
const MANAGED_FLAGS = ['--out', '--seed', '--threads', '--resume', '--progress', '--stop-after'];

/** 'phase-min' and 'phaseMin' name the same key. */
export function sweepKey(name: string, what = '--grid'): string {
  const key = name.trim().replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  if (key === 'seed') throw new Error(`${what}: seed is not a grid key; use --seeds N (seeds 0..N-1) or --seeds 3,7,11`);
  if (!(key in SWEEP_KEYS)) throw new Error(`${what}: unknown key '${name.trim()}' (known: ${Object.keys(SWEEP_KEYS).join(', ')})`);
  return key;
}

/** Whether a run of this strategy reads the key (an STD run ignores lambda, rho, the schedule and the gate). */
export function keyApplies(strategy: string, key: string): boolean {
  return strategy !== 'std' || !SWEEP_KEYS[key]?.csgOnly;
}

/** A train config's value of a sweep key (compare --group-by); undefined for a key its strategy ignores. */
export function configValue(c: TrainConfig, key: string): GridValue | undefined {
  const k = sweepKey(key, '--group-by');
  return keyApplies(c.strategy, k) ? SWEEP_KEYS[k]!.get(c) : undefined;
}

function parseValue(key: string, raw: string): GridValue {
  const def = SWEEP_KEYS[key]!;
  const bad = (why: string) => new Error(`--grid ${key}=${raw}: ${why}`);
  if (raw === '') throw bad('empty value');
  if (def.kind === 'bool') {
    if (raw !== 'true' && raw !== 'false') throw bad('expected true or false');
    return raw === 'true';
  }
  if (def.kind === 'string') {
    if (def.choices && !def.choices.includes(raw)) throw bad(`expected one of ${def.choices.join(', ')}`);
    return raw;
  }
  const n = Number(raw);
  if (!Number.isFinite(n)) throw bad('expected a number');
  if (def.kind === 'int' && !Number.isInteger(n)) throw bad('expected an integer');
  return n;
}

export interface GridAxis { key: string; values: GridValue[] }

/**
 * 'lambda=0.01,0.1,1;rho=0.05,0.1' -> axes. Each value is checked by the trainer's own validation
 * (validateConfig on the preset with that value set), so a bad one is refused before any run starts.
 */
export function parseGrid(text: string, preset: TrainConfig = CIFAR_PRESET): GridAxis[] {
  const axes: GridAxis[] = [];
  for (const part of text.split(';').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`--grid: '${part}' is not KEY=V1,V2,... (axes are separated by ';')`);
    const key = sweepKey(part.slice(0, eq));
    if (axes.some((a) => a.key === key)) throw new Error(`--grid: key '${key}' appears twice`);
    const values = part.slice(eq + 1).split(',').map((v) => parseValue(key, v.trim()));
    if (new Set(values).size !== values.length) throw new Error(`--grid ${key}: a value appears twice`);
    for (const v of values) {
      const c = structuredClone(preset);
      SWEEP_KEYS[key]!.set(c, v);
      try {
        validateConfig(c);
      } catch (e) {
        throw new Error(`--grid ${key}=${v}: ${(e as Error).message}`);
      }
    }
    axes.push({ key, values });
  }
  if (!axes.length) throw new Error('--grid: no axes (expected e.g. lambda=0.01,0.1,1;rho=0.05,0.1)');
  return axes;
}

/** '3' -> seeds 0, 1, 2; '3,7,11' -> those seeds. */
export function parseSeeds(text: string): number[] {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n < 1) throw new Error(`--seeds: expected at least 1 seed, got ${t}`);
    return Array.from({ length: n }, (_, i) => i);
  }
  const seeds = t.split(',').map((s) => s.trim());
  if (seeds.some((s) => !/^\d+$/.test(s) || !Number.isSafeInteger(Number(s)))) throw new Error(`--seeds: expected a count N or comma-separated non-negative integer seeds, got '${text}'`);
  const out = seeds.map(Number);
  if (new Set(out).size !== out.length) throw new Error(`--seeds: a seed appears twice in '${text}'`);
  return out;
}

/** Refuses train flags the sweep sets itself (--out, --seed, --threads, ...) or that a grid axis sets. */
export function checkTrainArgs(trainArgs: readonly string[], grid: readonly GridAxis[]): void {
  const gridFlags = new Map(grid.map((a) => [SWEEP_KEYS[a.key]!.flag.replace(/^--no-/, '--'), a.key]));
  for (const arg of trainArgs) {
    if (!arg.startsWith('--')) continue;
    const flag = arg.split('=')[0]!;
    if (MANAGED_FLAGS.includes(flag)) throw new Error(`${flag}: the sweep sets it for each run (use --seeds, --threads, --parallel; resume by running the sweep again)`);
    const axis = gridFlags.get(flag.replace(/^--no-/, '--'));
    if (axis) throw new Error(`${flag}: key '${axis}' is a grid axis; give its values in --grid only`);
  }
}

/** The strategy the train flags set (--strategy std / --strategy=std), if any. */
function strategyFlag(trainArgs: readonly string[]): string | undefined {
  let out: string | undefined;
  trainArgs.forEach((a, i) => {
    if (a === '--strategy') out = trainArgs[i + 1];
    else if (a.startsWith('--strategy=')) out = a.slice('--strategy='.length);
  });
  return out;
}

/** A filesystem-safe, readable folder name: strategy=csg,lambda=0.1,seed=1. */
export function runName(point: Record<string, GridValue>, seed: number): string {
  const safe = (v: GridValue) => String(v).replace(/[^A-Za-z0-9._+-]/g, '_');
  return [...Object.entries(point).map(([k, v]) => `${k}=${safe(v)}`), `seed=${seed}`].join(',');
}

export interface SweepRunSpec { name: string; point: Record<string, GridValue>; seed: number }

/** DIR/sweep.json. */
export interface SweepSpec {
  version: 1;
  grid: GridAxis[];
  seeds: number[];
  /** Train flags every run gets (the grid's and the sweep's own come on top). */
  trainArgs: string[];
  runs: SweepRunSpec[];
}

export const SWEEP_FILE = 'sweep.json';

/** The grid times the seeds, in grid order (the last axis varies fastest), seeds innermost. */
export function planSweep(grid: GridAxis[], seeds: number[], trainArgs: string[] = []): SweepSpec {
  checkTrainArgs(trainArgs, grid);
  const ignored = strategyFlag(trainArgs) === 'std' ? grid.find((a) => !keyApplies('std', a.key)) : undefined;
  if (ignored) throw new Error(`--grid ${ignored.key}: STD runs (--strategy std) ignore it; sweep it with strategy=csg (e.g. --grid 'strategy=std,csg;${ignored.key}=...')`);
  let points: Record<string, GridValue>[] = [{}];
  for (const a of grid) points = points.flatMap((p) => a.values.map((v) => ({ ...p, [a.key]: v })));
  // An STD point keeps only the keys STD training reads: strategy=std x lambda=0.01,0.1,1 is one run per seed, not three equal ones.
  points = points.map((p) => (p.strategy === 'std' ? Object.fromEntries(Object.entries(p).filter(([k]) => keyApplies('std', k))) : p));
  points = [...new Map(points.map((p) => [JSON.stringify(p), p])).values()];
  const runs = points.flatMap((point) => seeds.map((seed) => ({ name: runName(point, seed), point, seed })));
  if (new Set(runs.map((r) => r.name)).size !== runs.length) throw new Error('--grid: two points give the same folder name (values that differ only in characters other than letters, digits, . _ + -)');
  return { version: 1, grid, seeds, trainArgs: [...trainArgs], runs };
}

/** DIR/sweep.json, or null when DIR holds no sweep. */
export function readSweep(dir: string): SweepSpec | null {
  const file = join(dir, SWEEP_FILE);
  if (!existsSync(file)) return null;
  let s: SweepSpec;
  try {
    s = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (s?.version !== 1 || !Array.isArray(s.runs) || !Array.isArray(s.grid)) throw new Error(`${file}: not a csgnet sweep file (version 1 with grid and runs)`);
  return s;
}

/** The run folders of a sweep that hold a run (started at least), in sweep order. */
export function sweepRunDirs(dir: string): string[] {
  const s = readSweep(dir);
  if (!s) throw new Error(`${dir}: no ${SWEEP_FILE} (not a csgnet sweep folder)`);
  return s.runs.map((r) => join(dir, r.name)).filter((d) => existsSync(join(d, CONFIG_FILE)));
}

/** Child argv (after `node main.js`) of a run: a new `train`, or `train --resume`. */
export function childArgs(spec: SweepSpec, run: SweepRunSpec, runDir: string, threads: number, resume: boolean): string[] {
  const common = ['--out', runDir, '--threads', String(threads), '--progress', 'none'];
  if (resume) return ['train', ...common, '--resume'];
  const gridFlags = Object.entries(run.point).flatMap(([k, v]) => {
    const def = SWEEP_KEYS[k]!;
    if (def.kind === 'bool') return v ? [] : [def.flag]; // --no-hflip, or the default
    return [def.flag, String(v)];
  });
  return ['train', ...common, ...spec.trainArgs, ...gridFlags, '--seed', String(run.seed)];
}

export type RunState = 'done' | 'partial' | 'new';

/** done: all its epochs are in metrics.jsonl; partial: started (config.json), to resume; new: to start. */
export function runState(runDir: string): RunState {
  if (!existsSync(join(runDir, CONFIG_FILE))) return 'new';
  const epochs = readRunInfo(runDir).config.epochs;
  return readMetrics(runDir).length >= epochs ? 'done' : 'partial';
}

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

function sameSpec(a: SweepSpec, b: Pick<SweepSpec, 'grid' | 'trainArgs'>): string | null {
  const j = JSON.stringify;
  if (j(a.grid) !== j(b.grid)) return `grid ${j(a.grid)}`;
  if (j(a.trainArgs) !== j(b.trainArgs)) return `train flags ${j(a.trainArgs)}`;
  return null;
}

/**
 * The sweep in opts.out: a new one (writes sweep.json), or an existing one resumed. Resuming with more
 * seeds (--seeds 5 on a sweep of 3) adds their runs; grid and train flags must stay as they were.
 */
export function prepareSweep(o: Pick<SweepOptions, 'out' | 'grid' | 'seeds' | 'trainArgs'>): SweepSpec {
  const existing = readSweep(o.out);
  const file = join(o.out, SWEEP_FILE);
  if (existing) {
    if (o.grid) {
      const diff = sameSpec(existing, { grid: o.grid, trainArgs: o.trainArgs ?? existing.trainArgs });
      if (diff) throw new Error(`${file} was made with ${diff}; resume it with the same settings or without --grid, or choose another --out`);
    } else if (o.trainArgs?.length && JSON.stringify(o.trainArgs) !== JSON.stringify(existing.trainArgs)) {
      throw new Error(`${file} exists: resuming keeps its train flags (${JSON.stringify(existing.trainArgs)})`);
    }
    const seeds = o.seeds ?? existing.seeds;
    const dropped = existing.seeds.filter((s) => !seeds.includes(s));
    if (dropped.length) throw new Error(`${file} has seeds ${JSON.stringify(existing.seeds)}: --seeds may add seeds to a sweep but not drop ${dropped.join(', ')}`);
    const added = seeds.filter((s) => !existing.seeds.includes(s));
    if (!added.length) return existing;
    const extended: SweepSpec = { ...existing, seeds: [...existing.seeds, ...added], runs: [...existing.runs, ...planSweep(existing.grid, added, existing.trainArgs).runs] };
    writeFileAtomic(file, JSON.stringify(extended, null, 2) + '\n');
    return extended;
  }
  if (!o.grid) throw new Error(`--grid is required for a new sweep (${o.out} holds no ${SWEEP_FILE})`);
  const spec = planSweep(o.grid, o.seeds ?? [0], o.trainArgs ?? []);
  mkdirSync(o.out, { recursive: true });
  writeFileAtomic(file, JSON.stringify(spec, null, 2) + '\n');
  return spec;
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
  const spec = prepareSweep(o);
  const threads = threadsPerRun(o.threads, parallel);
  const cli = o.cliPath ?? join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
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
    const log = createWriteStream(logFile, { flags: 'a' });
    // Own process group: a terminal's Ctrl-C reaches only the sweep, which forwards one SIGINT (a
    // second would make the child exit without saving).
    const child = spawn(process.execPath, [cli, ...childArgs(spec, run, dir, threads, resume)], { detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
    let tail = '';
    const keep = (d: Buffer) => { log.write(d); tail = (tail + d.toString('utf8')).slice(-2000); };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const job: JobStatus = { name: run.name, dir, fraction: 0, progress: null, resumed: resume };
    running.set(run.name, { child, job });
    ev.jobStart?.(job);
    let ended = false;
    const end = (code: number | null, error?: Error) => {
      if (ended) return;
      ended = true;
      running.delete(run.name);
      log.end();
      const interrupted = !!o.signal?.aborted && !error;
      const ok = code === 0 && !interrupted;
      const lastLine = error ? error.message : tail.trim().split('\n').filter(Boolean).at(-1) ?? null;
      if (ok) result.completed.push(run.name);
      else if (!interrupted) result.failed.push({ name: run.name, detail: `${lastLine ?? `exit code ${code}`} (log: ${logFile})` });
      Object.assign(job, jobFraction(dir));
      ev.jobEnd?.(job, { ok, interrupted, code, detail: ok ? null : lastLine });
      resolve();
    };
    child.on('error', (e) => end(null, e));
    child.on('close', (code) => end(code));
  });

  try {
    const workers = Array.from({ length: Math.min(parallel, queue.length) }, async () => {
      for (let next = queue.shift(); next && !o.signal?.aborted; next = queue.shift()) await start(next.run, next.resume);
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

/** The sweep's grid preset for validation: --preset voc-part among the train flags, else cifar. */
export function presetOf(trainArgs: readonly string[]): TrainConfig {
  const i = trainArgs.findIndex((a) => a === '--preset' || a.startsWith('--preset='));
  if (i < 0) return CIFAR_PRESET;
  const name = trainArgs[i]!.includes('=') ? trainArgs[i]!.split('=')[1]! : trainArgs[i + 1] ?? '';
  const p = PRESETS[name];
  if (!p) throw new Error(`--preset: unknown preset '${name}' (known: ${Object.keys(PRESETS).join(', ')})`);
  return p;
}
