// RUN_DIR/events.jsonl: what a training run reported, one JSON line per trainer event, for watchers
// such as `csgnet dashboard`. Each line is {"time": ISO, "event": <TrainEvents callback name>, ...its
// info}; batch lines also carry the epoch and the epoch's batch count. It is an append-only log, not
// a result: nothing is fsynced, a kill can leave a torn last line (readers skip it, the next writer
// starts on a fresh line), and metrics.jsonl stays the record of finished epochs.
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { EpochMetrics } from './run_dir.js';
import type { RunStartInfo, StopInfo, TrainEvents } from './trainer.js';

export const EVENTS_FILE = 'events.jsonl';

/** Batch lines are written at most this often (plus each epoch's last batch). */
export const BATCH_EVENT_INTERVAL_MS = 500;

interface Stamp { time: string }
export type RunEvent = Stamp & (
  | ({ event: 'runStart' } & Omit<RunStartInfo, 'runDir'>)
  | { event: 'epochStart'; epoch: number; epochs: number; path: 'std' | 'csg'; batches: number; startBatch: number }
  | { event: 'batch'; epoch: number; batch: number; batches: number; loss: number; acc: number; images: number }
  | { event: 'epochEnd'; metrics: EpochMetrics }
  | { event: 'checkpoint'; file: string; epoch: number; nextBatch: number }
  | ({ event: 'stop' } & StopInfo)
);

export interface EventsLogOptions {
  /** Minimum time between two batch lines of one epoch (default BATCH_EVENT_INTERVAL_MS). */
  batchIntervalMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
  /** Where a write failure is reported (once; the log then stops, training goes on). */
  log?: (line: string) => void;
}

/** Whether a file ends in the middle of a line (a writer killed mid-line); false when unreadable (the write reports it). */
function endsTorn(file: string): boolean {
  let fd = -1;
  try {
    const size = statSync(file).size;
    if (size === 0) return false;
    fd = openSync(file, 'r');
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } catch {
    return false;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** TrainEvents that append to RUN_DIR/events.jsonl; subscribe it next to a progress bar (combineEvents). */
export function eventsLog(runDir: string, o: EventsLogOptions = {}): TrainEvents {
  const file = join(runDir, EVENTS_FILE);
  const interval = o.batchIntervalMs ?? BATCH_EVENT_INTERVAL_MS;
  const now = o.now ?? (() => performance.now());
  let prefix = endsTorn(file) ? '\n' : '';
  let broken = false;
  let epoch = 0, batches = 0, lastBatchAt = -Infinity;
  const write = (line: Record<string, unknown>) => {
    if (broken) return;
    try {
      // One write per line (O_APPEND): concurrent readers see whole lines or a torn last one.
      appendFileSync(file, prefix + JSON.stringify({ time: new Date().toISOString(), ...line }) + '\n');
      prefix = '';
    } catch (e) {
      broken = true;
      o.log?.(`${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); training goes on without its events log`);
    }
  };
  return {
    runStart: ({ runDir: _dir, ...info }) => write({ event: 'runStart', ...info }),
    epochStart: (info) => {
      epoch = info.epoch; batches = info.batches; lastBatchAt = -Infinity;
      write({ event: 'epochStart', ...info });
    },
    batch: (info) => {
      const t = now();
      if (info.batch < batches && t - lastBatchAt < interval) return;
      lastBatchAt = t;
      write({ event: 'batch', epoch, batch: info.batch, batches, loss: info.loss, acc: info.acc, images: info.images });
    },
    epochEnd: (m) => write({ event: 'epochEnd', metrics: m }),
    checkpoint: (info) => write({ event: 'checkpoint', ...info, file: relative(runDir, info.file) }),
    stop: (info) => write({ event: 'stop', ...info }),
  };
}

/** Parses events.jsonl text: whole lines only (a torn or garbled line is skipped). */
export function parseEvents(text: string): RunEvent[] {
  const out: RunEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line);
      if (e && typeof e === 'object' && typeof e.event === 'string') out.push(e);
    } catch { /* torn line of a killed writer */ }
  }
  return out;
}

/** The events of a run folder ([] when it has no events.jsonl). */
export function readEvents(runDir: string): RunEvent[] {
  const file = join(runDir, EVENTS_FILE);
  return existsSync(file) ? parseEvents(readFileSync(file, 'utf8')) : [];
}
