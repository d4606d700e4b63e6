#!/usr/bin/env node
// Aggregates the fidelity experiment (scripts/fidelity.sh) with csgnet's own statistics
// (dist/src/metrics/stats.js: mean, sample std, 95 % Student-t interval):
//   node scripts/fidelity_stats.mjs --csgnet runs/fidelity/csgnet/report/comparison.json \
//     --reference runs/fidelity/reference [--out runs/fidelity/fidelity.md] [--json FILE]
// --csgnet: the comparison.json `csgnet compare SWEEP --out DIR` wrote (one row per run; the seed and
// strategy come from each run's config.json). --reference: a folder of the reference script's
// stdout, one file per run (*.jsonl); the last line of each ({"final": true, ...}) gives accuracy,
// density and MIS, its args the seed and strategy. Prints, per tool and strategy, mean ± std
// [95 % CI] of accuracy, MIS and density (STD's gate is never used, so its density is left out);
// CSG - STD paired by seed within each tool; and csgnet - reference per strategy (Welch's interval:
// the two tools' seeds are not paired, the same seed gives different initial weights).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { summarize, tQuantile } from '../dist/src/metrics/stats.js';

const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const csgnetFile = opt('--csgnet'), refDir = opt('--reference'), outFile = opt('--out'), jsonFile = opt('--json');
if (!csgnetFile || !refDir) {
  console.error('usage: fidelity_stats.mjs --csgnet COMPARISON.json --reference DIR [--out FILE.md] [--json FILE]');
  process.exit(2);
}

/** @type {{tool: string, strategy: string, seed: number, accuracy: number, mis: number, density: number|null, source: string}[]} */
const runs = [];
for (const r of JSON.parse(readFileSync(csgnetFile, 'utf8'))) {
  const c = JSON.parse(readFileSync(join(r.run, 'config.json'), 'utf8')).train;
  runs.push({ tool: 'csgnet', strategy: c.strategy, seed: c.seed, accuracy: r.accuracy, mis: r.mis, density: r.density, source: r.run });
}
for (const f of readdirSync(refDir).filter((n) => n.endsWith('.jsonl')).sort()) {
  const lines = readFileSync(join(refDir, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const last = lines.at(-1);
  if (!last?.final) throw new Error(`${join(refDir, f)}: no final line (run unfinished?)`);
  runs.push({ tool: 'reference', strategy: last.strategy, seed: last.args.seed, accuracy: last.test_acc, mis: last.mis, density: last.density, source: join(refDir, f) });
}

const METRICS = ['accuracy', 'mis', 'density'];
const tools = ['csgnet', 'reference'], strategies = ['std', 'csg'];
const usable = (m, strategy) => !(m === 'density' && strategy === 'std');
const f4 = (x) => x.toFixed(4);
const show = (s) => !s ? '-' : s.std === null ? `${f4(s.mean)} (n=1)` : `${f4(s.mean)} ± ${f4(s.std)} [${f4(s.ci[0])}, ${f4(s.ci[1])}]`;

/** Welch's two-sample t interval of mean(a) - mean(b). */
function welch(a, b, level = 0.95) {
  const sa = summarize(a), sb = summarize(b);
  const d = sa.mean - sb.mean;
  if (sa.std === null || sb.std === null) return { n: Math.min(a.length, b.length), mean: d, std: null, ci: null, df: null };
  const va = sa.std ** 2 / a.length, vb = sb.std ** 2 / b.length, se = Math.sqrt(va + vb);
  if (se === 0) return { mean: d, std: 0, ci: [d, d], df: null };
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const half = tQuantile(1 - (1 - level) / 2, df) * se;
  return { mean: d, std: se, ci: [d - half, d + half], df };
}

const result = { groups: [], paired: [], tools_difference: [], runs };
for (const tool of tools) for (const strategy of strategies) {
  const rs = runs.filter((r) => r.tool === tool && r.strategy === strategy).sort((a, b) => a.seed - b.seed);
  if (!rs.length) continue;
  const metrics = Object.fromEntries(METRICS.filter((m) => usable(m, strategy) && rs.every((r) => r[m] !== null)).map((m) => [m, summarize(rs.map((r) => r[m]))]));
  result.groups.push({ tool, strategy, seeds: rs.map((r) => r.seed), metrics });
}
for (const tool of tools) {
  const seeds = runs.filter((r) => r.tool === tool && r.strategy === 'csg').map((r) => r.seed)
    .filter((s) => runs.some((r) => r.tool === tool && r.strategy === 'std' && r.seed === s)).sort((a, b) => a - b);
  if (!seeds.length) continue;
  const pick = (st, s) => runs.find((r) => r.tool === tool && r.strategy === st && r.seed === s);
  const difference = Object.fromEntries(['accuracy', 'mis'].map((m) => [m, summarize(seeds.map((s) => pick('csg', s)[m] - pick('std', s)[m]))]));
  result.paired.push({ tool, seeds, difference });
}
for (const strategy of strategies) {
  const of = (tool, m) => runs.filter((r) => r.tool === tool && r.strategy === strategy).map((r) => r[m]);
  const difference = {};
  for (const m of METRICS.filter((m) => usable(m, strategy))) {
    const a = of('csgnet', m), b = of('reference', m);
    if (a.length && b.length && a.every((x) => x !== null) && b.every((x) => x !== null)) difference[m] = welch(a, b);
  }
  result.tools_difference.push({ strategy, difference });
}
// csgnet - reference on the paired MIS gain itself (Welch over the per-seed gains).
const gains = (tool) => { const p = result.paired.find((x) => x.tool === tool); if (!p) return [];
  return p.seeds.map((s) => runs.find((r) => r.tool === tool && r.strategy === 'csg' && r.seed === s).mis - runs.find((r) => r.tool === tool && r.strategy === 'std' && r.seed === s).mis); };
if (gains('csgnet').length && gains('reference').length) result.gain_difference = { mis: welch(gains('csgnet'), gains('reference')) };

const line = (c) => `| ${c.join(' | ')} |`;
const md = [];
md.push('mean ± sample std [95 % Student-t interval of the mean] over seeds', '');
md.push(line(['tool', 'strategy', 'seeds', 'accuracy', 'MIS', 'density']), line(['---', '---', '---', '---', '---', '---']));
for (const g of result.groups) md.push(line([g.tool, g.strategy.toUpperCase(), g.seeds.join(','), show(g.metrics.accuracy), show(g.metrics.mis), show(g.metrics.density)]));
md.push('', 'CSG - STD, paired by seed:', '', line(['tool', 'pairs', 'Δ accuracy', 'Δ MIS']), line(['---', '---', '---', '---']));
for (const p of result.paired) md.push(line([p.tool, String(p.seeds.length), show(p.difference.accuracy), show(p.difference.mis)]));
md.push('', 'csgnet - reference (Welch, unpaired):', '', line(['strategy', 'Δ accuracy', 'Δ MIS', 'Δ density']), line(['---', '---', '---', '---']));
const showW = (s) => !s ? '-' : s.ci === null ? `${f4(s.mean)}` : `${f4(s.mean)} [${f4(s.ci[0])}, ${f4(s.ci[1])}]`;
for (const t of result.tools_difference) md.push(line([t.strategy.toUpperCase(), showW(t.difference.accuracy), showW(t.difference.mis), showW(t.difference.density)]));
if (result.gain_difference) md.push(line(['MIS gain (CSG - STD)', '-', showW(result.gain_difference.mis), '-']));
md.push('', 'per run:', '', line(['tool', 'strategy', 'seed', 'accuracy', 'MIS', 'density']), line(['---', '---', '---', '---', '---', '---']));
for (const r of [...runs].sort((a, b) => a.tool.localeCompare(b.tool) || b.strategy.localeCompare(a.strategy) || a.seed - b.seed)) {
  md.push(line([r.tool, r.strategy.toUpperCase(), String(r.seed), f4(r.accuracy), f4(r.mis), r.strategy === 'std' || r.density === null ? '-' : f4(r.density)]));
}
const text = md.join('\n') + '\n';
process.stdout.write(text);
if (outFile) writeFileSync(outFile, text);
if (jsonFile) writeFileSync(jsonFile, JSON.stringify(result, null, 2) + '\n');
