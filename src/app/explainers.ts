// The explainers of a run's model by CLI id, for localize and explain: one place that turns `--methods`
// into Explainer objects, with the set-level passes some need (per-class mean activations for CSG-CAM of an
// STD model and GradMap's top filters; ActivMap's per-filter thresholds) run only when asked for.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { BatchLoader, type ImageDataset } from '../data/index.js';
import type { OpenRun } from '../csg/run.js';
import {
  ActivMap, Cam, CsgCam, FilterClassStats, GradCam, GradCamPlusPlus, GradMap, activationThresholds, type Explainer, type ExplainerOptions, type Target,
} from '../explain/index.js';
import type { LocalizeMethod } from '../csg/results.js';

export { CLASS_MAP_METHODS } from '../csg/results.js';

/** Every batch as tensors (x in the run's memory format, labels int64) with its first index. */
export function* tensorBatches(run: OpenRun, ds: ImageDataset, n: number, batchSize: number): Generator<{ x: Tensor; labels: Tensor; start: number; count: number }> {
  const loader = new BatchLoader(ds, { batchSize, shuffle: false, limit: n });
  let start = 0;
  for (const b of loader.epoch(0)) {
    const x = torch.keep(torch.fromTypedArray(b.x, b.shape).contiguous(run.config.memoryFormat));
    const labels = torch.keep(torch.fromTypedArray(b.y, [b.y.length], { dtype: 'int64' }));
    try {
      yield { x, labels, start, count: b.y.length };
    } finally {
      x.dispose(); labels.dispose();
    }
    start += b.y.length;
  }
}

export interface ExplainerSetOptions {
  target: Target;
  /** The target layer (explainers that take one); rejected by those that don't. */
  layer?: string;
  /** GradMap's filters per class. */
  gradMapFilters: number;
}

/** Explainers for `methods`; `batches()` walks the images again for the passes some need. */
export function createExplainers(run: OpenRun, methods: readonly LocalizeMethod[], batches: () => Iterable<{ x: Tensor; labels: Tensor }>,
  o: ExplainerSetOptions): { explainers: Map<LocalizeMethod, Explainer>; thresholds: Tensor | null } {
  const model = run.model;
  const needStats = methods.includes('gradmap') || (methods.includes('csgcam') && !run.gate);
  const stats = needStats ? FilterClassStats.of(model, batches()) : null;
  const thresholds = methods.includes('activmap') ? activationThresholds(model, batches()) : null;
  // `layer` only when given, so explainers whose options gain one get it and the others are unchanged.
  const opts: ExplainerOptions & { layer?: string } = { target: o.target, ...(o.layer !== undefined ? { layer: o.layer } : {}) };
  const explainers = new Map<LocalizeMethod, Explainer>();
  for (const m of methods) {
    if (m === 'cam') explainers.set(m, new Cam(model, opts));
    if (m === 'gradcam') explainers.set(m, new GradCam(model, opts));
    if (m === 'gradcampp') explainers.set(m, new GradCamPlusPlus(model, opts));
    if (m === 'csgcam') explainers.set(m, new CsgCam(model, run.gate ?? stats!.assignmentGate(), opts));
    if (m === 'activmap') explainers.set(m, new ActivMap(model, opts));
    if (m === 'gradmap') explainers.set(m, new GradMap(model, stats!.topFilters(Math.min(o.gradMapFilters, model.numFilters)), opts));
  }
  if (o.layer !== undefined) {
    for (const [m, e] of explainers) {
      if ((e as { layer?: unknown }).layer === undefined) throw new Error(`--layer ${o.layer}: method '${m}' does not take a target layer (it explains the last feature map)`);
    }
  }
  return { explainers, thresholds };
}
