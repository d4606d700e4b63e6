// Which peer a rank lost. A gloo collective that fails says only "Timed out waiting 8000ms for recv
// operation to complete" (or that a connection closed), not which rank stopped answering. So each
// rank listens on a small TCP port of its own (the beacon, on the address gloo uses: GLOO_SOCKET_IFNAME's,
// else the one this host sends from towards rank 0); the ranks exchange addresses once when the group
// forms, and after a failure every peer's beacon is knocked at: an accepted connection is a live
// peer, a refused one a host whose rank has exited, no answer an unreachable host or link.
import { createSocket } from 'node:dgram';
import { connect, createServer, isIPv6, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import * as torch from '../torch/index.js';
import type { ProcessGroup } from '../torch/distributed.js';

const ADDR_CHARS = 64;

export type PeerState = 'answers' | 'refused' | 'unreachable';
export interface Peer { rank: number; addr: string; port: number }

/** The IPv4 (else first) address of interface `name`, or undefined when it has none. */
function interfaceAddress(name: string): string | undefined {
  const addrs = networkInterfaces()[name] ?? [];
  return (addrs.find((a) => a.family === 'IPv4') ?? addrs[0])?.address;
}

/** The address this host sends from towards addr (a connected UDP socket sends nothing), or undefined. */
function localAddressTowards(addr: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket(isIPv6(addr) ? 'udp6' : 'udp4');
    const done = (v: string | undefined) => { sock.close(); resolve(v); };
    sock.once('error', () => done(undefined));
    sock.connect(port, addr, () => done(sock.address().address));
  });
}

/** What a connection to addr:port finds within waitMs. */
export function knock(addr: string, port: number, waitMs = 1500): Promise<PeerState> {
  return new Promise((resolve) => {
    const sock = connect({ host: addr, port });
    const done = (state: PeerState) => { clearTimeout(timer); sock.destroy(); resolve(state); };
    const timer = setTimeout(() => done('unreachable'), waitMs);
    sock.once('connect', () => done('answers'));
    sock.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'unreachable'));
  });
}

/** Listens on a free port of `host`; resolves to the port. */
function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => { server.off('error', reject); resolve((server.address() as { port: number }).port); });
  });
}

export class PeerWatch {
  private constructor(private readonly server: Server, readonly rank: number, readonly peers: Peer[]) {}

  /**
   * Starts this rank's beacon and exchanges every rank's beacon address over `group` (one allGather;
   * every rank must call it at the same point).
   */
  static async start(group: ProcessGroup, masterAddr: string, masterPort: number, env: NodeJS.ProcessEnv = process.env): Promise<PeerWatch> {
    const ifname = env.GLOO_SOCKET_IFNAME?.trim();
    const addr = (ifname && interfaceAddress(ifname)) || (group.rank === 0 ? masterAddr : await localAddressTowards(masterAddr, masterPort)) || '127.0.0.1';
    const server = createServer((s) => s.destroy());
    // The beacon only explains failures: where it cannot listen, training goes on without it (port 0).
    const port = await listen(server, addr).catch(() => listen(server, '0.0.0.0')).catch(() => 0);
    server.unref();
    const mine = `${addr} ${port}`.padEnd(ADDR_CHARS).slice(0, ADDR_CHARS);
    const t = torch.tensor(Array.from(mine, (c) => c.charCodeAt(0)), { dtype: 'float64' });
    let all: torch.Tensor[] = [];
    try {
      all = await group.allGather(t);
      const peers = all.map((x, rank) => {
        const [a, p] = String.fromCharCode(...(x.data() as Float64Array)).trim().split(' ');
        return { rank, addr: a!, port: Number(p) };
      });
      return new PeerWatch(server, group.rank, peers);
    } catch (e) {
      server.close();
      throw e;
    } finally {
      t.dispose();
      for (const x of all) x.dispose();
    }
  }

  /** Knocks at every other rank's beacon; a sentence naming the peers that do not answer. */
  async diagnose(waitMs = 1500): Promise<string> {
    const others = this.peers.filter((p) => p.rank !== this.rank && p.port > 0);
    const states = await Promise.all(others.map((p) => knock(p.addr, p.port, waitMs)));
    const lost = others.map((p, i) => ({ ...p, state: states[i]! })).filter((p) => p.state !== 'answers');
    if (!lost.length) return 'every other rank still answers (one of them stalled or failed: its own message says why)';
    const name = (p: Peer & { state: PeerState }) => `rank ${p.rank} at ${p.addr} ` +
      (p.state === 'refused' ? 'has exited (its host refuses the connection)' : `is unreachable (no answer within ${waitMs} ms: its host or the link to it is down)`);
    const all = lost.length === others.length && lost.every((p) => p.state === 'unreachable') && others.length > 1;
    return `lost peer${lost.length > 1 ? 's' : ''}: ${lost.map(name).join('; ')}` +
      (all ? `; no other rank answers, so this host's own link (${this.peers[this.rank]!.addr}) is most likely down` : '');
  }

  close(): void {
    this.server.close();
  }
}
