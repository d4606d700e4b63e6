// The figures `compare` shows of a run's localization (localize's default output, RunDir.localizationFile).
// Torch-free (JSON reading only), so that compare on analysed runs opens no libtorch.
import { RunDir } from '../csg/run_dir.js';
import { COMPARED_METHODS, type ComparedMethod, type LocalizationReport, type LocalizationSummary } from '../csg/results.js';
import { readCurrentResult, type CheckpointKey } from './analysis_key.js';

export { COMPARED_METHODS, type ComparedMethod, type LocalizationSummary, type MethodSummary } from '../csg/results.js';

export const METHOD_LABELS: Record<ComparedMethod, string> = { csgcam: 'CSG-CAM', cam: 'CAM' };

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * The run's localization summary when its localization.json exists and was made on the run's own dataset
 * and `split` from the checkpoint `checkpoint` (its key: path, size, SHA-256); otherwise null and why ('' when
 * there is none).
 */
export function readLocalizationSummary(runDir: string, checkpoint: CheckpointKey, split: string): { summary: LocalizationSummary | null; why: string } {
  const file = new RunDir(runDir, '--run').localizationFile;
  const { result: r, why, stale } = readCurrentResult<Partial<LocalizationReport>>(file, checkpoint);
  const rerun = `; rerun csgnet localize --run ${runDir}`;
  if (!r) return { summary: null, why: stale ? `${why}${rerun}` : why };
  const ds = r.settings?.dataset;
  if (!ds || typeof r.methods !== 'object' || r.methods === null) return { summary: null, why: `${file} was made by an older csgnet (no checkpoint key or dataset)${rerun}` };
  if (!ds.own) return { summary: null, why: `${file} scores another dataset (${ds.name}), not the run's own` };
  if (r.settings!.split !== split) return { summary: null, why: `${file} scores the ${r.settings!.split} split, compare uses ${split}` };
  const methods: LocalizationSummary['methods'] = {};
  for (const m of COMPARED_METHODS) {
    const v = (r.methods as Record<string, any>)[m];
    if (!v) continue;
    methods[m] = {
      mean_iou: num(v.top30Iou?.overall?.meanIoU), hit_rate: num(v.top30Iou?.overall?.hitRate),
      max_box_acc_v2: num(v.maxBoxAccV2?.overall?.maxBoxAccV2), pxap: num(v.pxap?.overall?.pxap),
    };
  }
  return { summary: { file, split: r.settings!.split, images: r.settings!.images, epoch: r.epoch ?? NaN, methods }, why: '' };
}
