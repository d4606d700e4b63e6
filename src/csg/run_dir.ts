// A run folder: config.json, metrics.jsonl, checkpoints/{last,best}.safetensors and a lock. This is
// the one place that knows where these live and in which order they are written, so that a crash at
// any instant leaves a folder that --resume continues exactly:
//   1. the checkpoint (temp file, fsync, rename, fsync of the folder): it holds the whole metrics
//      history, so it alone is the truth;
//   2. the best copy, when the epoch improved (the checkpoint records which epoch is best);
//   3. the metrics line (appended, fsynced), a readable mirror of the checkpoint's history.
// On open, metrics.jsonl is rewritten from the checkpoint when the two disagree (a line after the
// checkpoint, a missing or partial line), a best copy that missed its rename is redone, and temp files
// of killed writers are removed.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { copyFileAtomic, isTempName, removeStaleTemps, writeFileAtomic } from '../util/atomic.js';
import { faultPoint } from '../util/faults.js';
import { FolderLock } from '../util/lock.js';
import { readSafetensorsHeader } from '../io/safetensors_header.js';
import type { TrainConfig } from './config.js';

/** One line of metrics.jsonl: an epoch's training and validation figures. */
export interface EpochMetrics {
  epoch: number;
  path: 'std' | 'csg';
  train_loss: number;
  train_ce: number;
  train_reg: number;
  train_acc: number;
  val_acc: number;
  density: number | null;
  lr: Record<string, number>;
  seconds: number;
}

export const CONFIG_FILE = 'config.json';
export const METRICS_FILE = 'metrics.jsonl';
export const LOCK_FILE = 'lock';
/** Where `compare` keeps a run's analysis (analysis.json and figures). */
export const ANALYSIS_DIR = 'analysis';
/** localize's default output folder (localization.json, overlays.png), where compare and report look. */
export const LOCALIZATION_DIR = 'localization';
/** adversarial's default output folder (adversarial.json, adversarial.md, figures), where compare and report look. */
export const ADVERSARIAL_DIR = 'adversarial';
/** explain's default output folder (faithfulness.json, maps/), where compare and report look. */
export const FAITHFULNESS_DIR = 'faithfulness';
/** What each command writes into its output folder (the run's own or --out). */
export const ANALYSIS_FILE = 'analysis.json';
export const LOCALIZATION_FILE = 'localization.json';
export const LOCALIZATION_OVERLAYS = 'overlays.png';
export const ADVERSARIAL_FILE = 'adversarial.json';
export const FAITHFULNESS_FILE = 'faithfulness.json';
export const ADVERSARIAL_MARKDOWN = 'adversarial.md';
export const COMPARISON_FILE = 'comparison.json';
export const COMPARISON_MARKDOWN = 'comparison.md';
/** The report the dashboard links a run to (`csgnet report RUN --out RUN/report.html`). */
export const REPORT_FILE = 'report.html';

export const CHECKPOINT_DIR = 'checkpoints';

/** RUN_DIR/checkpoints/{last,best}.safetensors, or `which` itself when it is a file path. */
export function checkpointPath(runDir: string, which: 'last' | 'best' | string): string {
  if (which === 'last' || which === 'best') return join(runDir, CHECKPOINT_DIR, `${which}.safetensors`);
  return which;
}

/** A run as config.json describes it: its training configuration and its dataset's shape and classes. */
export interface RunInfo {
  dir: string;
  config: TrainConfig;
  dataset: {
    name: string; classes: string[]; channels: number; height: number; width: number;
    /** The training split's per-channel statistics the model's inputs were normalized with
     *  (recorded since issue 22; older runs lack them, see csg/run.ts trainingNormalization). */
    mean?: number[]; std?: number[];
  };
}

export class RunDirError extends Error {}

export class RunDir {
  readonly dir: string;
  private held: FolderLock | null = null;

  constructor(dir: string, private readonly flag = '--out') {
    if (typeof dir !== 'string' || dir.trim() === '') throw new RunDirError(`${flag} must name a folder, got an empty path`);
    this.dir = dir;
  }

  get configFile(): string { return join(this.dir, CONFIG_FILE); }
  get metricsFile(): string { return join(this.dir, METRICS_FILE); }
  get checkpointDir(): string { return join(this.dir, CHECKPOINT_DIR); }
  get lockFile(): string { return join(this.dir, LOCK_FILE); }
  get analysisDir(): string { return join(this.dir, ANALYSIS_DIR); }
  get analysisFile(): string { return join(this.analysisDir, ANALYSIS_FILE); }
  get localizationDir(): string { return join(this.dir, LOCALIZATION_DIR); }
  get localizationFile(): string { return join(this.localizationDir, LOCALIZATION_FILE); }
  /** Where localize wrote by default before RUN/localization (the report still looks there, after it). */
  get olderLocalizationDir(): string { return this.analysisDir; }
  get adversarialDir(): string { return join(this.dir, ADVERSARIAL_DIR); }
  get adversarialFile(): string { return join(this.adversarialDir, ADVERSARIAL_FILE); }
  get faithfulnessDir(): string { return join(this.dir, FAITHFULNESS_DIR); }
  get faithfulnessFile(): string { return join(this.faithfulnessDir, FAITHFULNESS_FILE); }
  get reportFile(): string { return join(this.dir, REPORT_FILE); }
  checkpoint(which: 'last' | 'best' | string): string { return checkpointPath(this.dir, which); }

  /** Whether the folder holds a csgnet run (its config.json). */
  isRun(): boolean { return existsSync(this.configFile); }

  /**
   * Prepares the folder for a new run and locks it: it must not exist, be empty, or hold only what a
   * run killed before writing its config leaves (a stale lock, an empty checkpoints/, temp files).
   */
  createNew(): void {
    // A run inside another run's folder would mix with that run's results (and checkpoints).
    for (let up = dirname(resolve(this.dir)); dirname(up) !== up; up = dirname(up)) {
      if (existsSync(join(up, CONFIG_FILE))) throw new RunDirError(`${this.flag} ${this.dir} is inside run ${up}; choose a folder outside it`);
    }
    if (existsSync(this.dir)) {
      if (!statSync(this.dir).isDirectory()) throw new RunDirError(`${this.flag} ${this.dir} is a file, not a folder`);
      if (this.isRun()) throw new RunDirError(`${this.dir} already holds a run; use --resume to continue it or choose another ${this.flag}`);
      const foreign = readdirSync(this.dir).filter((n) => !this.leftByKilledStart(n));
      if (foreign.length) {
        throw new RunDirError(`${this.flag} ${this.dir} is not empty and is not a csgnet run folder (it holds ${foreign.slice(0, 5).join(', ')}` +
          `${foreign.length > 5 ? ', ...' : ''}); choose a new or empty folder`);
      }
    }
    mkdirSync(this.checkpointDir, { recursive: true });
    this.lock();
  }

  /** Locks an existing run folder for resuming it. */
  openExisting(): void {
    if (!this.isRun()) throw new RunDirError(`--resume: ${this.configFile} not found (is ${this.dir} a csgnet run folder?)`);
    mkdirSync(this.checkpointDir, { recursive: true });
    this.lock();
  }

  /** For a rank other than 0 of a data-parallel run: the run must be there; no lock, nothing written. */
  checkReadable(): void {
    if (!this.isRun()) throw new RunDirError(`--resume: ${this.configFile} not found (is ${this.dir} a csgnet run folder, shared by every rank?)`);
  }

  private leftByKilledStart(name: string): boolean {
    if (name === LOCK_FILE || isTempName(name)) return true;
    return name === CHECKPOINT_DIR && statSync(join(this.dir, name)).isDirectory() && readdirSync(join(this.dir, name)).length === 0;
  }

  /** Takes the folder's lock (idempotent) and removes temp files that killed writers left. */
  lock(): void {
    if (this.held) return;
    this.held = FolderLock.acquire(this.lockFile, `run folder ${resolve(this.dir)}`);
    try {
      removeStaleTemps(this.dir);
      removeStaleTemps(this.checkpointDir);
    } catch (e) {
      this.release();
      throw e;
    }
  }

  release(): void {
    this.held?.release();
    this.held = null;
  }

  writeConfig(config: unknown): void {
    writeFileAtomic(this.configFile, JSON.stringify(config, null, 2) + '\n');
  }

  readConfig<T = any>(): T {
    let text: string;
    try {
      text = readFileSync(this.configFile, 'utf8');
    } catch (e) {
      throw new RunDirError(`${this.configFile}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new RunDirError(`${this.configFile}: not valid JSON (${(e as Error).message})`);
    }
  }

  /** config.json's description of the run; errors name the folder or the file. */
  readInfo(): RunInfo {
    if (!this.isRun()) throw new RunDirError(`${this.dir} is not a csgnet run folder (${this.configFile} not found)`);
    const parsed = this.readConfig();
    if (!parsed?.train || !parsed?.dataset) throw new RunDirError(`${this.configFile}: missing "train" or "dataset" section`);
    return { dir: this.dir, config: parsed.train, dataset: parsed.dataset };
  }

  /** Appends one metrics line and makes it durable. */
  appendMetrics(m: EpochMetrics): void {
    const line = Buffer.from(JSON.stringify(m) + '\n', 'utf8');
    const fd = openSync(this.metricsFile, 'a');
    try {
      // A kill between the two halves leaves a partial line: the case syncMetrics repairs.
      const half = line.length >> 1;
      writeSync(fd, line, 0, half);
      faultPoint('metrics-partial');
      writeSync(fd, line, half, line.length - half);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Parsed metrics lines; a partial last line (a kill mid-write) is skipped. */
  readMetrics(): EpochMetrics[] {
    if (!existsSync(this.metricsFile)) return [];
    const out: EpochMetrics[] = [];
    for (const line of readFileSync(this.metricsFile, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try { out.push(JSON.parse(line)); } catch { /* partial line */ }
    }
    return out;
  }

  /** Makes metrics.jsonl hold exactly `history` (the checkpoint's), rewriting it only when it differs. */
  syncMetrics(history: EpochMetrics[]): void {
    const want = history.map((m) => JSON.stringify(m) + '\n').join('');
    const have = existsSync(this.metricsFile) ? readFileSync(this.metricsFile, 'utf8') : null;
    if (have !== want) writeFileAtomic(this.metricsFile, want);
  }

  /** The epoch stored in a checkpoint's trainer state, read from its header only; null if unreadable. */
  checkpointEpoch(which: 'last' | 'best'): { epoch: number; nextBatch: number } | null {
    const file = this.checkpoint(which);
    if (!existsSync(file)) return null;
    try {
      const state = JSON.parse(readSafetensorsHeader(file).metadata.state);
      return { epoch: state.epoch, nextBatch: state.nextBatch };
    } catch {
      return null;
    }
  }

  /** Copies last over best (atomically). */
  copyLastToBest(): void {
    copyFileAtomic(this.checkpoint('last'), this.checkpoint('best'));
  }
}

/** config.json of run folder `dir` (no lock taken: for reading a run). */
export function readRunInfo(dir: string): RunInfo {
  return new RunDir(dir, '--run').readInfo();
}

/** Parsed metrics of a run folder (a partial line from a kill is skipped). */
export function readMetrics(dir: string): EpochMetrics[] {
  return new RunDir(dir, '--run').readMetrics();
}
