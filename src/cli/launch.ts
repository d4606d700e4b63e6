// `csgnet train` as one rank of a data-parallel group, or as the launcher of N local ranks
// (`--nproc N`): the launcher re-runs the same command line without --nproc in N child processes
// with torchrun's environment (MASTER_ADDR, MASTER_PORT: the given one, checked free, else a free
// one; RANK, WORLD_SIZE, LOCAL_RANK), forwards one stop request to each, and exits with the first
// failing rank's code.
import { availableParallelism } from 'node:os';
import type { DistributedEnv } from '../app/launch.js';
import type { ProcessGroup } from '../torch/distributed.js';
import { stderrLine } from './format.js';

/** argv without `--name V` / `--name=V`. */
export function withoutOption(argv: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) { i++; continue; }
    if (argv[i]!.startsWith(name + '=')) continue;
    out.push(argv[i]!);
  }
  return out;
}

/** Runs `nproc` ranks of this train command here; resolves to the exit code. */
export async function launchTrain(nproc: number, threadsGiven: boolean): Promise<number> {
  const { launchLocal, masterPortOf } = await import('../app/launch.js');
  const { onStopSignals } = await import('./signals.js');
  const log = stderrLine;
  const args = withoutOption(process.argv.slice(2), '--nproc');
  // As torchrun: the cores are split between the ranks unless --threads says how many each gets.
  if (!threadsGiven) args.push('--threads', String(Math.max(1, Math.floor(availableParallelism() / nproc))));
  const stop = onStopSignals(log);
  try {
    const r = await launchLocal({
      nproc, command: [process.execPath, ...process.execArgv, process.argv[1]!, ...args], env: { CSGNET_LAUNCHED: '1' }, masterPort: masterPortOf(process.env), signal: stop.signal, log,
    });
    if (r.firstFailure) log(`csgnet: rank ${r.firstFailure.rank} of ${nproc} failed (exit code ${r.firstFailure.code}); its message is above`);
    return stop.received() && !r.firstFailure ? stop.exitCode() : r.code;
  } finally {
    stop.dispose();
  }
}

// Messages of a collective that failed because another rank went away or hung.
// (not a flag's name: an error that lists --dist-timeout is no lost peer).
const PEER_LOST = /connection (closed|reset|refused)|closed by peer|(?<!-)\btimed? ?out|broken pipe|ECONNRESET|EPIPE|socket/i;

/**
 * Runs `body` as this process's rank: joins the group the environment describes (none when `env` is
 * null), hands it to body with a log that only rank 0 writes to, and leaves the group afterwards.
 * Errors name the rank, and say when the cause is most likely another rank.
 */
export async function trainRank(env: DistributedEnv | null, timeoutS: number,
  body: (group: ProcessGroup | undefined, log: (s: string) => void) => Promise<void>): Promise<void> {
  const log = stderrLine;
  if (!env) return body(undefined, log);
  const { initProcessGroup } = await import('../torch/distributed.js');
  const { PeerWatch } = await import('../app/peers.js');
  const group = await initProcessGroup({ rank: env.rank, worldSize: env.worldSize, masterAddr: env.masterAddr, masterPort: env.masterPort, timeoutMs: timeoutS * 1000 });
  const watch = await PeerWatch.start(group, env.masterAddr, env.masterPort);
  try {
    await body(group, env.rank === 0 ? log : () => {});
  } catch (e) {
    // No orderly leave here: the group may be broken, and the process exits anyway.
    const msg = (e as Error)?.message ?? String(e);
    // gloo's messages do not say which peer was lost: the beacons do.
    const lost = PEER_LOST.test(msg) ? ` (another rank exited, was stopped or stalled; ${await watch.diagnose()}; the first failing rank says why)` : '';
    throw new Error(`rank ${env.rank} of ${env.worldSize}: ${msg}${lost}`, { cause: e });
  } finally {
    watch.close();
  }
  await group.destroy();
}
