// compare --group-by: the comparison rows grouped by train config keys (lambda, rho, strategy, ...), with
// mean, sample std and 95 % t interval over the seeds of each group (an STD run shows '-' for the keys it
// ignores, lambda and rho among them); the paired CSG - STD difference (same seed, same other keys); grouped.md / grouped.json and the accuracy-vs-MIS Pareto figure.
// Torch-free: it reads config.json and the rows compare already has.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainConfig } from '../csg/config.js';
import { readRunInfo } from '../csg/run_dir.js';
import { paretoFront, summarize, type Summary } from '../metrics/stats.js';
import { markdownTable, table } from '../report/table.js';
import { writeFileAtomic } from '../util/atomic.js';
import { configValue, keyApplies, sweepKey, type GridValue } from './sweep.js';
import { COMPARED_METHODS, METHOD_LABELS, type MethodSummary } from './localization_summary.js';
import type { ComparisonRow } from './compare.js';
import type { IntervalPoint } from '../report/sweep_figures.js';

/** A figure summarized over seeds: name (grouped.json key), header, and its value in a row (null: absent). */
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
  /** CSG minus STD, summarized over the paired seeds. */
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
  // Pairs: same seed and same keys other than strategy, where an STD run matches every value of the keys it
  // ignores (one STD run per seed pairs with each lambda and rho); a seed with more than one run on a side is ambiguous.
  const others = keys.filter((k) => k !== 'strategy');
  const project = (values: Record<string, GridValue | null>, strategy: string) =>
    keyOf(Object.fromEntries(others.filter((k) => keyApplies(strategy, k)).map((k) => [k, values[k] ?? null])));
  const settings = new Map<string, { values: Record<string, GridValue | null>; csg: Map<number, ComparisonRow[]> }>();
  const std = new Map<string, Map<number, ComparisonRow[]>>();
  for (const i of info) {
    if (i.strategy === 'csg') {
      const values = Object.fromEntries(others.map((k) => [k, i.values[k] ?? null]));
      const s = settings.get(keyOf(values)) ?? { values, csg: new Map() };
      settings.set(keyOf(values), s);
      s.csg.set(i.seed, [...(s.csg.get(i.seed) ?? []), i.row]);
    } else {
      const k = project(i.values, 'std');
      const side = std.get(k) ?? new Map<number, ComparisonRow[]>();
      std.set(k, side);
      side.set(i.seed, [...(side.get(i.seed) ?? []), i.row]);
    }
  }
  const paired: PairedComparison[] = [];
  const skipped: string[] = [];
  for (const s of settings.values()) {
    const stdSide = std.get(project(s.values, 'std'));
    const pairs: PairedComparison['pairs'] = [];
    const diffs: Record<string, number[]> = {};
    for (const [seed, csg] of [...s.csg].sort((a, b) => a[0] - b[0])) {
      const stdRuns = stdSide?.get(seed);
      if (!stdRuns) continue;
      if (csg.length > 1 || stdRuns.length > 1) { skipped.push(`seed ${seed} of ${keyOf(s.values)}: ${csg.length} CSG and ${stdRuns.length} STD runs (group by the keys that tell them apart)`); continue; }
      pairs.push({ csg: csg[0]!.run, std: stdRuns[0]!.run, seed });
      for (const m of GROUPED_METRICS) {
        const a = m.value(csg[0]!), b = m.value(stdRuns[0]!);
        if (a !== null && b !== null && Number.isFinite(a) && Number.isFinite(b)) (diffs[m.name] ??= []).push(a - b);
      }
    }
    if (pairs.length) {
      paired.push({ values: s.values, seeds: pairs.map((p) => p.seed), pairs,
        difference: Object.fromEntries(Object.entries(diffs).map(([k, v]) => [k, summarize(v)])) });
    }
  }
  const order = orderBy(keys);
  groups.sort((a, b) => order(a.values, b.values));
  paired.sort((a, b) => order(a.values, b.values));
  return { keys, groups, paired, skipped };
}

/** Rows in key order: a key's missing value first, numbers ascending, STD before CSG, other strings alphabetically. */
function orderBy(keys: readonly string[]) {
  const rank = (k: string, v: GridValue | null | undefined) => (v == null ? -1 : k === 'strategy' ? (v === 'std' ? 0 : 1) : 0);
  return (a: Record<string, GridValue | null>, b: Record<string, GridValue | null>): number => {
    for (const k of keys) {
      const x = a[k], y = b[k];
      const d = rank(k, x) - rank(k, y);
      if (d) return d;
      if (x == null || y == null || x === y) continue;
      if (typeof x === 'number' && typeof y === 'number') return x - y;
      return String(x).localeCompare(String(y));
    }
    return 0;
  };
}

/** 'mean ± std [lo, hi]' (one run: the value). */
export function formatSummary(s: Summary | undefined, digits = 4): string {
  if (!s) return '-';
  const f = (v: number) => v.toFixed(digits); // not fmt: a std of exactly 0 reads 0.0000, like its neighbours
  if (s.std === null) return `${f(s.mean)} (n=1)`;
  return `${f(s.mean)} ± ${f(s.std)} [${f(s.ci![0])}, ${f(s.ci![1])}]`;
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
  const best = bestSetting(g);
  if (best) parts.push(best);
  return parts.join('\n');
}

export function groupedMarkdown(g: GroupedComparison): string {
  const md = (t: { header: string[]; cells: string[][] }) => markdownTable(t.header, t.cells);
  const t = groupedTables(g);
  const out = [`Grouped by ${g.keys.join(', ')}: ${LEGEND}.`, '', md(t.groups)];
  if (g.paired.length) out.push('', 'CSG - STD, paired by seed:', '', md(t.paired));
  const best = bestSetting(g);
  if (best) out.push('', best);
  return out.join('\n') + '\n';
}

/** Points of the accuracy-vs-MIS figure: one per group that has both, with its Pareto membership. */
export function paretoPoints(g: GroupedComparison) {
  const withBoth = g.groups.filter((x) => x.metrics.mis && x.metrics.accuracy);
  const front = new Set(paretoFront(withBoth.map((x) => ({ x: x.metrics.mis!.mean, y: x.metrics.accuracy!.mean }))));
  return withBoth.map((x, i) => {
    const m = x.metrics.mis!, a = x.metrics.accuracy!;
    const others = g.keys.filter((k) => k !== 'strategy' || x.values.strategy == null);
    return { label: g.keys.map((k) => `${k}=${x.values[k] ?? '-'}`).join(', '), short: others.filter((k) => x.values[k] != null).map((k) => `${k}=${x.values[k]}`).join(' ') || String(x.values.strategy ?? '-'), group: x.values.strategy != null ? String(x.values.strategy) : undefined,
      mis: m.mean, misLo: m.ci?.[0] ?? m.mean, misHi: m.ci?.[1] ?? m.mean, accuracy: a.mean, accLo: a.ci?.[0] ?? a.mean, accHi: a.ci?.[1] ?? a.mean,
      n: Math.min(m.n, a.n), onFront: front.has(i) };
  });
}

const settingText = (values: Record<string, GridValue | null>) => Object.entries(values).map(([k, v]) => `${k}=${v ?? '-'}`).join(' ') || 'CSG';

/** The CSG settings whose Δ MIS and Δ accuracy have intervals (2 or more pairs). */
const withIntervals = (g: GroupedComparison) => g.paired.filter((p) => p.difference.mis?.ci && p.difference.accuracy?.ci);

/** Points of the paired figure: one per CSG setting with Δ MIS and Δ accuracy over at least 2 pairs. */
export function pairedPoints(g: GroupedComparison): IntervalPoint[] {
  return withIntervals(g).map((p) => {
    const m = p.difference.mis!, a = p.difference.accuracy!;
    return { label: settingText(p.values), short: settingText(p.values), group: 'csg', n: Math.min(m.n, a.n),
      x: m.mean, xLo: m.ci![0], xHi: m.ci![1], y: a.mean, yLo: a.ci![0], yHi: a.ci![1] };
  });
}

/**
 * The answer a sweep is for, over the CSG settings paired with STD on 2+ seeds: the best setting free of
 * accuracy cost (mean Δ accuracy >= 0), or that none is; the largest MIS gain and the smallest accuracy
 * cost with their intervals, each said to be resolved (interval excludes 0) or within noise. Null
 * without such settings.
 */
export function bestSetting(g: GroupedComparison): string | null {
  const ps = withIntervals(g);
  if (!ps.length) return null;
  const mis = (p: PairedComparison) => p.difference.mis!, acc = (p: PairedComparison) => p.difference.accuracy!;
  const resolved = (s: Summary) => (s.ci![0] > 0 || s.ci![1] < 0 ? 'resolved' : 'within noise');
  const figures = (p: PairedComparison) => `${settingText(p.values)} (Δ MIS ${formatSummary(mis(p))}, ${resolved(mis(p))}; Δ accuracy ${formatSummary(acc(p))}, ${resolved(acc(p))})`;
  const top = (xs: PairedComparison[], by: (p: PairedComparison) => number) => xs.reduce((a, b) => (by(b) > by(a) ? b : a));
  const free = ps.filter((p) => acc(p).mean >= 0);
  const freeGain = free.length ? top(free, (p) => mis(p).mean) : null;
  const out = [freeGain
    ? `Largest MIS gain at no accuracy cost (mean Δ accuracy >= 0): ${figures(freeGain)}.`
    : `No CSG setting is free of accuracy cost: every mean Δ accuracy is below 0.`];
  const gain = top(ps, (p) => mis(p).mean), cheap = top(ps, (p) => acc(p).mean);
  if (mis(gain).mean <= 0) out.push(`No CSG setting raises mean MIS; the highest Δ MIS: ${figures(gain)}.`);
  else if (gain !== freeGain) out.push(`Largest MIS gain: ${figures(gain)}.`);
  const sure = ps.filter((p) => mis(p).ci![0] > 0);
  out.push(sure.length
    ? `MIS gains the seeds resolve (interval above 0): ${sure.map((p) => `${settingText(p.values)} ${formatSummary(mis(p))}`).join('; ')}.`
    : `No MIS gain is resolved at ${Math.min(...ps.map((p) => mis(p).n))} seeds (every Δ MIS interval reaches 0).`);
  if (!freeGain && cheap !== gain) out.push(`Smallest accuracy cost: ${figures(cheap)}.`);
  return out.join(' ');
}

/** Writes grouped.md, grouped.json, pareto.svg/png (when some group has accuracy and MIS) and paired.svg/png (when some CSG setting pairs with STD over 2+ seeds). */
export async function writeGrouped(g: GroupedComparison, outDir: string): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const md = join(outDir, 'grouped.md'), js = join(outDir, 'grouped.json');
  writeFileAtomic(md, groupedMarkdown(g));
  const points = paretoPoints(g), paired = pairedPoints(g);
  writeFileAtomic(js, JSON.stringify({ ...g, pareto: points, pairedPoints: paired, best: bestSetting(g) }, null, 2) + '\n');
  const files = [md, js];
  if (points.length || paired.length) {
    const { paretoSpec, pairedSpec } = await import('../report/sweep_figures.js');
    const { writeFigure } = await import('../report/render.js');
    for (const [name, spec] of [['pareto', points.length ? paretoSpec(points) : null], ['paired', paired.length ? pairedSpec(paired) : null]] as const) {
      if (!spec) continue;
      const f = await writeFigure(outDir, name, spec);
      files.push(f.svg, f.png);
    }
  }
  return files;
}
