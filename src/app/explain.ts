// `csgnet explain`: class maps of a run's model scored by faithfulness (deletion, insertion, ROAD,
// confidence change; src/metrics/faithfulness), per method, per class and overall, on any split of the
// run's own data: no masks needed. Writes faithfulness.json (default RUN/faithfulness, where compare and
// report look) and, with --save-maps, maps/<method>.npy [N, H, W] and labels.npy.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openRun, runDataset } from '../csg/run.js';
import { FAITHFULNESS_FILE, RunDir } from '../csg/run_dir.js';
import { KNOWN_LOCALIZE_METHODS, type FaithfulnessReport, type LocalizeMethod } from '../csg/results.js';
import type { AttributionSettings, Target } from '../explain/index.js';
import { checkFaithfulnessMetrics } from '../metrics/faithfulness/index.js';
import { writeNpy } from '../io/npy.js';
import { writeFileAtomic } from '../util/atomic.js';
import { analysisKey } from './analysis_key.js';
import { CLASS_MAP_METHODS, createExplainers, tensorBatches } from './explainers.js';
import { FaithfulnessRun, type FaithfulnessRequest } from './faithfulness.js';
import { checkOutputDir, stagedWrite, writingOutput } from './outputs.js';
import { EXPLAIN_DEFAULTS as D } from './defaults.js';

/** What explain writes into its --out folder: an existing folder holding only these is replaced. */
export const EXPLAIN_FILES = [FAITHFULNESS_FILE, 'maps', 'labels.npy'];

export interface ExplainOptions extends Omit<FaithfulnessRequest, 'metrics'> {
  run: string;
  checkpoint?: string;
  split?: 'test' | 'train' | 'val';
  /** Only the first N images (0 = all; default EXPLAIN_DEFAULTS.limit). */
  limit?: number;
  /** Class-map methods (default EXPLAIN_DEFAULTS.methods). */
  methods?: readonly string[];
  /** Faithfulness metrics (default every one). */
  metrics?: readonly string[];
  target?: Target;
  /** Target layer, for explainers that take one. */
  layer?: string;
  /** The input attributions' settings (saliency, ig, smoothgrad, occlusion). */
  attribution?: AttributionSettings;
  batchSize?: number;
  saveMaps?: boolean;
  /** Output folder (default RUN/faithfulness). */
  out?: string;
  log?: (line: string) => void;
  progress?: (done: number, total: number) => void;
}

export async function explainRun(o: ExplainOptions): Promise<{ report: FaithfulnessReport; files: string[] }> {
  const methods = [...(o.methods ?? D.methods)] as LocalizeMethod[];
  for (const m of methods) {
    if (!CLASS_MAP_METHODS.includes(m)) {
      throw new Error(`--methods: '${m}' ${KNOWN_LOCALIZE_METHODS.includes(m) ? 'makes one map per filter, not a class map' : 'is not a method'} ` +
        `(explain scores class maps: ${CLASS_MAP_METHODS.join(', ')})`);
    }
  }
  if (!methods.length) throw new Error(`--methods: no method named (known: ${CLASS_MAP_METHODS.join(', ')})`);
  const metrics = checkFaithfulnessMetrics(o.metrics ?? D.metrics);
  const rd = new RunDir(o.run, '--run');
  const outDir = o.out ?? rd.faithfulnessDir;
  checkOutputDir('--out', outDir, { runs: [o.run], mode: 'replace', owns: EXPLAIN_FILES, suggest: rd.faithfulnessDir });
  const split = o.split ?? 'test', target = o.target ?? D.target, batchSize = o.batchSize ?? D.batchSize;
  const run = openRun(o.run, o.checkpoint ?? 'last');
  const ds = await runDataset(run, split, { log: o.log });
  const limit = o.limit ?? D.limit;
  const n = limit ? Math.min(limit, ds.length) : ds.length;
  if (n === 0) throw new Error(`the ${split} split of ${o.run} has no images`);
  const { height: H, width: W } = ds, hw = H * W, C = ds.numClasses;
  const labels = Int32Array.from(ds.labels.subarray(0, n));
  const model = run.model;
  model.eval();
  const faith = new FaithfulnessRun({ ...o, metrics }, H);
  const { explainers } = createExplainers(run, methods, () => tensorBatches(run, ds, n, batchSize), { target, layer: o.layer, gradMapFilters: 1, attribution: o.attribution });
  const saved = new Map<LocalizeMethod, Float32Array>();
  if (o.saveMaps) for (const m of methods) saved.set(m, new Float32Array(n * hw));
  let done = 0;
  for (const b of tensorBatches(run, ds, n, batchSize)) {
    for (const [m, ex] of explainers) {
      const e = ex.explain(b.x, b.labels);
      try {
        faith.add(m, model, b.x, e.maps, e.targets);
        saved.get(m)?.set(e.maps.contiguous().data() as Float32Array, b.start * hw);
      } finally {
        e.maps.dispose(); e.targets.dispose(); e.filters?.dispose();
      }
    }
    done += b.count;
    o.progress?.(done, n);
  }
  const report: FaithfulnessReport = {
    run: o.run, checkpoint: run.checkpoint, checkpointKey: analysisKey(o.run, { checkpoint: o.checkpoint ?? 'last' }).checkpoint, epoch: run.epoch,
    strategy: run.config.strategy,
    settings: { split, images: n, target, methods, layer: o.layer ?? null, height: H, width: W, faithfulness: faith.settings },
    classes: ds.classNames,
    methods: Object.fromEntries(methods.map((m) => [m, faith.summarize(m, labels, C)])),
  };
  const files = await writingOutput('--out', outDir, () => stagedWrite(outDir, (dir) => {
    const written = [join(dir, FAITHFULNESS_FILE)];
    writeFileAtomic(written[0]!, JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
    if (o.saveMaps) {
      mkdirSync(join(dir, 'maps'));
      for (const [m, maps] of saved) {
        const f = join(dir, 'maps', `${m}.npy`);
        writeNpy(f, maps, [n, H, W]);
        written.push(f);
      }
      writeNpy(join(dir, 'labels.npy'), BigInt64Array.from(labels, (v) => BigInt(v)), [n]);
      written.push(join(dir, 'labels.npy'));
    }
    return written;
  }));
  o.log?.(`explained ${n} images with ${methods.join(', ')}; ${metrics.join(', ')}`);
  return { report, files };
}
