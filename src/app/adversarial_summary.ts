// What `csgnet compare` shows of `csgnet adversarial`: the gate detector's AUROC on PGD, read from the run's
// adversarial.json (RunDir.adversarialFile; JSON only: compare stays free of libtorch).
import { RunDir } from '../csg/run_dir.js';
import type { AdversarialReport, SettingResult } from '../csg/results.js';
import { readCurrentResult, type CheckpointKey } from './analysis_key.js';

/**
 * The gate detector's AUROC on plain PGD at the middle of the run's PGD radii (the lower middle for an
 * even count: 0.1 of 0.05,0.1,0.2), or null when the run has no such result; with `checkpoint`, only a
 * result of that checkpoint of this run (`why` says otherwise; '' when there is no result).
 */
export function readAdversarialSummary(runDir: string, checkpoint?: CheckpointKey): { summary: { auroc: number; eps: number } | null; why: string } {
  const file = new RunDir(runDir, '--run').adversarialFile;
  const { result: report, why, stale } = readCurrentResult<Partial<AdversarialReport>>(file, checkpoint ?? null);
  if (!report) return { summary: null, why: stale ? `${why}; rerun csgnet adversarial --run ${runDir}` : why };
  const gate = (a: SettingResult) => a.detectors?.gate as { auroc?: unknown } | undefined;
  const rows = (Array.isArray(report.attacks) ? report.attacks : [])
    .filter((a) => a?.attack === 'pgd' && typeof a.eps === 'number' && typeof gate(a)?.auroc === 'number')
    .sort((a, b) => a.eps! - b.eps!);
  if (!rows.length) return { summary: null, why: '' };
  const mid = rows[Math.floor((rows.length - 1) / 2)]!;
  return { summary: { auroc: gate(mid)!.auroc as number, eps: mid.eps! }, why: '' };
}

export function gateAurocOnPgd(runDir: string, checkpoint?: CheckpointKey): { auroc: number; eps: number } | null {
  return readAdversarialSummary(runDir, checkpoint).summary;
}
