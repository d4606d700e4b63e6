// compare --group-by: the comparison rows grouped by train config keys (lambda, rho, strategy, ...), with
// mean, sample std and 95 % t interval over the seeds of each group; the paired CSG - STD difference
// (same seed, same other keys); grouped.md / grouped.json and the accuracy-vs-MIS Pareto figure.
// Torch-free: it reads config.json and the rows compare already has.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainConfig } from '../csg/config.js';
import { readRunInfo } from '../csg/run_dir.js';
import { paretoFront, summarize, type Summary } from '../metrics/stats.js';
import { fmt, table } from '../report/table.js';
import { writeFileAtomic } from '../util/atomic.js';
import { configValue, sweepKey, type GridValue } from './sweep.js';
import { COMPARED_METHODS, METHOD_LABELS, type MethodSummary } from './localization_summary.js';
import type { ComparisonRow } from './compare.js';

/** A figure summarised over seeds: name (grouped.json key), header, and its value in a row (null: absent). */
export interface GroupedMetric { name: string; header: string; value: (r: ComparisonRow) => number | null }

const LOCALIZATION_FIGURES: [keyof MethodSummary, string][] = [['mean_iou', 'IoU'], ['hit_rate', 'hit rate'], ['max_box_acc_v2', 'MaxBoxAccV2'], ['pxap', 'PxAP']];

export const GROUPED_METRICS: GroupedMetric[] = [
  { name: 'accuracy', header: 'accuracy', value: (r) => r.accuracy },
  { name: 'mis', header: 'MIS', value: (r) => r.mis },
  { name: 'density', header: 'density', value: (r) => r.density },
  { name: 'mean_specificity', header: 'mean specificity', value: (r) => r.mean_specificity },
  ...COMPARED_METHODS.flatMap((m) => LOCALIZATION_FIGURES.map(([k, h]) => ({
    name: `${m}_${k}`, header: `${METHOD_LABELS[m]} ${h}`, value: (r: ComparisonRow) => r.localization?.methods[m]?.[k] ?? null }))),
  { name: 'gate_auroc_pgd', header: 'gate AUROC (PGD)', value: (r) => r.gate_auroc_pgd },
];

export interface RunGroup {
  /** The group's value of each --group-by key. */
  values: Record<string, GridValue | null>;
  runs: string[];
  seeds: number[];
  /** Per metric present in some run of the group (n counts the runs that have it). */
  metrics: Record<string, Summary>;
}

export interface PairedComparison {
  /** The other keys' values (strategy left out). */
  values: Record<string, GridValue | null>;
  seeds: number[];
  pairs: { csg: string; std: string; seed: number }[];
  /** CSG minus STD, summarised over the paired seeds. */
  difference: Record<string, Summary>;
}

export interface GroupedComparison { keys: string[]; groups: RunGroup[]; paired: PairedComparison[]; skipped: string[] }

function summarizeMetrics(rows: ComparisonRow[]): Record<string, Summary> {
  const out: Record<string, Summary> = {};
  for (const m of GROUPED_METRICS) {
    const v = rows.map(m.value).filter((x): x is number => x !== null && Number.isFinite(x));
    if (v.length) out[m.name] = summarize(v);
  }
  return out;
}

const keyOf = (values: Record<string, unknown>) => JSON.stringify(values);

/**
 * Groups rows by `keys` (train config keys, e.g. lambda, rho, strategy), and pairs CSG with STD runs of
 * the same seed and the same other keys. `configOf` reads a run's config.json (tests pass their own).
 */
export function groupComparison(rows: readonly ComparisonRow[], groupBy: readonly string[],
  configOf: (run: string) => TrainConfig = (run) => readRunInfo(run).config): GroupedComparison {
  const keys = groupBy.map((k) => sweepKey(k, '--group-by'));
  if (new Set(keys).size !== keys.length) throw new Error(`--group-by: a key appears twice in ${groupBy.join(',')}`);
  if (!keys.length) throw new Error('--group-by: no keys (expected e.g. lambda,rho,strategy)');
  const info = rows.map((r) => {
    const c = configOf(r.run);
    return { row: r, seed: c.seed, strategy: c.strategy, values: Object.fromEntries(keys.map((k) => [k, configValue(c, k) ?? null])) as Record<string, GridValue | null> };
  });
  const byGroup = new Map<string, typeof info>();
  for (const i of info) {
    const k = keyOf(i.values);
    byGroup.set(k, [...(byGroup.get(k) ?? []), i]);
  }
  const groups: RunGroup[] = [...byGroup.values()].map((members) => ({
    values: members[0]!.values, runs: members.map((m) => m.row.run), seeds: members.map((m) => m.seed), metrics: summarizeMetrics(members.map((m) => m.row)),
  }));
  // Pairs: same seed and same keys other than strategy; a seed with more than one run on a side is ambiguous and left out.
  const others = keys.filter((k) => k !== 'strategy');
  const bySetting = new Map<string, { values: Record<string, GridValue | null>; csg: Map<number, ComparisonRow[]>; std: Map<number, ComparisonRow[]> }>();
  for (const i of info) {
    const values = Object.fromEntries(others.map((k) => [k, i.values[k] ?? null]));
    const k = keyOf(values);
    const s = bySetting.get(k) ?? { values, csg: new Map(), std: new Map() };
    bySetting.set(k, s);
    const side = i.strategy === 'csg' ? s.csg : s.std;
    side.set(i.seed, [...(side.get(i.seed) ?? []), i.row]);
  }
  const paired: PairedComparison[] = [];
  const skipped: string[] = [];
  for (const s of bySetting.values()) {
    const pairs: PairedComparison['pairs'] = [];
    const diffs: Record<string, number[]> = {};
    for (const [seed, csg] of [...s.csg].sort((a, b) => a[0] - b[0])) {
      const std = s.std.get(seed);
      if (!std) continue;
      if (csg.length > 1 || std.length > 1) { skipped.push(`seed ${seed} of ${keyOf(s.values)}: ${csg.length} CSG and ${std.length} STD runs (group by the keys that tell them apart)`); continue; }
      pairs.push({ csg: csg[0]!.run, std: std[0]!.run, seed });
      for (const m of GROUPED_METRICS) {
        const a = m.value(csg[0]!), b = m.value(std[0]!);
        if (a !== null && b !== null && Number.isFinite(a) && Number.isFinite(b)) (diffs[m.name] ??= []).push(a - b);
      }
    }
    if (pairs.length) {
      paired.push({ values: s.values, seeds: pairs.map((p) => p.seed), pairs,
        difference: Object.fromEntries(Object.entries(diffs).map(([k, v]) => [k, summarize(v)])) });
    }
  }
  return { keys, groups, paired, skipped };
}

/** 'mean ± std [lo, hi]' (one run: the value). */
export function formatSummary(s: Summary | undefined, digits = 4): string {
  if (!s) return '-';
  if (s.std === null) return `${fmt(s.mean, digits)} (n=1)`;
  return `${fmt(s.mean, digits)} ± ${fmt(s.std, digits)} [${fmt(s.ci![0], digits)}, ${fmt(s.ci![1], digits)}]`;
}

function shownMetrics(records: Record<string, Summary>[]): GroupedMetric[] {
  return GROUPED_METRICS.filter((m) => records.some((r) => r[m.name]));
}

/** The two tables: groups (key columns, seeds, each metric) and paired differences. */
export function groupedTables(g: GroupedComparison): { groups: { header: string[]; cells: string[][] }; paired: { header: string[]; cells: string[][] } } {
  const gm = shownMetrics(g.groups.map((x) => x.metrics));
  const others = g.keys.filter((k) => k !== 'strategy');
  const pm = shownMetrics(g.paired.map((x) => x.difference));
  return {
    groups: { header: [...g.keys, 'seeds', ...gm.map((m) => m.header)],
      cells: g.groups.map((x) => [...g.keys.map((k) => String(x.values[k] ?? '-')), String(x.runs.length), ...gm.map((m) => formatSummary(x.metrics[m.name]))]) },
    paired: { header: [...others, 'pairs', ...pm.map((m) => `Δ ${m.header}`)],
      cells: g.paired.map((x) => [...others.map((k) => String(x.values[k] ?? '-')), String(x.pairs.length), ...pm.map((m) => formatSummary(x.difference[m.name]))]) },
  };
}

const LEGEND = 'mean ± sample std [95 % t confidence interval of the mean] over seeds';

export function formatGrouped(g: GroupedComparison): string {
  const t = groupedTables(g);
  const parts = [`Grouped by ${g.keys.join(', ')}: ${LEGEND}`, table(t.groups.header, t.groups.cells)];
  if (g.paired.length) parts.push(`\nCSG - STD, paired by seed (same ${g.keys.filter((k) => k !== 'strategy').join(', ') || 'settings'}):`, table(t.paired.header, t.paired.cells));
  for (const s of g.skipped) parts.push(`not paired: ${s}`);
  return parts.join('\n');
}

export function groupedMarkdown(g: GroupedComparison): string {
  const line = (c: string[]) => `| ${c.join(' | ')} |`;
  const md = (t: { header: string[]; cells: string[][] }) => [line(t.header), line(t.header.map(() => '---')), ...t.cells.map(line)].join('\n');
  const t = groupedTables(g);
  const out = [`Grouped by ${g.keys.join(', ')}: ${LEGEND}.`, '', md(t.groups)];
  if (g.paired.length) out.push('', 'CSG - STD, paired by seed:', '', md(t.paired));
  return out.join('\n') + '\n';
}

/** Points of the accuracy-vs-MIS figure: one per group that has both, with its Pareto membership. */
export function paretoPoints(g: GroupedComparison) {
  const withBoth = g.groups.filter((x) => x.metrics.mis && x.metrics.accuracy);
  const front = new Set(paretoFront(withBoth.map((x) => ({ x: x.metrics.mis!.mean, y: x.metrics.accuracy!.mean }))));
  return withBoth.map((x, i) => {
    const m = x.metrics.mis!, a = x.metrics.accuracy!;
    const others = g.keys.filter((k) => k !== 'strategy' || x.values.strategy == null);
    return { label: g.keys.map((k) => `${k}=${x.values[k] ?? '-'}`).join(', '), short: others.map((k) => `${k}=${x.values[k] ?? '-'}`).join(' '), group: x.values.strategy != null ? String(x.values.strategy) : undefined,
      mis: m.mean, misLo: m.ci?.[0] ?? m.mean, misHi: m.ci?.[1] ?? m.mean, accuracy: a.mean, accLo: a.ci?.[0] ?? a.mean, accHi: a.ci?.[1] ?? a.mean,
      n: Math.min(m.n, a.n), onFront: front.has(i) };
  });
}

/** Writes grouped.md, grouped.json and pareto.svg/png (the figure when some group has accuracy and MIS). */
export async function writeGrouped(g: GroupedComparison, outDir: string): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const md = join(outDir, 'grouped.md'), js = join(outDir, 'grouped.json');
  writeFileAtomic(md, groupedMarkdown(g));
  const points = paretoPoints(g);
  writeFileAtomic(js, JSON.stringify({ ...g, pareto: points }, null, 2) + '\n');
  const files = [md, js];
  if (points.length) {
    const { paretoSpec } = await import('../report/sweep_figures.js');
    const { writeFigure } = await import('../report/render.js');
    const f = await writeFigure(outDir, 'pareto', paretoSpec(points));
    files.push(f.svg, f.png);
  }
  return files;
}
