// `csgnet mis`: MI matrix and MIS of any features and labels (.npy).
import type { Command } from 'commander';
import { int, threadsOption } from '../options.js';
import { DEFAULT_N_NEIGHBORS } from '../../metrics/mi/estimator.js';

export function register(program: Command): void {
  program.command('mis').description('MI matrix and MIS of any features: F.npy [N, K] float, L.npy [N] integer labels')
    .requiredOption('--features <file>', 'features .npy')
    .requiredOption('--labels <file>', 'labels .npy')
    .option('--n-neighbors <n>', 'kNN neighbours', int(1), DEFAULT_N_NEIGHBORS)
    .option('--random-state <n>', 'seed of the noise (sklearn random_state)', int(0), 0)
    .option('--balanced', 'balanced sampling of negatives')
    .option('--normalize-columns', 'divide each column of M by its sum')
    .addOption(threadsOption('worker threads of the MI matrix (0 = automatic: every core, at most 8, for large inputs); results are identical with any count'))
    .option('--json', 'print JSON {mis, mi_matrix, seconds}')
    .action(async (o) => {
      const { readNpy } = await import('../../io/npy.js');
      const { miMatrixAsync, mis } = await import('../../metrics/mutual_info.js');
      const f = readNpy(o.features), l = readNpy(o.labels);
      if (f.shape.length !== 2) throw new Error(`${o.features}: expected a 2-D array [N, K], got shape [${f.shape}]`);
      if (!(f.data instanceof Float32Array || f.data instanceof Float64Array)) throw new Error(`${o.features}: expected float32 or float64 features, got ${f.dtype}`);
      const [n, k] = f.shape;
      const { validateLabels } = await import('../../metrics/labels.js');
      const { labels, numClasses: C } = validateLabels(l, o.labels, n, '--labels');
      const t0 = performance.now();
      const M = await miMatrixAsync(f.data, n, k, labels, C, { nNeighbors: o.nNeighbors, randomState: o.randomState, balanceNegatives: !!o.balanced, normalizeColumns: !!o.normalizeColumns,
        workers: o.threads || undefined });
      const seconds = (performance.now() - t0) / 1000;
      const score = mis(M, C, k);
      const matrix = Array.from({ length: C }, (_, c) => Array.from(M.subarray(c * k, (c + 1) * k)));
      if (o.json) console.log(JSON.stringify({ mis: score, mi_matrix: matrix, seconds }));
      else console.log(`MIS ${score.toFixed(4)} over ${k} features, ${C} classes, ${n} samples (${seconds.toFixed(2)} s)`);
    });
}
