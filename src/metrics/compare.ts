// Side-by-side comparison of runs: accuracy, density, MIS, mean specificity, gate/MI agreement.
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnalysisResult } from './run_analysis.js';
import { checkpointPath, readRunInfo } from '../csg/run_info.js';
import { table, fmt } from '../cli/format.js';

export interface ComparisonRow {
  run: string; model: string; strategy: string; accuracy: number; density: number | null; mis: number;
  mean_specificity: number; agreement: number | null; class_filter_accuracy: number;
}

/** Analyses each run (reusing RUN_DIR/analysis/analysis.json when it matches the checkpoint) and tabulates. */
export async function compareRuns(dirs: string[], o: { log?: (s: string) => void; split?: 'test' | 'train' | 'val' } = {}): Promise<ComparisonRow[]> {
  const out: ComparisonRow[] = [];
  for (const dir of dirs) {
    const info = readRunInfo(dir);
    const cached = join(dir, 'analysis', 'analysis.json');
    let a: AnalysisResult | null = null;
    const ckpt = checkpointPath(dir, 'last');
    if (existsSync(cached) && existsSync(ckpt) && statSync(cached).mtimeMs >= statSync(ckpt).mtimeMs) {
      const c = JSON.parse(readFileSync(cached, 'utf8')) as AnalysisResult;
      if (c.split === (o.split ?? 'test')) a = c;
    }
    if (!a) {
      o.log?.(`analyzing ${dir} (features, MI matrix, figures) ...`);
      const { analyzeRun, writeAnalysis } = await import('./run_analysis.js'); // libtorch only when a run needs it
      const full = await analyzeRun(dir, { split: o.split });
      await writeAnalysis(full, join(dir, 'analysis'));
      a = full.result;
    }
    out.push({ run: dir, model: info.config.model, strategy: info.config.strategy, accuracy: a.accuracy, density: a.density, mis: a.mis,
      mean_specificity: a.mean_specificity, agreement: a.agreement, class_filter_accuracy: a.class_filter_accuracy.mean_balanced });
  }
  return out;
}

const HEADER = ['run', 'model', 'strategy', 'accuracy', 'density', 'MIS', 'mean specificity', 'gate/MI agreement', 'class-filter bal. acc'];
const cells = (r: ComparisonRow) => [r.run, r.model, r.strategy, fmt(r.accuracy), fmt(r.density), fmt(r.mis), fmt(r.mean_specificity), fmt(r.agreement), fmt(r.class_filter_accuracy)];

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
  writeFileSync(md + '.tmp', comparisonMarkdown(rows)); renameSync(md + '.tmp', md);
  writeFileSync(js + '.tmp', JSON.stringify(rows, null, 2) + '\n'); renameSync(js + '.tmp', js);
  return [md, js];
}
