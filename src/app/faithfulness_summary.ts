// The faithfulness figures `compare` shows: RUN/faithfulness/faithfulness.json (csgnet explain), else the
// ones `localize --metrics` put in RUN/localization/localization.json. Torch-free (JSON reading only).
import { RunDir } from '../csg/run_dir.js';
import { COMPARED_METHODS, type FaithfulnessCompared, type FaithfulnessReport, type LocalizationReport } from '../csg/results.js';
import { readCurrentResult, type CheckpointKey } from './analysis_key.js';

/** The figures of the run's own checkpoint on `split`, or null and why ('' when there are none). */
export function readFaithfulnessSummary(runDir: string, checkpoint: CheckpointKey, split: string): { summary: FaithfulnessCompared | null; why: string } {
  const rd = new RunDir(runDir, '--run');
  const whys: string[] = [];
  for (const file of [rd.faithfulnessFile, rd.localizationFile]) {
    const { result: r, why } = readCurrentResult<Partial<FaithfulnessReport & LocalizationReport>>(file, checkpoint);
    if (!r) { if (why) whys.push(why); continue; }
    if (r.settings?.split !== split) { whys.push(`${file} scores the ${r.settings?.split} split, compare uses ${split}`); continue; }
    if (r.settings.dataset && !r.settings.dataset.own) continue;
    const methods: FaithfulnessCompared['methods'] = {};
    for (const m of COMPARED_METHODS) {
      const v = (r.methods as Record<string, any> | undefined)?.[m];
      const s = file === rd.faithfulnessFile ? v?.overall : v?.faithfulness?.overall;
      if (s && typeof s === 'object') methods[m] = s;
    }
    if (Object.keys(methods).length) return { summary: { file, split, images: r.settings.images ?? NaN, methods }, why: '' };
  }
  return { summary: null, why: whys.join('; ') };
}
