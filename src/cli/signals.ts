// Stop signals for long commands: the first SIGINT, SIGTERM or SIGHUP (Ctrl-C, a scheduler's or a
// closing terminal's stop) aborts the returned signal, so that training saves a checkpoint and stops;
// a second one exits at once. The exit of a parent that started this process with an IPC channel
// (csgnet sweep) asks to stop too. Only the CLI owns the process; the library just watches the AbortSignal.
import { constants } from 'node:os';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type StopSignal = typeof STOP_SIGNALS[number];

export interface StopHandle {
  signal: AbortSignal;
  /** The signal that asked to stop, if any. */
  received(): StopSignal | null;
  /** The conventional exit code for it (128 + signal number). */
  exitCode(): number;
  dispose(): void;
}

export function onStopSignals(log: (s: string) => void, opts: { repeatWindowMs?: number; stopping?: string } = {}): StopHandle {
  const controller = new AbortController();
  let got: StopSignal | null = null;
  let at = 0;
  const handlers = STOP_SIGNALS.map((name) => {
    const h = () => {
      // Within repeatWindowMs of the first, a signal is a copy of the same request (a launcher's).
      if (got && performance.now() - at < (opts.repeatWindowMs ?? 0)) return;
      if (got) process.exit(128 + constants.signals[name]);
      got = name;
      at = performance.now();
      controller.abort(name);
      log(`\n${name}: ${opts.stopping ?? 'finishing this batch, saving a checkpoint, then exiting'} (send it again to stop at once)`);
    };
    process.on(name, h);
    return [name, h] as const;
  });
  // Started with an IPC channel (a sweep's run): the channel closes when the parent exits, even by
  // SIGKILL. That is a hangup, never a second request (a parent that exits after forwarding Ctrl-C
  // has asked already).
  const parentGone = () => {
    if (got) return;
    got = 'SIGHUP';
    controller.abort(got);
    log('\nthe process that started this one exited: finishing this batch, saving a checkpoint, then exiting');
  };
  if (process.channel) {
    process.channel.unref();
    process.on('disconnect', parentGone);
  }
  return {
    signal: controller.signal,
    received: () => got,
    exitCode: () => (got ? 128 + constants.signals[got] : 0),
    dispose: () => {
      for (const [name, h] of handlers) process.off(name, h);
      process.off('disconnect', parentGone);
    },
  };
}
