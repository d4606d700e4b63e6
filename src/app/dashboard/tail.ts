// Follows a growing JSONL file by polling: each poll returns the whole lines appended since the last
// one (a line still being written waits for its newline). A file that shrank or was replaced (a
// resumed run rewrites metrics.jsonl from its checkpoint) restarts from the top with `reset`.
import { closeSync, openSync, readSync, statSync } from 'node:fs';

export interface TailResult<T> { reset: boolean; lines: T[] }

export class JsonlTail<T = any> {
  private offset = 0;
  private ino = -1;
  private pending = Buffer.alloc(0);

  /** `fromEnd`: skip what the file holds now (follow only new lines). */
  constructor(readonly file: string, fromEnd = false) {
    if (fromEnd) {
      try {
        const st = statSync(file);
        this.offset = st.size;
        this.ino = st.ino;
      } catch { /* not there yet: starts from the top when it appears */ }
    }
  }

  poll(): TailResult<T> {
    let st;
    try {
      st = statSync(this.file);
    } catch {
      const reset = this.offset > 0;
      this.offset = 0; this.ino = -1; this.pending = Buffer.alloc(0);
      return { reset, lines: [] };
    }
    let reset = false;
    if (this.ino !== -1 && (st.ino !== this.ino || st.size < this.offset)) {
      reset = true;
      this.offset = 0; this.pending = Buffer.alloc(0);
    }
    this.ino = st.ino;
    if (st.size === this.offset) return { reset, lines: [] };
    const buf = Buffer.alloc(st.size - this.offset);
    const fd = openSync(this.file, 'r');
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset += n;
    // Split on the last newline in bytes, so that a character cut by the poll is never decoded in halves.
    const all = Buffer.concat([this.pending, buf.subarray(0, n)]);
    const end = all.lastIndexOf(0x0a);
    this.pending = Buffer.from(all.subarray(end + 1));
    const parts = end < 0 ? [] : all.subarray(0, end).toString('utf8').split('\n');
    const lines: T[] = [];
    for (const p of parts) {
      if (!p.trim()) continue;
      try { lines.push(JSON.parse(p)); } catch { /* a torn line left by a killed writer */ }
    }
    return { reset, lines };
  }
}
