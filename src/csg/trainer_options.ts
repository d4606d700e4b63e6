// What a caller passes to the trainer and gets back: its options, the events it reports while it
// runs, its result and its error. Shared by the trainer's rooms (trainer.ts, trainer_setup.ts,
// trainer_resume.ts, data_parallel.ts) and its callers (the CLI, events_log.ts).
import type { ProcessGroup } from '../torch/distributed.js';
import type { Path } from './schedule.js';
import type { TrainConfig } from './config.js';
import type { ResumeOverrides } from './train_options.js';
import type { EpochMetrics } from './run_dir.js';

/** Why run() returned or threw: done, the AbortSignal, RunOptions.stopAfterEpochs, or an exception. */
export type StopReason = 'finished' | 'interrupted' | 'stop-after' | 'error';

export interface RunStartInfo {
  runDir: string;
  config: TrainConfig;
  epochs: number;
  /** Where this call starts: epoch and batch (both 0 for a new run). */
  startEpoch: number;
  startBatch: number;
  /** Whether the trainer came from Trainer.resume. */
  resumed: boolean;
  batchesPerEpoch: number;
}

export interface StopInfo {
  reason: StopReason;
  /** Progress at the stop: finished epochs and the next batch of the current one. */
  epoch: number;
  nextBatch: number;
  /** The AbortSignal's reason (e.g. 'SIGINT') when interrupted, the message on an error. */
  detail?: string;
}

/** What the trainer reports while it runs; every callback is optional. */
export interface TrainEvents {
  runStart?(info: RunStartInfo): void;
  stop?(info: StopInfo): void;
  epochStart?(info: { epoch: number; epochs: number; path: Path; batches: number; startBatch: number }): void;
  batch?(info: { batch: number; loss: number; acc: number; images: number }): void;
  epochEnd?(m: EpochMetrics): void;
  checkpoint?(info: { file: string; epoch: number; nextBatch: number }): void;
}

/** One TrainEvents that calls each of `list` in order (e.g. a progress bar and the events.jsonl writer). */
export function combineEvents(...list: (TrainEvents | undefined)[]): TrainEvents {
  const all = list.filter((e): e is TrainEvents => !!e);
  const each = <K extends keyof TrainEvents>(k: K) => (info: any) => { for (const e of all) (e[k] as ((i: any) => void) | undefined)?.(info); };
  return { runStart: each('runStart'), stop: each('stop'), epochStart: each('epochStart'), batch: each('batch'), epochEnd: each('epochEnd'), checkpoint: each('checkpoint') };
}

export interface TrainOptions {
  outDir: string;
  /** Where human-readable lines go (default stderr). */
  log?: (line: string) => void;
  /** Train data-parallel over this group (its world size must be the config's worldSize). Rank 0
   *  writes the run folder; the other ranks only read it (to resume, it must be the same folder). */
  group?: ProcessGroup;
}

export interface ResumeOptions extends TrainOptions {
  /** Settings the continued run may change (RESUMABLE_KEYS): e.g. more epochs to extend a finished run. */
  overrides?: ResumeOverrides;
}

export interface RunOptions {
  /** Stop (with a checkpoint) after this many epochs in this call, as if interrupted. */
  stopAfterEpochs?: number;
  /** When aborted, the trainer finishes the current batch, saves a checkpoint and returns (interrupted). */
  signal?: AbortSignal;
  events?: TrainEvents;
}

export interface TrainResult {
  runDir: string;
  completed: boolean;
  interrupted: boolean;
  metrics: EpochMetrics[];
}

export class TrainingError extends Error {}
