// Side-by-side comparison of runs: accuracy, density, MIS, mean specificity, gate/MI agreement.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnalysisResult } from './run_analysis.js';
import { analysisKey, keyDifference, type AnalysisKey, type AnalyzeOptions } from './analysis_key.js';
import { RunDir, readRunInfo } from '../csg/run_dir.js';
import { table, fmt } from '../report/table.js';
import { writeFileAtomic } from '../util/atomic.js';
import { gateAurocOnPgd } from './adversarial_summary.js';

export interface ComparisonRow {
  run: string; model: string; strategy: string; accuracy: number; density: number | null; mis: number;
  mean_specificity: number; agreement: number | null; class_filter_accuracy: number;
  /** From RUN/adversarial/adversarial.json (csgnet adversarial), else null. */
  gate_auroc_pgd: number | null;
}

/** RUN_DIR/analysis/analysis.json when its key equals `want`; otherwise null and the reason. */
function cachedAnalysis(file: string, want: AnalysisKey): { a: AnalysisResult | null; why: string } {
  if (!existsSync(file)) return { a: null, why: '' };
  let c: AnalysisResult;
  try {
    c = JSON.parse(readFileSync(file, 'utf8')) as AnalysisResult;
  } catch (e) {
    return { a: null, why: `${file} is not valid JSON (${(e as Error).message})` };
  }
  const diff = keyDifference(c?.key, want);
  return diff ? { a: null, why: `${file} was made with ${diff}` } : { a: c, why: '' };
}

/**
 * Analyses each run's last checkpoint over all images of `split` with the default MI options, and
 * tabulates. RUN_DIR/analysis/analysis.json is reused only when it was made by exactly that (same
 * checkpoint bytes, split, limit and MI options: its key); otherwise the analysis is recomputed and
 * written there, and `log` says why.
 */
export async function compareRuns(dirs: string[], o: { log?: (s: string) => void; split?: 'test' | 'train' | 'val' } = {}): Promise<ComparisonRow[]> {
  const out: ComparisonRow[] = [];
  for (const dir of dirs) {
    const info = readRunInfo(dir);
    const opts: AnalyzeOptions = { split: o.split ?? 'test', checkpoint: 'last', limit: 0 };
    const analysisDir = new RunDir(dir, '--run').analysisDir;
    const cached = join(analysisDir, 'analysis.json');
    let { a, why } = cachedAnalysis(cached, analysisKey(dir, opts));
    if (!a) {
      o.log?.(`analyzing ${dir} (features, MI matrix, figures)${why ? `: ${why}` : ''} ...`);
      const { analyzeRun, writeAnalysis } = await import('./run_analysis.js'); // libtorch only when a run needs it
      const full = await analyzeRun(dir, opts);
      await writeAnalysis(full, analysisDir);
      a = full.result;
    }
    out.push({ run: dir, model: info.config.model, strategy: info.config.strategy, accuracy: a.accuracy, density: a.density, mis: a.mis,
      mean_specificity: a.mean_specificity, agreement: a.agreement, class_filter_accuracy: a.class_filter_accuracy.mean_balanced,
      gate_auroc_pgd: gateAurocOnPgd(dir)?.auroc ?? null });
  }
  return out;
}

const HEADER = ['run', 'model', 'strategy', 'accuracy', 'density', 'MIS', 'mean specificity', 'gate/MI agreement', 'class-filter bal. acc', 'gate AUROC (PGD)'];
const cells = (r: ComparisonRow) => [r.run, r.model, r.strategy, fmt(r.accuracy), fmt(r.density), fmt(r.mis), fmt(r.mean_specificity), fmt(r.agreement), fmt(r.class_filter_accuracy), fmt(r.gate_auroc_pgd)];

export function formatComparison(rows: ComparisonRow[]): string {
  return table(HEADER, rows.map(cells));
}

export function comparisonMarkdown(rows: ComparisonRow[]): string {
  const line = (c: string[]) => `| ${c.join(' | ')} |`;
  return [line(HEADER), line(HEADER.map(() => '---')), ...rows.map((r) => line(cells(r)))].join('\n') + '\n';
}

export function writeComparison(rows: ComparisonRow[], outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const md = join(outDir, 'comparison.md'), js = join(outDir, 'comparison.json');
  writeFileAtomic(md, comparisonMarkdown(rows));
  writeFileAtomic(js, JSON.stringify(rows, null, 2) + '\n');
  return [md, js];
}
