// Side-by-side comparison of runs: accuracy, density, MIS, mean specificity, gate/MI agreement, and
// localization (CSG-CAM and CAM figures) for runs localized with `csgnet localize --run R` (its default
// output RUN/localization). Columns are a list (COMPARISON_COLUMNS): a new figure is one more entry.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { analysisKey, readCurrentResult, type AnalyzeOptions } from './analysis_key.js';
import { COMPARED_METHODS, METHOD_LABELS, readLocalizationSummary, type MethodSummary } from './localization_summary.js';
import { COMPARISON_FILE, COMPARISON_MARKDOWN, RunDir, readRunInfo } from '../csg/run_dir.js';
import type { AnalysisResult, ComparisonRow } from '../csg/results.js';
import { fmt, markdownTable, table } from '../report/table.js';
import { writeFileAtomic } from '../util/atomic.js';
import { readAdversarialSummary } from './adversarial_summary.js';
import { readFaithfulnessSummary } from './faithfulness_summary.js';
import type { FaithfulnessFigure } from '../metrics/faithfulness/names.js';
import { readSweep, runState, sweepRunDirs } from './sweep.js';

export type { ComparisonRow } from '../csg/results.js';

/** Run folders to compare: a sweep folder (DIR/sweep.json) stands for its finished runs, in sweep order. */
export function expandRunDirs(dirs: readonly string[], log?: (s: string) => void): string[] {
  return dirs.flatMap((dir) => {
    if (!readSweep(dir)) return [dir];
    const started = sweepRunDirs(dir);
    const done = started.filter((d) => runState(d) === 'done');
    const spec = readSweep(dir)!;
    if (done.length < spec.runs.length) log?.(`${dir}: ${done.length} of ${spec.runs.length} sweep runs are finished; comparing those (resume the sweep for the rest)`);
    return done;
  });
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
    const rd = new RunDir(dir, '--run');
    const key = analysisKey(dir, opts);
    let { result: a, why } = readCurrentResult<AnalysisResult>(rd.analysisFile, key);
    if (!a) {
      o.log?.(`analyzing ${dir} (features, MI matrix, figures)${why ? `: ${why}` : ''} ...`);
      const { analyzeRun, writeAnalysis } = await import('./run_analysis.js'); // libtorch only when a run needs it
      const full = await analyzeRun(dir, opts);
      await writeAnalysis(full, rd.analysisDir);
      a = full.result;
    }
    const loc = readLocalizationSummary(dir, key.checkpoint, opts.split!);
    if (loc.why) o.log?.(`${dir}: no localization figures: ${loc.why}`);
    const faith = readFaithfulnessSummary(dir, key.checkpoint, opts.split!);
    if (faith.why) o.log?.(`${dir}: no faithfulness figures: ${faith.why}`);
    const adv = readAdversarialSummary(dir, key.checkpoint);
    if (adv.why) o.log?.(`${dir}: no adversarial figures: ${adv.why}`);
    out.push({ run: dir, model: info.config.model, strategy: info.config.strategy, accuracy: a.accuracy, density: a.density, mis: a.mis,
      mean_specificity: a.mean_specificity, agreement: a.agreement, class_filter_accuracy: a.class_filter_accuracy.mean_balanced,
      localization: loc.summary, gate_auroc_pgd: adv.summary?.auroc ?? null, faithfulness: faith.summary });
  }
  return out;
}

/** A column of the comparison table; `shown` (default: always) decides from all rows whether it appears. */
export interface ComparisonColumn {
  header: string;
  cell: (r: ComparisonRow) => string;
  shown?: (rows: readonly ComparisonRow[]) => boolean;
}

/** Localization columns of one method: shown when some run has that method's figures ('-' for the others). */
function localizationColumns(m: typeof COMPARED_METHODS[number]): ComparisonColumn[] {
  const figure = (header: string, k: keyof MethodSummary): ComparisonColumn => ({
    header: `${METHOD_LABELS[m]} ${header}`,
    cell: (r) => fmt(r.localization?.methods[m]?.[k]),
    shown: (rows) => rows.some((r) => r.localization?.methods[m] !== undefined),
  });
  return [figure('IoU', 'mean_iou'), figure('hit rate', 'hit_rate'), figure('MaxBoxAccV2', 'max_box_acc_v2'), figure('PxAP', 'pxap')];
}

/** Faithfulness columns of one method (csgnet explain, or localize --metrics): shown when some run has the figure. */
function faithfulnessColumns(m: typeof COMPARED_METHODS[number]): ComparisonColumn[] {
  const figure = (header: string, k: FaithfulnessFigure): ComparisonColumn => ({
    header: `${METHOD_LABELS[m]} ${header}`,
    cell: (r) => fmt(r.faithfulness?.methods[m]?.[k]),
    shown: (rows) => rows.some((r) => r.faithfulness?.methods[m]?.[k] !== undefined),
  });
  return [figure('deletion AUC', 'deletionAuc'), figure('insertion AUC', 'insertionAuc'), figure('ROAD', 'roadCombined'),
    figure('avg drop', 'averageDrop'), figure('increase', 'increaseInConfidence')];
}

export const COMPARISON_COLUMNS: ComparisonColumn[] = [
  { header: 'run', cell: (r) => r.run },
  { header: 'model', cell: (r) => r.model },
  { header: 'strategy', cell: (r) => r.strategy },
  { header: 'accuracy', cell: (r) => fmt(r.accuracy) },
  { header: 'density', cell: (r) => fmt(r.density) },
  { header: 'MIS', cell: (r) => fmt(r.mis) },
  { header: 'mean specificity', cell: (r) => fmt(r.mean_specificity) },
  { header: 'gate/MI agreement', cell: (r) => fmt(r.agreement) },
  { header: 'class-filter bal. acc', cell: (r) => fmt(r.class_filter_accuracy) },
  ...COMPARED_METHODS.flatMap(localizationColumns),
  ...COMPARED_METHODS.flatMap(faithfulnessColumns),
  { header: 'gate AUROC (PGD)', cell: (r) => fmt(r.gate_auroc_pgd), shown: (rows) => rows.some((r) => r.gate_auroc_pgd !== null) },
];

/** The header and the cells of the columns shown for these rows. */
export function comparisonTable(rows: readonly ComparisonRow[]): { header: string[]; cells: string[][] } {
  const cols = COMPARISON_COLUMNS.filter((c) => c.shown?.(rows) ?? true);
  return { header: cols.map((c) => c.header), cells: rows.map((r) => cols.map((c) => c.cell(r))) };
}

export function formatComparison(rows: ComparisonRow[]): string {
  const { header, cells } = comparisonTable(rows);
  return table(header, cells);
}

export function comparisonMarkdown(rows: ComparisonRow[]): string {
  const { header, cells } = comparisonTable(rows);
  return markdownTable(header, cells) + '\n';
}

export function writeComparison(rows: ComparisonRow[], outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const md = join(outDir, COMPARISON_MARKDOWN), js = join(outDir, COMPARISON_FILE);
  writeFileAtomic(md, comparisonMarkdown(rows));
  writeFileAtomic(js, JSON.stringify(rows, null, 2) + '\n');
  return [md, js];
}
