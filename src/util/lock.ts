// An exclusive lock on a folder: a file created with O_EXCL holding the owner's PID, host and process
// start time. A lock whose process is gone (same host; PID dead or reused by a later process) is
// stale and is taken over; a live owner, or one on another host, makes acquire fail with a message
// that names it.
import { closeSync, fsyncSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

export interface LockOwner { pid: number; host: string; start: string | null; since: string }

export class LockedError extends Error {}

/** Process start time in clock ticks since boot (/proc/PID/stat field 22); null where unavailable. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields after the last ')' are fixed.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // Same PID, but a different process started since (the PID was reused): stale.
  const start = processStart(owner.pid);
  return !(owner.start && start && start !== owner.start);
}

function readOwner(path: string): LockOwner | null {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8'));
    return typeof o.pid === 'number' && typeof o.host === 'string' ? o : null;
  } catch {
    return null; // unreadable or half-written by a killed process: treated as stale
  }
}

/** The owner of the lock at `path` when a live process (or one on another host) holds it; null when free or stale. */
export function lockHolder(path: string): LockOwner | null {
  const owner = readOwner(path);
  return owner && (owner.host !== hostname() || alive(owner)) ? owner : null;
}

export class FolderLock {
  private held = false;
  private constructor(readonly path: string) {}

  /**
   * Takes the lock at `path`, or throws LockedError naming the owner. `what` names the folder in
   * messages (e.g. 'run folder runs/csg').
   */
  static acquire(path: string, what: string): FolderLock {
    const me: LockOwner = { pid: process.pid, host: hostname(), start: processStart(process.pid), since: new Date().toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      let fd: number;
      try {
        fd = openSync(path, 'wx');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const owner = readOwner(path);
        if (owner && owner.host !== me.host) {
          throw new LockedError(`${what} is locked by process ${owner.pid} on host ${owner.host} (since ${owner.since}); ` +
            `if that process is gone, remove ${path}`);
        }
        if (owner && alive(owner)) {
          throw new LockedError(`${what} is in use by process ${owner.pid} on this host (since ${owner.since}); ` +
            'wait for it to finish or stop it first');
        }
        try { unlinkSync(path); } catch { /* another process took it over first; retry */ }
        continue;
      }
      try {
        writeSync(fd, JSON.stringify(me) + '\n');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      const lock = new FolderLock(path);
      lock.held = true;
      return lock;
    }
    throw new LockedError(`${what}: could not take ${path} (other processes keep taking it)`);
  }

  /** Releases the lock if this process still owns it. Idempotent. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    const owner = readOwner(this.path);
    if (owner && owner.pid === process.pid && owner.host === hostname()) {
      try { unlinkSync(this.path); } catch { /* already gone */ }
    }
  }
}
