// Sweeps: a grid of train settings times seeds, one run folder per point and seed. This module plans
// them: the grid, DIR/sweep.json (the list of runs, read back validated), each run's name, state and
// `csgnet train` arguments. src/app/sweep_run.ts trains them; DIR/<name>/ is a plain run folder (csgnet
// compare, dashboard and eval read it as any other).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CIFAR_PRESET, PRESETS, validateConfig, type TrainConfig } from '../csg/config.js';
import { readMetrics, readRunInfo, CONFIG_FILE } from '../csg/run_dir.js';
import { TRAIN_OPTIONS, longFlag, optionName, type TrainOption } from '../csg/train_options.js';
import { writeFileAtomic } from '../util/atomic.js';

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

function sweepKeyOf(o: TrainOption): SweepKey {
  const t = o.type;
  const kind = t.kind === 'int' ? 'int' : t.kind === 'number' ? 'number' : t.kind === 'choice' ? 'string' : t.kind === 'bool' ? 'bool' : null;
  if (!kind) throw new Error(`${o.flag}: a ${t.kind} option cannot be a sweep key`);
  const key = o.key;
  return {
    flag: longFlag(o), kind, choices: t.kind === 'choice' ? t.choices : undefined, csgOnly: o.csgOnly,
    get: key ? (c) => c[key] as GridValue | undefined : o.get!,
    set: key ? (c, v) => { (c as any)[key] = v; } : o.set!,
  };
}

/**
 * Train config keys a grid (and compare --group-by) may name, with their train flags: the train
 * options marked `sweep` (src/csg/train_options.ts), listed strategy and the CSG-only keys first.
 */
export const SWEEP_KEYS: Record<string, SweepKey> = Object.fromEntries((TRAIN_OPTIONS as readonly TrainOption[])
  .filter((o) => o.sweep)
  .map((o, i) => ({ o, rank: o.key === 'strategy' ? 0 : o.csgOnly ? 1 : 2, i }))
  .sort((a, b) => a.rank - b.rank || a.i - b.i)
  .map(({ o }) => [o.key ?? optionName(o), sweepKeyOf(o)]));

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
  // A CSG-only key where no run is CSG would be dropped from every point.
  const axis = grid.find((a) => a.key === 'strategy');
  const strategies = axis ? axis.values : [strategyFlag(trainArgs) ?? presetOf(trainArgs).strategy];
  const ignored = strategies.includes('csg') ? undefined : grid.find((a) => !keyApplies('std', a.key));
  if (ignored) {
    const why = axis ? 'strategy=std, the only strategy in --grid' : strategyFlag(trainArgs) ? '--strategy std' : "the preset's strategy std";
    throw new Error(`--grid ${ignored.key}: STD runs (${why}) ignore it; sweep it with strategy=csg (e.g. --grid 'strategy=std,csg;${ignored.key}=...')`);
  }
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
  checkSpec(s, file);
  return s;
}

const isGridValue = (v: unknown) => ['number', 'string', 'boolean'].includes(typeof v);

/**
 * The parts of a sweep.json that become paths and child arguments: every run's name must be the one
 * its point and seed give (so an edited or crafted file cannot name a folder outside the sweep).
 */
function checkSpec(s: SweepSpec, file: string): void {
  const bad = (what: string) => new Error(`${file}: ${what} (the file was edited or is not csgnet's; make a new sweep with --grid in another --out)`);
  for (const a of s.grid) {
    if (typeof a?.key !== 'string' || !(a.key in SWEEP_KEYS) || !Array.isArray(a.values) || !a.values.every(isGridValue)) throw bad(`grid axis ${JSON.stringify(a)} is not KEY and values`);
  }
  if (!Array.isArray(s.seeds) || !s.seeds.every((x) => Number.isSafeInteger(x) && x >= 0)) throw bad('seeds must be non-negative integers');
  if (!Array.isArray(s.trainArgs) || !s.trainArgs.every((x) => typeof x === 'string')) throw bad('trainArgs must be a list of strings');
  for (const r of s.runs) {
    const point = r?.point;
    const ok = typeof r?.name === 'string' && Number.isSafeInteger(r.seed) && r.seed >= 0 && point !== null && typeof point === 'object' && !Array.isArray(point) &&
      Object.entries(point).every(([k, v]) => k in SWEEP_KEYS && isGridValue(v)) && r.name === runName(point, r.seed);
    if (!ok) throw bad(`run ${JSON.stringify(r?.name ?? r)} is not named by its point and seed`);
  }
  if (new Set(s.runs.map((r) => r.name)).size !== s.runs.length) throw bad('two runs have the same name');
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
export function prepareSweep(o: { out: string; grid?: GridAxis[]; seeds?: number[]; trainArgs?: string[] }): SweepSpec {
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

/** The sweep's grid preset for validation: --preset voc-part among the train flags, else cifar. */
export function presetOf(trainArgs: readonly string[]): TrainConfig {
  const i = trainArgs.findIndex((a) => a === '--preset' || a.startsWith('--preset='));
  if (i < 0) return CIFAR_PRESET;
  const name = trainArgs[i]!.includes('=') ? trainArgs[i]!.split('=')[1]! : trainArgs[i + 1] ?? '';
  const p = PRESETS[name];
  if (!p) throw new Error(`--preset: unknown preset '${name}' (known: ${Object.keys(PRESETS).join(', ')})`);
  return p;
}
