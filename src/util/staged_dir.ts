// A results folder replaced as a whole, and only once complete: the command writes into a temp folder
// beside the target (same file system, so the renames are atomic), and commit() swaps it in. The old
// folder is moved aside, the new one renamed in, then the old one removed, so a reader sees the old
// results or the new ones, never a mix; on failure (discard) the old results stay as they were.
// Temp names follow util/atomic's pattern ('.NAME.tmp-<pid>-<n>', '.NAME.old-<pid>-<n>'): the next
// StagedDir for the same target removes what a killed process left behind (and puts back an old folder
// that a kill between the two renames left aside).
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fsyncDir, pidAlive } from './atomic.js';
import { faultPoint } from './faults.js';

let counter = 0;

export class StagedDir {
  /** The temp folder to write into. */
  readonly dir: string;
  private readonly target: string;
  private done = false;

  /** Makes the temp folder beside `target` (creating target's parent folders). */
  constructor(target: string) {
    this.target = resolve(target);
    const parent = dirname(this.target);
    mkdirSync(parent, { recursive: true });
    StagedDir.removeStale(this.target);
    this.dir = join(parent, `.${basename(this.target)}.tmp-${process.pid}-${counter++}`);
    mkdirSync(this.dir);
  }

  /** `path` (inside the temp folder) as it will be named once committed, under `shownAs` (the target as given). */
  final(path: string, shownAs: string): string {
    return join(shownAs, relative(this.dir, path));
  }

  /** Swaps the complete temp folder in for the target. */
  commit(): void {
    if (this.done) throw new Error(`StagedDir: ${this.target} already committed or discarded`);
    faultPoint(`before-commit:${basename(this.target)}`);
    const aside = existsSync(this.target) ? join(dirname(this.target), `.${basename(this.target)}.old-${process.pid}-${counter++}`) : null;
    if (aside) renameSync(this.target, aside);
    try {
      renameSync(this.dir, this.target);
    } catch (e) {
      if (aside) renameSync(aside, this.target);
      throw e;
    }
    this.done = true;
    fsyncDir(dirname(this.target));
    if (aside) rmSync(aside, { recursive: true, force: true });
  }

  /** Removes the temp folder (a no-op after commit). */
  discard(): void {
    if (this.done) return;
    this.done = true;
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Temp folders of `target` whose writer is gone: removed; an old folder set aside without a new one in place: put back. */
  static removeStale(target: string): void {
    const parent = dirname(target), name = basename(target);
    let names: string[];
    try { names = readdirSync(parent); } catch { return; }
    const re = new RegExp(`^\\.${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(tmp|old)-(\\d+)-\\d+$`);
    for (const n of names) {
      const m = re.exec(n);
      if (!m || pidAlive(Number(m[2]))) continue; // a live writer's (this process's included)
      if (m[1] === 'old' && !existsSync(target)) renameSync(join(parent, n), target);
      else rmSync(join(parent, n), { recursive: true, force: true });
    }
  }
}
