// The one atomic file writer: a temp file in the same folder, fsync, rename over the target, fsync
// of the folder (so the rename itself survives a power cut), temp removed on any failure. A reader
// sees the old file or the new one, never a part. Temp names start with '.' and end in '.tmp-<pid>-<n>'
// so that removeStaleTemps can find the ones a killed process left behind.
import { closeSync, copyFileSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { faultPoint } from './faults.js';

let counter = 0;
const TEMP_RE = /^\..+\.tmp-(\d+)-\d+$/;

/** Whether a file name is one of writeFileAtomic's temp files. */
export function isTempName(name: string): boolean {
  return TEMP_RE.test(name);
}

/** The temp name used for `path` by this process. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${counter++}`);
}

function writeAll(fd: number, b: Uint8Array): void {
  let off = 0;
  while (off < b.length) off += writeSync(fd, b, off, b.length - off);
}

/** fsync of a folder: makes a rename or a new file in it durable. Best effort where unsupported. */
export function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch { /* some filesystems refuse fsync on folders; the rename is still atomic */ } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * Writes `data` (a string, bytes, or a list of byte chunks written in order) to `path` atomically.
 * Crash tests can stop the process at `before-rename:NAME` and `after-rename:NAME` (util/faults.ts).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array | Uint8Array[]): void {
  const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : Array.isArray(data) ? data : [data];
  commitTemp(path, (fd) => { for (const c of chunks) writeAll(fd, c); });
}

/** Copies `src` over `dest` atomically (e.g. the best checkpoint from the last one). */
export function copyFileAtomic(src: string, dest: string): void {
  commitTemp(dest, (_fd, tmp) => copyFileSync(src, tmp));
}

/** Fills a fresh temp file next to `path` with `fill`, makes it durable, renames it over `path`. */
function commitTemp(path: string, fill: (fd: number, tmp: string) => void): void {
  const tmp = tempPathFor(path);
  let fd = -1;
  try {
    fd = openSync(tmp, 'w');
    fill(fd, tmp);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    faultPoint(`before-rename:${basename(path)}`);
    renameSync(tmp, path);
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
  fsyncDir(dirname(path));
  faultPoint(`after-rename:${basename(path)}`);
}

/** Whether a process with this id exists (one we may not signal counts). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temp files of writeFileAtomic in `dir` whose writer process is gone (a kill mid-write).
 * Returns the names removed. Temps of live processes (another writer) are left alone.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && pidAlive(pid)) continue;
    try { unlinkSync(join(dir, name)); removed.push(name); } catch { /* raced with its owner */ }
  }
  return removed;
}
