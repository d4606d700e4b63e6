// Data-parallel launching, as torchrun does it: the environment a rank reads (MASTER_ADDR,
// MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK, or SLURM's SLURM_PROCID/SLURM_NTASKS/SLURM_LOCALID),
// and a local launcher that starts N ranks of a command on this machine and supervises them: a stop
// request reaches every rank once, and when one rank fails the others are given time to fail on
// their own (they see the broken group) and then stopped. This module owns no process state: the
// caller passes an AbortSignal and a log.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface DistributedEnv {
  rank: number;
  worldSize: number;
  localRank: number;
  masterAddr: string;
  masterPort: number;
  /** Where the values came from, for messages. */
  source: 'torchrun' | 'slurm';
}

const DEFAULT_PORT = 29500;

function intVar(env: NodeJS.ProcessEnv, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  const v = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isInteger(v) || v < min || v > max)
    throw new Error(`environment variable ${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw ?? null)}`);
  return v;
}

/**
 * The data-parallel settings of this process from its environment, or null when it is not one rank
 * of several (no WORLD_SIZE, and no SLURM job step with more than one task). Errors name the variable.
 */
export function distributedEnv(env: NodeJS.ProcessEnv = process.env): DistributedEnv | null {
  let source: DistributedEnv['source'];
  let worldSize: number, rank: number, localRank: number;
  if (env.WORLD_SIZE !== undefined) {
    source = 'torchrun';
    worldSize = intVar(env, 'WORLD_SIZE', 1);
    if (worldSize === 1) return null;
    rank = intVar(env, 'RANK', 0, worldSize - 1);
    localRank = env.LOCAL_RANK === undefined ? rank : intVar(env, 'LOCAL_RANK', 0);
  } else if (env.SLURM_NTASKS !== undefined && env.SLURM_PROCID !== undefined && Number(env.SLURM_NTASKS) > 1) {
    source = 'slurm';
    worldSize = intVar(env, 'SLURM_NTASKS', 1);
    rank = intVar(env, 'SLURM_PROCID', 0, worldSize - 1);
    localRank = env.SLURM_LOCALID === undefined ? 0 : intVar(env, 'SLURM_LOCALID', 0);
  } else {
    return null;
  }
  const masterAddr = env.MASTER_ADDR?.trim();
  if (!masterAddr) {
    throw new Error(`environment variable MASTER_ADDR is not set: rank ${rank} of ${worldSize} (from ${source === 'slurm' ? 'SLURM_PROCID/SLURM_NTASKS' : 'RANK/WORLD_SIZE'}) ` +
      'needs the address of the host of rank 0 (e.g. MASTER_ADDR=$(scontrol show hostnames | head -n1))');
  }
  return { rank, worldSize, localRank, masterAddr, masterPort: masterPortOf(env) ?? DEFAULT_PORT, source };
}

/** MASTER_PORT from the environment, if set (an error names it when it is no port). */
export function masterPortOf(env: NodeJS.ProcessEnv = process.env): number | undefined {
  return env.MASTER_PORT === undefined ? undefined : intVar(env, 'MASTER_PORT', 1, 65535);
}

/** Listens on the loopback interface at `port` (0: any free one) and closes again; resolves to the port. */
function tryPort(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => {
      const { port: got } = s.address() as { port: number };
      s.close(() => resolve(got));
    });
  });
}

/** A TCP port that is free on the loopback interface now (for a local group's store). */
export function freePort(): Promise<number> {
  return tryPort(0);
}

export interface LaunchOptions {
  nproc: number;
  /** The program and its arguments, the same for every rank (e.g. [node, cli.js, 'train', ...]). */
  command: string[];
  /** Extra environment for every rank (RANK, WORLD_SIZE, ... are set here). */
  env?: NodeJS.ProcessEnv;
  /** The store's port (a given MASTER_PORT): checked free first. Default: a free port. */
  masterPort?: number;
  /** First stop request: every rank gets one SIGINT (they agree on a batch, save and exit). */
  signal?: AbortSignal;
  /** After a rank fails, how long the others may take to fail or finish before SIGTERM (default 60 s), then SIGKILL after as long again. */
  graceMs?: number;
  log?: (line: string) => void;
  /** Lines a rank other than 0 writes to stderr (default: log, prefixed with the rank). */
  rankOutput?: (rank: number, line: string) => void;
}

export interface LaunchResult {
  /** The exit code to use: 0 when every rank succeeded, else the first failing rank's (128 + signal for a killed one). */
  code: number;
  /** Per rank: exit code (128 + signal number when killed by a signal). */
  codes: number[];
  /** The first rank that failed, if any. */
  firstFailure: { rank: number; code: number } | null;
}

const SIGNAL_CODES: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGKILL: 137, SIGTERM: 143, SIGSEGV: 139, SIGABRT: 134 };

/** Starts `nproc` ranks of `command` on this host (MASTER_ADDR 127.0.0.1) and waits for all of them. */
export async function launchLocal(opts: LaunchOptions): Promise<LaunchResult> {
  const { nproc } = opts;
  if (!Number.isInteger(nproc) || nproc < 1) throw new RangeError(`--nproc must be a positive integer, got ${nproc}`);
  const log = opts.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const rankOutput = opts.rankOutput ?? ((r: number, line: string) => log(`[rank ${r}] ${line}`));
  const graceMs = opts.graceMs ?? 60_000;
  const port = opts.masterPort === undefined ? await freePort() : await tryPort(opts.masterPort).catch((e: NodeJS.ErrnoException) => {
    throw new Error(`MASTER_PORT=${opts.masterPort}: rank 0 cannot serve its store there: ${e.code === 'EADDRINUSE'
      ? 'the port is in use on this machine (another program or another group listens there)' : e.message}; choose a free port, or unset MASTER_PORT to let csgnet pick one`);
  });
  const [program, ...args] = opts.command;
  const children: ChildProcess[] = [];
  const codes: (number | null)[] = new Array(nproc).fill(null);
  let firstFailure: LaunchResult['firstFailure'] = null;
  let stopping = false;
  const timers: NodeJS.Timeout[] = [];

  const alive = () => children.filter((_, r) => codes[r] === null);
  const stopOthers = () => {
    if (stopping) return;
    stopping = true;
    timers.push(setTimeout(() => {
      for (const c of alive()) c.kill('SIGTERM');
      timers.push(setTimeout(() => { for (const c of alive()) c.kill('SIGKILL'); }, graceMs).unref());
    }, graceMs).unref());
  };
  const onAbort = () => { for (const c of alive()) c.kill('SIGINT'); };
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const done = new Promise<void>((resolve) => {
    let left = nproc;
    for (let r = 0; r < nproc; r++) {
      const env = {
        ...process.env, ...opts.env, MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), RANK: String(r), LOCAL_RANK: String(r),
        WORLD_SIZE: String(nproc), LOCAL_WORLD_SIZE: String(nproc), GROUP_RANK: '0',
      };
      // Rank 0 owns the terminal (progress, log lines); the others' output is relayed line by line.
      const child = spawn(program!, args, { env, stdio: r === 0 ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
      if (r > 0) {
        for (const stream of [child.stdout!, child.stderr!]) {
          let buf = '';
          stream.setEncoding('utf8');
          stream.on('data', (d: string) => {
            buf += d;
            let i: number;
            while ((i = buf.indexOf('\n')) >= 0) { rankOutput(r, buf.slice(0, i).replace(/\r/g, '')); buf = buf.slice(i + 1); }
          });
          stream.on('end', () => { if (buf) rankOutput(r, buf); buf = ''; });
        }
      }
      children.push(child);
      child.on('error', (e) => log(`rank ${r}: could not start ${program}: ${e.message}`));
      child.on('close', (code, sig) => {
        const c = code ?? (sig ? SIGNAL_CODES[sig] ?? 128 : 1);
        codes[r] = c;
        if (c !== 0 && !firstFailure && !opts.signal?.aborted) {
          firstFailure = { rank: r, code: c };
          if (left > 1) log(`rank ${r} exited with ${sig ? `signal ${sig}` : `code ${c}`}; the other ranks stop (they are stopped after ${Math.round(graceMs / 1000)} s if they hang)`);
          stopOthers();
        }
        if (--left === 0) resolve();
      });
    }
  });
  try {
    await done;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    for (const t of timers) clearTimeout(t);
  }
  const final = codes.map((c) => c ?? 1);
  const failure = firstFailure as LaunchResult['firstFailure'];
  const code = failure ? failure.code : final.find((c) => c !== 0) ?? 0;
  return { code, codes: final, firstFailure: failure };
}
