// What `csgnet compare` shows of `csgnet adversarial`: the gate detector's AUROC on PGD, read from
// RUN/adversarial/adversarial.json (JSON only: compare stays free of libtorch).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The gate detector's AUROC on plain PGD at the middle of the run's PGD radii (the lower middle for an
 * even count: 0.1 of 0.05,0.1,0.2), or null when the run has no such result.
 */
export function gateAurocOnPgd(runDir: string): { auroc: number; eps: number } | null {
  const file = join(runDir, 'adversarial', 'adversarial.json');
  if (!existsSync(file)) return null;
  let report: any;
  try { report = JSON.parse(readFileSync(file, 'utf8')); } catch { return null; }
  const rows = (Array.isArray(report?.attacks) ? report.attacks : [])
    .filter((a: any) => a?.attack === 'pgd' && typeof a.eps === 'number' && typeof a.detectors?.gate?.auroc === 'number')
    .sort((a: any, b: any) => a.eps - b.eps);
  if (!rows.length) return null;
  const mid = rows[Math.floor((rows.length - 1) / 2)];
  return { auroc: mid.detectors.gate.auroc, eps: mid.eps };
}
