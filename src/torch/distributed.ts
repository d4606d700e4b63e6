// Collective communication between processes over libtorch's c10d (like torch.distributed): a
// store for the rendezvous (TCPStore served by rank 0, or a FileStore on a shared file system) and a
// gloo process group. Every call returns a Promise that settles off the main thread, so timers and
// I/O keep running while a rank waits for its peers; a timeout or a dead peer rejects it.
import { connect } from 'node:net';
import { native, type GroupHandle } from './native.js';
import { Tensor } from './tensor.js';

/** The addon's collectives run on gloo (CPU tensors); it has no NCCL. */
export type Backend = 'gloo';

export interface ProcessGroupOptions {
  /** 'gloo' (CPU tensors), the only one (and the default). */
  backend?: Backend;
  rank: number;
  worldSize: number;
  /** Address of rank 0, which serves the TCPStore. Default '127.0.0.1'. */
  masterAddr?: string;
  /** Port of rank 0's TCPStore. Default 29500 (PyTorch's). */
  masterPort?: number;
  /** Limit for the rendezvous and for every collective. Default 30 min (PyTorch's). */
  timeoutMs?: number;
  /** Rendezvous through this file (c10d FileStore) instead of TCP; all ranks must see the same file,
   *  which must not exist before the first run of the group. */
  storePath?: string;
}

export const DEFAULT_MASTER_PORT = 29500;
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;
/** broadcast_coalesced's buffer size in DistributedDataParallel (250 MiB). */
export const BROADCAST_BUCKET_BYTES = 250 * 1024 * 1024;

/**
 * The sum of t over all ranks as a new tensor, differentiable: the gradient that flows back to t is
 * the sum of every rank's gradient of the result (torch.distributed.nn.functional.all_reduce).
 * Blocks in forward and in backward; every rank must call it at the same point.
 */
export function allReduceAutograd(t: Tensor, group: ProcessGroup): Tensor {
  const h = group.tensor('allReduceAutograd', t).h;
  return group.sync('allReduceAutograd', (g) => new Tensor(native.distAllReduceAutograd(g, h)));
}

/** The backends this build of the addon offers. */
export function availableBackends(): Backend[] {
  return native.distBackends() as Backend[];
}

function checkInt(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new RangeError(`initProcessGroup: ${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  return v;
}

/**
 * Joins a process group: resolves once all `worldSize` ranks have met (or rejects after timeoutMs).
 * Rank 0 hosts the TCPStore at masterAddr:masterPort.
 */
export async function initProcessGroup(opts: ProcessGroupOptions): Promise<ProcessGroup> {
  const backend = opts.backend ?? 'gloo';
  if (!availableBackends().includes(backend)) {
    throw new Error(`initProcessGroup: backend '${backend}' is not in this build (the addon has gloo only); ` +
      `available: ${availableBackends().join(', ')}`);
  }
  const worldSize = checkInt('worldSize', opts.worldSize, 1);
  const rank = checkInt('rank', opts.rank, 0, worldSize - 1);
  const timeoutMs = checkInt('timeoutMs', opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, 1);
  const storePath = opts.storePath ?? '';
  const masterAddr = opts.masterAddr ?? '127.0.0.1';
  const masterPort = storePath ? 0 : checkInt('masterPort', opts.masterPort ?? DEFAULT_MASTER_PORT, 1, 65535);
  if (!storePath && (typeof masterAddr !== 'string' || !masterAddr))
    throw new TypeError('initProcessGroup: masterAddr must be a non-empty host name or address');
  const where = storePath ? `file store ${storePath}` : `store ${masterAddr}:${masterPort}`;
  const failed = (why: string, cause?: unknown) => new Error(`initProcessGroup (rank ${rank} of ${worldSize}, ${where}, timeout ${timeoutMs} ms): ${why}`, { cause });
  // libtorch's TCPStore client reads some replies without a timeout: a MASTER_PORT held by a program
  // that is not a c10d store would hold the rendezvous forever. The native call runs on a detached
  // thread that this timer abandons at the timeout. A program that talks first is refused before:
  // libtorch's listener thread aborts the process on some garbage.
  if (!storePath && rank !== 0 && await talksFirst(masterAddr, masterPort)) {
    throw failed(`the program at ${masterAddr}:${masterPort} is not a c10d store (it sent data before any request; a store never does): check MASTER_ADDR and MASTER_PORT`);
  }
  const joining = (async () => native.distNewGloo({ rank, worldSize, masterAddr, masterPort, timeoutMs, storePath }))();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${stalledRendezvous(rank, worldSize, storePath, masterAddr, masterPort)}`)),
      timeoutMs);
  });
  try {
    return new ProcessGroup(await Promise.race([joining, deadline]), backend, rank, worldSize);
  } catch (e) {
    // A group that forms after all is left at once.
    joining.then((h) => native.distDestroy(h)).catch(() => {});
    throw failed((e as Error).message, e);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether whatever listens at addr:port sends data unasked within waitMs (false when nothing listens yet). */
function talksFirst(addr: string, port: number, waitMs = 250): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: addr, port });
    const done = (v: boolean) => { clearTimeout(timer); sock.destroy(); resolve(v); };
    const timer = setTimeout(() => done(false), waitMs);
    sock.once('data', () => done(true));
    sock.once('error', () => done(false));
    sock.once('close', () => done(false));
  });
}

/** What a rendezvous that never finished most likely waits for. */
function stalledRendezvous(rank: number, worldSize: number, storePath: string, addr: string, port: number): string {
  if (storePath) return `the other ranks did not all join through the file store ${storePath}`;
  if (rank === 0) return `the other ${worldSize - 1} rank(s) did not all join the store this rank serves at ${addr}:${port}`;
  return `no c10d store answered at ${addr}:${port} (rank 0 serves none there, or another program holds that port: check MASTER_ADDR and MASTER_PORT)`;
}

/**
 * A joined group. Collectives must be called in the same order on every rank. A tensor passed to a
 * collective must stay untouched (not read, written or disposed) until its Promise settles.
 */
export class ProcessGroup {
  private h: GroupHandle | null;

  constructor(h: GroupHandle, readonly backend: Backend, readonly rank: number, readonly worldSize: number) {
    this.h = h;
  }

  get isDestroyed(): boolean { return this.h === null; }

  /** In place: t becomes the sum of t over all ranks (divide by worldSize for a mean). */
  allReduce(t: Tensor): Promise<void> {
    return this.run('allReduce', (h) => native.distAllReduce(h, this.tensor('allReduce', t).h));
  }

  /** In place: t becomes rank src's t on every rank. */
  broadcast(t: Tensor, src: number): Promise<void> {
    if (!Number.isInteger(src) || src < 0 || src >= this.worldSize)
      return Promise.reject(new RangeError(`broadcast: src must be a rank in [0, ${this.worldSize - 1}], got ${src}`));
    return this.run('broadcast', (h) => native.distBroadcast(h, this.tensor('broadcast', t).h, src));
  }

  /** Every rank's t, in rank order (new tensors, owned by the caller: dispose them). */
  async allGather(t: Tensor): Promise<Tensor[]> {
    const hs = await this.run('allGather', (h) => native.distAllGather(h, this.tensor('allGather', t).h));
    return hs.map((x) => new Tensor(x));
  }

  /** Resolves once every rank has called barrier(). */
  barrier(): Promise<void> {
    return this.run('barrier', (h) => native.distBarrier(h));
  }

  /**
   * In place: every tensor becomes rank src's, packed into flat buffers of about bufferBytes
   * (c10d's broadcast_coalesced, what DistributedDataParallel uses for parameters and buffers).
   * Blocks this thread until done, a peer fails or the group's timeout passes.
   */
  broadcastCoalesced(tensors: Tensor[], src = 0, bufferBytes = BROADCAST_BUCKET_BYTES): void {
    if (!Number.isInteger(src) || src < 0 || src >= this.worldSize)
      throw new RangeError(`broadcastCoalesced: src must be a rank in [0, ${this.worldSize - 1}], got ${src}`);
    const hs = tensors.map((t) => this.tensor('broadcastCoalesced', t).h);
    this.sync('broadcastCoalesced', (h) => native.distBroadcastCoalesced(h, hs, src, bufferBytes));
  }

  /** The native handle, for the data-parallel helpers of this package (throws once destroyed). */
  handle(what: string): GroupHandle {
    if (!this.h) throw new Error(`${what}: process group was destroyed`);
    return this.h;
  }

  /** Runs a blocking native collective, naming it and the rank in errors. */
  sync<T>(what: string, call: (h: GroupHandle) => T): T {
    const h = this.handle(what);
    try {
      return call(h);
    } catch (e) {
      throw new Error(`${what} (rank ${this.rank} of ${this.worldSize}) failed: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Leaves the group and frees its connections. Idempotent. */
  async destroy(): Promise<void> {
    const h = this.h;
    this.h = null;
    if (h) await native.distDestroy(h);
  }

  tensor(what: string, t: Tensor): Tensor {
    if (!(t instanceof Tensor)) throw new TypeError(`${what}: expected a Tensor`);
    if (t.isDisposed) throw new Error(`${what}: tensor was disposed`);
    if (t.device !== 'cpu') throw new Error(`${what}: the gloo backend here takes CPU tensors, got one on ${t.device}`);
    return t;
  }

  // Enqueues synchronously (keeping the call order), names the collective and rank in errors.
  private async run<T>(what: string, call: (h: GroupHandle) => Promise<T>): Promise<T> {
    if (!this.h) throw new Error(`${what}: process group was destroyed`);
    let pending: Promise<T>;
    try {
      pending = call(this.h);
    } catch (e) {
      throw new Error(`${what} (rank ${this.rank} of ${this.worldSize}): ${(e as Error).message}`, { cause: e });
    }
    try {
      return await pending;
    } catch (e) {
      throw new Error(`${what} (rank ${this.rank} of ${this.worldSize}) failed: ${(e as Error).message}`, { cause: e });
    }
  }
}
