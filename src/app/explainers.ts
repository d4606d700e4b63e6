// The explainers of a run's model by CLI id, for localize and explain: one place that turns `--methods`
// into Explainer objects, with the set-level passes some need (per-class mean activations for CSG-CAM of an
// STD model and GradMap's top filters; ActivMap's per-filter thresholds) run only when asked for.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { BatchLoader, type ImageDataset } from '../data/index.js';
import type { OpenRun } from '../csg/run.js';
import {
  AblationCam, ActivMap, Cam, CsgCam, EigenCam, FilterClassStats, GradCam, GradCamPlusPlus, GradMap, HiResCam, LayerCam, ScoreCam, XGradCam,
  activationThresholds, createAttribution, isAttributionMethod, type AttributionSettings, type Explainer, type ExplainerOptions, type Target,
} from '../explain/index.js';
import { isLastFeatureMap, splitAt } from '../models/split.js';
import type { CAM_FAMILY_METHODS, LocalizeMethod } from '../csg/results.js';

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
  /** The input attributions' settings (IG steps and baseline, SmoothGrad noise, occlusion window, ...). */
  attribution?: AttributionSettings;
}

/** The methods that weigh the last layer's filters (the fc's or the gate's): no other --layer for them. */
const LAST_LAYER_METHODS: readonly LocalizeMethod[] = ['cam', 'csgcam', 'activmap', 'gradmap'];
const CAM_FAMILY: Record<typeof CAM_FAMILY_METHODS[number], new (m: OpenRun['model'], o: ExplainerOptions) => Explainer> = {
  scorecam: ScoreCam, xgradcam: XGradCam, layercam: LayerCam, eigencam: EigenCam, hirescam: HiResCam, ablationcam: AblationCam,
};

/** Refuses --layer for the methods it cannot apply to, before any work. */
function checkLayer(run: OpenRun, methods: readonly LocalizeMethod[], layer: string): void {
  let last: boolean;
  try { last = isLastFeatureMap(run.model, splitAt(run.model, layer)); } catch (e) { throw new Error(`--layer: ${(e as Error).message}`); }
  const bad = methods.filter((m) => LAST_LAYER_METHODS.includes(m));
  if (!last && bad.length) throw new Error(`--layer ${layer}: ${bad.join(', ')} explain the last feature map only; leave them out of --methods or drop --layer`);
  const input = methods.filter((m) => isAttributionMethod(m));
  if (input.length) throw new Error(`--layer ${layer}: ${input.join(', ')} attribute to the input pixels, not a layer; run them without --layer`);
}

/** Explainers for `methods`; `batches()` walks the images again for the passes some need. */
export function createExplainers(run: OpenRun, methods: readonly LocalizeMethod[], batches: () => Iterable<{ x: Tensor; labels: Tensor }>,
  o: ExplainerSetOptions): { explainers: Map<LocalizeMethod, Explainer>; thresholds: Tensor | null } {
  const model = run.model;
  if (o.layer !== undefined) checkLayer(run, methods, o.layer);
  const needStats = methods.includes('gradmap') || (methods.includes('csgcam') && !run.gate);
  const stats = needStats ? FilterClassStats.of(model, batches()) : null;
  const thresholds = methods.includes('activmap') ? activationThresholds(model, batches()) : null;
  const opts: ExplainerOptions = { target: o.target, layer: o.layer };
  const explainers = new Map<LocalizeMethod, Explainer>();
  for (const m of methods) {
    if (m in CAM_FAMILY) explainers.set(m, new CAM_FAMILY[m as keyof typeof CAM_FAMILY](model, opts));
    if (m === 'cam') explainers.set(m, new Cam(model, opts));
    if (m === 'gradcam') explainers.set(m, new GradCam(model, opts));
    if (m === 'gradcampp') explainers.set(m, new GradCamPlusPlus(model, opts));
    if (m === 'csgcam') explainers.set(m, new CsgCam(model, run.gate ?? stats!.assignmentGate(), opts));
    if (m === 'activmap') explainers.set(m, new ActivMap(model, opts));
    if (m === 'gradmap') explainers.set(m, new GradMap(model, stats!.topFilters(Math.min(o.gradMapFilters, model.numFilters)), opts));
    if (isAttributionMethod(m)) explainers.set(m, createAttribution(m, model, { ...o.attribution, target: o.target }));
  }
  return { explainers, thresholds };
}
