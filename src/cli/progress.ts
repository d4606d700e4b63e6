// Every progress display of the CLI: training's cli-progress bar with rate and ETA on a TTY (plain
// periodic lines otherwise), counts with an ETA, a percentage, and the sweep's job lines.
import cliProgress from 'cli-progress';
import type { TrainEvents } from '../csg/trainer.js';
import type { JobStatus, SweepOverall } from '../app/sweep_run.js';

export type ProgressMode = 'auto' | 'plain' | 'none';

export class Progress {
  private bar: cliProgress.SingleBar | null = null;
  private readonly mode: 'tty' | 'plain' | 'none';
  private t0 = 0;
  private startValue = 0;
  private images = 0;
  private lastPlain = -1;

  constructor(mode: ProgressMode, private readonly label: string, private readonly total: number, private readonly log: (s: string) => void) {
    this.mode = mode === 'none' ? 'none' : mode === 'plain' || !process.stderr.isTTY ? 'plain' : 'tty';
  }

  start(value = 0): void {
    this.t0 = performance.now();
    this.startValue = value;
    if (this.mode === 'tty') {
      this.bar = new cliProgress.SingleBar({
        format: `${this.label} {bar} {value}/{total} | {rate} img/s | ETA {eta_formatted} | loss {loss} acc {acc}`,
        stream: process.stderr, hideCursor: true, clearOnComplete: true, etaBuffer: 50,
      }, cliProgress.Presets.shades_classic);
      this.bar.start(this.total, value, { rate: '-', loss: '-', acc: '-' });
    }
  }

  update(value: number, info: { loss: number; acc: number; imagesPerBatch: number }): void {
    this.images += info.imagesPerBatch;
    const secs = (performance.now() - this.t0) / 1000;
    const rate = secs > 0 ? this.images / secs : 0;
    if (this.bar) {
      this.bar.update(value, { rate: rate.toFixed(0), loss: info.loss.toFixed(4), acc: info.acc.toFixed(3) });
    } else if (this.mode === 'plain') {
      // About ten lines per epoch.
      const tenth = Math.floor((value * 10) / this.total);
      if (tenth !== this.lastPlain && tenth > 0 && tenth < 10) {
        this.lastPlain = tenth;
        const eta = rate > 0 ? ((this.total - value) * (this.images / Math.max(1, value - this.startValue))) / rate : 0;
        this.log(`${this.label}: ${value}/${this.total} batches, ${rate.toFixed(0)} img/s, ETA ${eta.toFixed(0)} s, loss ${info.loss.toFixed(4)}, acc ${info.acc.toFixed(3)}`);
      }
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

/** The trainer's events shown as one progress bar (or plain lines) per epoch. */
export function progressEvents(mode: ProgressMode, log: (s: string) => void): TrainEvents {
  let p: Progress | null = null;
  return {
    epochStart: (i) => {
      p = new Progress(mode, `epoch ${i.epoch + 1}/${i.epochs} ${i.path}`, i.batches, log);
      p.start(i.startBatch);
    },
    batch: (i) => p?.update(i.batch, { loss: i.loss, acc: i.acc, imagesPerBatch: i.images }),
    epochEnd: () => { p?.stop(); p = null; },
    checkpoint: () => { /* the bar goes on; an interrupt's own message says where it saved */ },
  };
}

/** A plain count with an ETA (a bar on a TTY, about ten lines otherwise): `update(done)` up to `total`. */
export function countProgress(mode: ProgressMode, label: string, total: number, log: (s: string) => void): { update(done: number): void; stop(): void } {
  const tty = mode === 'auto' && process.stderr.isTTY;
  if (mode === 'none') return { update() {}, stop() {} };
  if (tty) {
    const bar = new cliProgress.SingleBar({ format: `${label} {bar} {value}/{total} | ETA {eta_formatted}`, stream: process.stderr, clearOnComplete: true },
      cliProgress.Presets.shades_classic);
    bar.start(total, 0);
    return { update: (d) => bar.update(d), stop: () => bar.stop() };
  }
  const t0 = performance.now();
  let last = -1, first = true;
  return {
    update: (d) => {
      // The start (no rate yet: no ETA), the first step with a rate, then every tenth.
      const tenth = Math.floor((d * 10) / total);
      if (d === 0 ? last >= 0 : tenth === last && !first) return;
      last = tenth;
      if (d === 0) { log(`${label}: 0/${total} (ETA after the first batch)`); return; }
      first = false;
      const secs = (performance.now() - t0) / 1000;
      log(`${label}: ${d}/${total}, ETA ${duration((secs * (total - d)) / d)}`);
    },
    stop() {},
  };
}

/** Seconds as "42 s", "17 min" or "4.7 h". */
export function duration(secs: number): string {
  return secs < 120 ? `${secs.toFixed(0)} s` : secs < 7200 ? `${(secs / 60).toFixed(0)} min` : `${(secs / 3600).toFixed(1)} h`;
}

/** "writing 40/100 (40 %)" rewritten in place on a TTY at each new percent; nothing otherwise. */
export function percentProgress(label: string): (done: number, total: number) => void {
  let shown = -1;
  return (done, total) => {
    const pct = Math.floor((100 * done) / total);
    if (process.stderr.isTTY && pct !== shown) { shown = pct; process.stderr.write(`\r${label} ${done}/${total} (${pct} %)${done === total ? '\n' : ''}`); }
  };
}

/** Lines drawn over their previous drawing (cursor up, clear below): `draw([])` clears them. For a TTY. */
export function redrawnLines(): (lines: string[]) => void {
  let drawn = 0;
  return (lines) => {
    if (drawn) process.stderr.write(`\x1b[${drawn}A\x1b[0J`);
    if (lines.length) process.stderr.write(lines.join('\n') + '\n');
    drawn = lines.length;
  };
}

/** The sweep's durations: "42 s", "17 min", "2 h 5 min", or "-" when unknown. */
function sweepDuration(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '-';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** One running sweep job: its epoch, a bar, its share done and its last loss and accuracy. */
export function jobLine(j: JobStatus, width = 20): string {
  const filled = Math.round(j.fraction * width);
  const p = j.progress;
  const where = p ? `epoch ${p.epoch + 1}/${p.epochs} ${p.path}` : j.resumed ? 'resuming' : 'starting';
  const metrics = p?.loss != null ? `  loss ${p.loss.toFixed(4)} acc ${p.acc!.toFixed(3)}` : '';
  return `  ${j.name}  ${where}  [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(100 * j.fraction).toFixed(0).padStart(3)} %${metrics}`;
}

export function overallLine(o: SweepOverall, running: number): string {
  return `sweep: ${o.done}/${o.total} runs done, ${running} running${o.failed ? `, ${o.failed} failed` : ''} | ETA ${sweepDuration(o.etaSeconds)}`;
}
