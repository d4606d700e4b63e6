// MIS benchmark: csgnet's one-vs-rest MI matrix against scikit-learn's mutual_info_classif on the same
// data (GAP-like float32 features, N = 10000, C = 10), K = 64 for both and K = 2048 for csgnet only
// (sklearn would need minutes). Run with `node dist/bench/mis.js` or through `npm run bench -- mis`.
// Environment: CSGNET_PYTHON (default /usr/bin/python3), BENCH_MIS_N, BENCH_MIS_WORKERS, BENCH_MIS_BIG_K.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../src/util/paths.js';
import { readNpy, writeNpy } from '../src/io/npy.js';
import { miMatrix, miMatrixAsync, mis } from '../src/metrics/mutual_info.js';
import { RandomState } from '../src/metrics/numpy_random.js';

const PY = process.env.CSGNET_PYTHON ?? '/usr/bin/python3';

/** GAP-like features: ReLU of gaussians, a class-dependent shift on a third of the filters. */
function makeData(n: number, k: number, C: number, seed: number): { F: Float32Array; y: Int32Array } {
  const rs = new RandomState(seed);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = Math.floor(rs.randomSample() * C);
  const F = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const shift = j % 3 === 0 && y[i] === j % C ? 0.8 : 0;
      F[i * k + j] = Math.max(0, rs.standardNormal() - 0.3 + shift);
    }
  }
  return { F, y };
}

/** [result, wall seconds, CPU seconds of the whole process (all threads)] */
async function timed<T>(f: () => T | Promise<T>): Promise<[T, number, number]> {
  const c = process.cpuUsage();
  const t = performance.now();
  const r = await f();
  const u = process.cpuUsage(c);
  return [r, (performance.now() - t) / 1000, (u.user + u.system) / 1e6];
}

export async function benchMis(): Promise<object> {
  const n = Number(process.env.BENCH_MIS_N ?? 10000);
  const C = 10;
  const kSmall = 64;
  const kBig = Number(process.env.BENCH_MIS_BIG_K ?? 2048);
  const workers = Number(process.env.BENCH_MIS_WORKERS ?? availableParallelism());
  const small = makeData(n, kSmall, C, 1);

  // csgnet, K = 64: one thread (best of 3), and worker threads
  let Msmall: Float64Array = new Float64Array(0);
  let oneThread = Infinity, oneThreadCpu = Infinity;
  for (let r = 0; r < 3; r++) {
    const [M, s, cpu] = await timed(() => miMatrix(small.F, n, kSmall, small.y, C));
    Msmall = M;
    oneThread = Math.min(oneThread, s);
    oneThreadCpu = Math.min(oneThreadCpu, cpu);
  }
  const [, withWorkers] = await timed(() => miMatrixAsync(small.F, n, kSmall, small.y, C, { workers }));

  // scikit-learn on the same data
  const dir = mkdtempSync(join(tmpdir(), 'csgnet-bench-mis-'));
  let sk: { seconds: number; cpu_seconds: number; mis: number; sklearn: string };
  let maxAbsDiff = 0;
  try {
    writeNpy(join(dir, 'F.npy'), small.F, [n, kSmall]);
    writeNpy(join(dir, 'y.npy'), small.y, [n]);
    const out = execFileSync(PY, [join(packageRoot(), 'bench', 'sklearn_mi.py'), '--features', join(dir, 'F.npy'), '--labels', join(dir, 'y.npy'),
      '--classes', String(C), '--out', join(dir, 'M.npy')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    sk = JSON.parse(out.trim().split('\n').filter((l) => l.startsWith('{')).pop()!);
    const Msk = readNpy(join(dir, 'M.npy')).data as Float64Array;
    for (let i = 0; i < Msk.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(Msk[i] - Msmall[i]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // csgnet, K = 2048 (worker threads)
  const big = makeData(n, kBig, C, 2);
  const [Mbig, bigSeconds, bigCpu] = await timed(() => miMatrixAsync(big.F, n, kBig, big.y, C, { workers }));

  return {
    bench: 'mis',
    n, classes: C, n_neighbors: 3, workers,
    k64_csgnet_seconds: oneThread,
    k64_csgnet_cpu_seconds: oneThreadCpu,
    k64_csgnet_workers_seconds: withWorkers,
    k64_sklearn_seconds: sk.seconds,
    k64_sklearn_cpu_seconds: sk.cpu_seconds,
    // > 1 means csgnet is faster (wall clock; CPU time is the fairer figure on a busy machine)
    k64_speedup_vs_sklearn: sk.seconds / oneThread,
    k64_speedup_vs_sklearn_cpu: sk.cpu_seconds / oneThreadCpu,
    k64_speedup_vs_sklearn_workers: sk.seconds / withWorkers,
    k64_max_abs_diff_vs_sklearn: maxAbsDiff,
    k64_mis_csgnet: mis(Msmall, C, kSmall),
    k64_mis_sklearn: sk.mis,
    [`k${kBig}_csgnet_workers_seconds`]: bigSeconds,
    [`k${kBig}_csgnet_cpu_seconds`]: bigCpu,
    [`k${kBig}_mis_csgnet`]: mis(Mbig, C, kBig),
    sklearn: sk.sklearn,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchMis()
    .then((r) => console.log(JSON.stringify(r)))
    .catch((e) => {
      console.error(`bench mis: ${e.message}`);
      process.exit(1);
    });
}
