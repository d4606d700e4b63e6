// `npm run bench cli`: wall time of starting the command line, as a user sees it: `csgnet --help` and
// `csgnet mis` on 10,000 x 64 random float32 features (10 classes), each the median of several runs,
// against Node's own start (`node -e 0`) and a command that loads libtorch (`csgnet info`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../util/paths.js';
import { writeNpy } from '../io/npy.js';

export interface CliBenchOptions { runs?: number; n?: number; k?: number; classes?: number }

export interface CliBenchResult {
  bench: 'cli'; command: string; runs: number; median_s: number; min_s: number; max_s: number;
  /** mis: the median of the MI computation's own seconds (its JSON), so median_s - compute_s is the start. */
  compute_s?: number;
  /** What the command should stay under (none for the references). */
  target_s: number | null;
}

function time(args: string[], runs: number, stdouts: string[] = []): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const s = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    out.push(s);
    stdouts.push(r.stdout);
  }
  return out;
}

const median = (v: number[]) => { const s = [...v].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };

export function benchCli(o: CliBenchOptions = {}): CliBenchResult[] {
  const runs = o.runs ?? 7, n = o.n ?? 10_000, k = o.k ?? 64, C = o.classes ?? 10;
  const cli = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
  const dir = mkdtempSync(join(tmpdir(), 'csgnet-bench-cli-'));
  try {
    let s = 1;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const F = new Float32Array(n * k).map(() => rnd());
    const y = BigInt64Array.from({ length: n }, () => BigInt(Math.floor(rnd() * C)));
    writeNpy(join(dir, 'F.npy'), F, [n, k]);
    writeNpy(join(dir, 'L.npy'), y, [n]);
    const cases: [string, string[], number | null][] = [
      ['node -e 0', ['-e', '0'], null],
      ['csgnet --help', [cli, '--help'], 0.3],
      [`csgnet mis (${n} x ${k}, ${C} classes)`, [cli, 'mis', '--features', join(dir, 'F.npy'), '--labels', join(dir, 'L.npy'), '--json'], 0.6],
      ['csgnet info (loads libtorch)', [cli, 'info', '--json'], null],
    ];
    return cases.map(([command, args, target]) => {
      time(args, 1); // warm the page cache
      const stdouts: string[] = [];
      const t = time(args, runs, stdouts);
      const r: CliBenchResult = { bench: 'cli', command, runs, median_s: median(t), min_s: Math.min(...t), max_s: Math.max(...t), target_s: target };
      if (command.startsWith('csgnet mis')) r.compute_s = median(stdouts.map((o) => JSON.parse(o).seconds));
      return r;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
