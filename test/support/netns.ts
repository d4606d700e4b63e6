// Hosts for multi-host tests on one machine: N Linux network namespaces, each with its own address
// on a veth pair whose other end sits on a bridge in a hub namespace of its own (nothing is added to
// the root namespace's links or routes). A test runs commands inside a host, changes its link's delay
// (tc netem), takes its link down and up, kills everything in it, and always tears it all down.
// Names carry this process's pid (csgn<pid>h, csgn<pid>n<i>), so concurrent test processes do not
// meet, and a crashed earlier run's namespaces are recognized (dead pid) and deleted.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { release as osRelease } from 'node:os';

const PREFIX = 'csgn';
/** Addresses live only inside the namespaces made here. */
const SUBNET = '10.77.0';

function ip(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.error) return { ok: false, out: `ip: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}` };
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

function must(args: string[]): string {
  const r = ip(args);
  if (!r.ok) throw new Error(`ip ${args.join(' ')}: ${r.out}`);
  return r.out;
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

function namespaces(): string[] {
  const r = ip(['netns', 'list']);
  return r.ok ? r.out.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean) : [];
}

/** SIGKILLs every process in namespace `ns`; returns their pids. */
function killAll(ns: string): number[] {
  const pids = ip(['netns', 'pids', ns]).out.split('\n').map(Number).filter((p) => p > 0);
  for (const p of pids) try { process.kill(p, 'SIGKILL'); } catch { /* already gone */ }
  return pids;
}

function remove(ns: string): void {
  killAll(ns);
  ip(['netns', 'delete', ns]);
}

/** Deletes namespaces this harness made in processes that no longer run (a crashed earlier test). */
export function cleanStale(): string[] {
  const stale = namespaces().filter((n) => {
    const m = new RegExp(`^${PREFIX}(\\d+)(h|n\\d+)$`).exec(n);
    return m && Number(m[1]) !== process.pid && !alive(Number(m[1]));
  });
  for (const n of stale) remove(n);
  return stale;
}

/**
 * Why namespaces cannot be made here (not root, no CAP_SYS_ADMIN, no iproute2, a root without
 * /run/netns, no veth support), or null when they can.
 */
export function unavailable(): string | null {
  if (process.platform !== 'linux') return `network namespaces are Linux only (this is ${process.platform})`;
  const probe = `${PREFIX}${process.pid}h`;
  const add = ip(['netns', 'add', probe]);
  if (!add.ok) {
    if (add.out.includes('ENOENT')) return 'iproute2 is not installed (no `ip` command; apt-get install iproute2)';
    return `\`ip netns add\` is refused here (${add.out}; it needs root with CAP_SYS_ADMIN and a mountable /run/netns)`;
  }
  try {
    const veth = ip(['-n', probe, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1']);
    if (!veth.ok) return `veth pairs cannot be made in a network namespace here (${veth.out})`;
    return null;
  } finally {
    remove(probe);
  }
}

/** Why `tc netem` (delay) cannot be used here, or null when it can: some kernels are built without it. */
export function netemUnavailable(): string | null {
  const probe = `${PREFIX}${process.pid}h`;
  const add = ip(['netns', 'add', probe]);
  if (!add.ok) return `\`ip netns add\` is refused here (${add.out})`;
  try {
    const r = spawnSync('ip', ['netns', 'exec', probe, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], { encoding: 'utf8' });
    if (r.error) return `tc is not installed (${(r.error as NodeJS.ErrnoException).code})`;
    return r.status === 0 ? null
      : `this kernel (${osRelease()}) has no tc netem qdisc (tc: ${r.stderr.trim()}); it needs CONFIG_NET_SCH_NETEM or \`modprobe sch_netem\``;
  } finally {
    remove(probe);
  }
}

export interface Host {
  rank: number;
  /** The namespace's name. */
  ns: string;
  /** This host's address on the bridge. */
  addr: string;
  /** Its end of the veth pair (what GLOO_SOCKET_IFNAME names). */
  ifname: string;
}

export class Hosts {
  readonly hub: string;
  readonly hosts: Host[];
  private readonly children = new Set<ChildProcess>();
  private closed = false;

  /** Makes `n` hosts 10.77.0.1..n on one bridge. Throws (after deleting what it made) on failure. */
  constructor(n: number) {
    cleanStale();
    this.hub = `${PREFIX}${process.pid}h`;
    this.hosts = Array.from({ length: n }, (_, i) => ({ rank: i, ns: `${PREFIX}${process.pid}n${i}`, addr: `${SUBNET}.${i + 1}`, ifname: `veth${i}` }));
    try {
      must(['netns', 'add', this.hub]);
      must(['-n', this.hub, 'link', 'add', 'br0', 'type', 'bridge']);
      must(['-n', this.hub, 'link', 'set', 'br0', 'up']);
      for (const h of this.hosts) {
        must(['netns', 'add', h.ns]);
        // Both ends made in the hub, then one end moved into the host (veth names are per namespace).
        must(['-n', this.hub, 'link', 'add', `h${h.rank}`, 'type', 'veth', 'peer', 'name', h.ifname]);
        must(['-n', this.hub, 'link', 'set', h.ifname, 'netns', h.ns]);
        must(['-n', this.hub, 'link', 'set', `h${h.rank}`, 'master', 'br0', 'up']);
        must(['-n', h.ns, 'addr', 'add', `${h.addr}/24`, 'dev', h.ifname]);
        must(['-n', h.ns, 'link', 'set', h.ifname, 'up']);
        must(['-n', h.ns, 'link', 'set', 'lo', 'up']);
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Starts `command` in host `rank`'s namespace with `env` (added to this process's). */
  spawn(rank: number, command: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.host(rank).ns, ...command], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    child.on('close', () => this.children.delete(child));
    return child;
  }

  /** The delay (ms) of every packet host `rank` sends; 0 removes it. On the host's side of its link. */
  setDelay(rank: number, ms: number): void {
    const h = this.host(rank);
    if (ms > 0) must(['netns', 'exec', h.ns, 'tc', 'qdisc', 'replace', 'dev', h.ifname, 'root', 'netem', 'delay', `${ms}ms`]);
    else ip(['netns', 'exec', h.ns, 'tc', 'qdisc', 'del', 'dev', h.ifname, 'root']);
  }

  /** Unplugs (false) or plugs back (true) host `rank`'s cable at the bridge: its own interface stays up. */
  setLink(rank: number, up: boolean): void {
    must(['-n', this.hub, 'link', 'set', `h${rank}`, up ? 'up' : 'down']);
  }

  /** SIGKILLs every process in host `rank`'s namespace (the host dies; its kernel still answers). */
  kill(rank: number): number[] {
    return killAll(this.host(rank).ns);
  }

  /** Kills every process and deletes every namespace made here. Idempotent; safe in an exit hook. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.children) c.kill('SIGKILL');
    for (const h of this.hosts) remove(h.ns);
    remove(this.hub);
  }

  private host(rank: number): Host {
    const h = this.hosts[rank];
    if (!h) throw new RangeError(`no host ${rank} (there are ${this.hosts.length})`);
    return h;
  }
}
