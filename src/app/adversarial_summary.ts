// What `csgnet compare` shows of `csgnet adversarial`: the gate detector's AUROC on PGD, read from
// RUN/adversarial/adversarial.json (JSON only: compare stays free of libtorch).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultStaleness, type CheckpointKey } from './analysis_key.js';

/**
 * The gate detector's AUROC on plain PGD at the middle of the run's PGD radii (the lower middle for an
 * even count: 0.1 of 0.05,0.1,0.2), or null when the run has no such result; with `checkpoint`, only a
 * result of that checkpoint of this run (`why` says otherwise; '' when there is no result).
 */
export function readAdversarialSummary(runDir: string, checkpoint?: CheckpointKey): { summary: { auroc: number; eps: number } | null; why: string } {
  const file = join(runDir, 'adversarial', 'adversarial.json');
  if (!existsSync(file)) return { summary: null, why: '' };
  let report: any;
  try { report = JSON.parse(readFileSync(file, 'utf8')); } catch (e) { return { summary: null, why: `${file} is not valid JSON (${(e as Error).message})` }; }
  const stale = checkpoint ? resultStaleness(file, report?.checkpoint_key, checkpoint) : '';
  if (stale) return { summary: null, why: `${stale}; rerun csgnet adversarial --run ${runDir}` };
  const rows = (Array.isArray(report?.attacks) ? report.attacks : [])
    .filter((a: any) => a?.attack === 'pgd' && typeof a.eps === 'number' && typeof a.detectors?.gate?.auroc === 'number')
    .sort((a: any, b: any) => a.eps - b.eps);
  if (!rows.length) return { summary: null, why: '' };
  const mid = rows[Math.floor((rows.length - 1) / 2)];
  return { summary: { auroc: mid.detectors.gate.auroc, eps: mid.eps }, why: '' };
}

export function gateAurocOnPgd(runDir: string, checkpoint?: CheckpointKey): { auroc: number; eps: number } | null {
  return readAdversarialSummary(runDir, checkpoint).summary;
}
