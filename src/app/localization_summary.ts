// Where `csgnet localize` keeps a run's localization (RUN_DIR/localization/localization.json by default)
// and the figures `compare` shows of it. Torch-free (JSON reading only), so that compare on analysed
// runs opens no libtorch.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultStaleness, type CheckpointKey } from './analysis_key.js';
import type { LocalizationReport } from './localize.js';

export const LOCALIZATION_DIR = 'localization';
export const LOCALIZATION_FILE = 'localization.json';

/** RUN_DIR/localization: localize's default output folder, where compare looks. */
export function localizationDir(runDir: string): string {
  return join(runDir, LOCALIZATION_DIR);
}

/** The class-map methods compare shows, in column order (the paper's CSG-CAM first, then its baseline). */
export const COMPARED_METHODS = ['csgcam', 'cam'] as const;
export type ComparedMethod = typeof COMPARED_METHODS[number];
export const METHOD_LABELS: Record<ComparedMethod, string> = { csgcam: 'CSG-CAM', cam: 'CAM' };

/** Overall figures of one class-map method (null where localization.json has none, e.g. NaN). */
export interface MethodSummary {
  /** Top-30 % IoU: mean over images, and the share above 0.3. */
  mean_iou: number | null;
  hit_rate: number | null;
  max_box_acc_v2: number | null;
  pxap: number | null;
}

export interface LocalizationSummary {
  file: string;
  split: string;
  images: number;
  epoch: number;
  methods: Partial<Record<ComparedMethod, MethodSummary>>;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * The run's localization summary when RUN_DIR/localization/localization.json exists and was made on the
 * run's own dataset and `split` from the checkpoint `checkpoint` (its key: path, size, SHA-256);
 * otherwise null and why ('' when there is none).
 */
export function readLocalizationSummary(runDir: string, checkpoint: CheckpointKey, split: string): { summary: LocalizationSummary | null; why: string } {
  const file = join(localizationDir(runDir), LOCALIZATION_FILE);
  if (!existsSync(file)) return { summary: null, why: '' };
  let r: Partial<LocalizationReport>;
  try {
    r = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return { summary: null, why: `${file} is not valid JSON (${(e as Error).message})` };
  }
  const rerun = `; rerun csgnet localize --run ${runDir}`;
  const key = r?.checkpoint_key, ds = r?.settings?.dataset;
  if (!key || !ds || typeof r.methods !== 'object' || r.methods === null) return { summary: null, why: `${file} was made by an older csgnet (no checkpoint key or dataset)${rerun}` };
  const stale = resultStaleness(file, key, checkpoint);
  if (stale) return { summary: null, why: `${stale}${rerun}` };
  if (!ds.own) return { summary: null, why: `${file} scores another dataset (${ds.name}), not the run's own` };
  if (r.settings!.split !== split) return { summary: null, why: `${file} scores the ${r.settings!.split} split, compare uses ${split}` };
  const methods: LocalizationSummary['methods'] = {};
  for (const m of COMPARED_METHODS) {
    const v = (r.methods as Record<string, any>)[m];
    if (!v) continue;
    methods[m] = {
      mean_iou: num(v.top30_iou?.overall?.meanIoU), hit_rate: num(v.top30_iou?.overall?.hitRate),
      max_box_acc_v2: num(v.max_box_acc_v2?.overall?.maxBoxAccV2), pxap: num(v.pxap?.overall?.pxap),
    };
  }
  return { summary: { file, split: r.settings!.split, images: r.settings!.images, epoch: r.epoch ?? NaN, methods }, why: '' };
}
