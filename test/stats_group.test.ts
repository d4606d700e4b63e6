// compare --group-by: grouping rows by config keys, summaries over seeds, CSG - STD paired by seed,
// grouped.md/json and the Pareto figure; sweep folders expand to their finished runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CIFAR_PRESET, type TrainConfig } from '../src/csg/config.js';
import type { ComparisonRow } from '../src/app/compare.js';
import { expandRunDirs } from '../src/app/compare.js';
import { bestSetting, formatGrouped, groupComparison, groupedMarkdown, pairedPoints, paretoPoints, writeGrouped } from '../src/app/stats.js';
import { prepareSweep, parseGrid } from '../src/app/sweep.js';
import { summarize } from '../src/metrics/stats.js';
import { frame, joinLabels, pairedSpec, paretoSpec } from '../src/report/sweep_figures.js';
import { compileSpec } from '../src/report/render.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-stats-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

// CSG x 2 lambdas x 3 seeds and STD x 3 seeds (STD ignores lambda: its configs hold the preset's 0.1);
// accuracy and MIS made up so that the expected numbers are known.
const configs = new Map<string, TrainConfig>();
const rows: ComparisonRow[] = [];
for (const [strategy, lambda] of [['std', 0.1], ['csg', 0.1], ['csg', 1]] as const) for (const seed of [0, 1, 2]) {
  const run = strategy === 'std' ? `std-${seed}` : `${strategy}-${lambda}-${seed}`;
  configs.set(run, { ...structuredClone(CIFAR_PRESET), strategy, lambda, seed });
  const csg = strategy === 'csg';
  rows.push({ run, model: 'resnet20', strategy, accuracy: 0.9 + 0.01 * seed - (csg ? 0.002 * lambda * (seed + 1) : 0), density: csg ? 0.1 * (1 + seed) : null,
    mis: 0.5 + 0.02 * seed + (csg ? 0.05 * lambda + 0.01 * seed : 0), mean_specificity: 0.3, agreement: null, class_filter_accuracy: 0.5,
    localization: seed === 2 ? null : { file: 'x', split: 'test', images: 10, epoch: 1, methods: { csgcam: { mean_iou: 0.4 + 0.1 * seed, hit_rate: null, max_box_acc_v2: null, pxap: null } } },
    gate_auroc_pgd: null });
}
const configOf = (run: string) => configs.get(run)!;

test('groups by strategy and lambda: mean, std and t interval over the 3 seeds; absent figures counted per metric', () => {
  const g = groupComparison(rows, ['strategy', 'lambda'], configOf);
  assert.deepEqual(g.keys, ['strategy', 'lambda']);
  assert.equal(g.groups.length, 3);
  const csg1 = g.groups.find((x) => x.values.strategy === 'csg' && x.values.lambda === 1)!;
  assert.deepEqual(csg1.seeds, [0, 1, 2]);
  const acc = [0.9 - 0.002, 0.91 - 0.004, 0.92 - 0.006];
  assert.deepEqual(csg1.metrics.accuracy, summarize(acc));
  assert.ok(Math.abs(csg1.metrics.accuracy!.mean - 0.906) < 1e-12);
  assert.ok(Math.abs(csg1.metrics.accuracy!.std! - 0.008) < 1e-12, 'std of an arithmetic series, step 0.008');
  assert.ok(Math.abs(csg1.metrics.accuracy!.ci![1] - (0.906 + 4.302652729749464 * 0.008 / Math.sqrt(3))) < 1e-12, 't(0.975, 2) = 4.3027');
  assert.deepEqual(csg1.metrics.csgcam_mean_iou, summarize([0.4, 0.5]), 'two of three runs have localization');
  assert.equal(csg1.metrics.density!.n, 3);
  const std = g.groups.find((x) => x.values.strategy === 'std')!;
  assert.equal(std.values.lambda, null, 'STD ignores lambda: no value, not the preset default');
  assert.deepEqual(std.runs, ['std-0', 'std-1', 'std-2']);
  assert.equal(std.metrics.density, undefined, 'STD runs have no density');
  assert.equal(std.metrics.gate_auroc_pgd, undefined);
});

test('paired CSG - STD by seed within the other keys: each lambda against the one STD run of its seed', () => {
  const g = groupComparison(rows, ['lambda', 'strategy'], configOf);
  assert.equal(g.paired.length, 2);
  const p = g.paired.find((x) => x.values.lambda === 1)!;
  assert.deepEqual(p.seeds, [0, 1, 2]);
  assert.deepEqual(p.pairs[1], { csg: 'csg-1-1', std: 'std-1', seed: 1 });
  assert.deepEqual(g.paired.find((x) => x.values.lambda === 0.1)!.pairs[2], { csg: 'csg-0.1-2', std: 'std-2', seed: 2 });
  // MIS difference 0.05 + 0.01 seed: 0.05, 0.06, 0.07.
  const d = p.difference.mis!;
  assert.ok(Math.abs(d.mean - 0.06) < 1e-12 && Math.abs(d.std! - 0.01) < 1e-12);
  assert.deepEqual(p.difference.accuracy, summarize([-0.002, -0.004, -0.006].map((x, i) => rows.find((r) => r.run === `csg-1-${i}`)!.accuracy - rows.find((r) => r.run === `std-${i}`)!.accuracy)));
  // Grouping without lambda: each seed has two CSG runs, which cannot be paired.
  const mixed = groupComparison(rows, ['strategy'], configOf);
  assert.equal(mixed.paired.length, 0);
  assert.equal(mixed.skipped.length, 3);
  assert.match(mixed.skipped[0]!, /seed 0 .*2 CSG and 1 STD runs/);
  assert.match(formatGrouped(mixed), /not paired: seed 0/);
});

test('tables, markdown, JSON and the Pareto figure', async () => {
  const g = groupComparison(rows, ['strategy', 'lambda'], configOf);
  const text = formatGrouped(g);
  assert.match(text, /Grouped by strategy, lambda: mean ± sample std \[95 % t confidence interval/);
  assert.match(text, /0\.9060 ± 0\.0080 \[0\.8861, 0\.9259\]/);
  assert.match(text, /CSG - STD, paired by seed \(same lambda\)/);
  assert.match(groupedMarkdown(g), /\| strategy \| lambda \| seeds \| accuracy \| MIS \| density \| mean specificity \| CSG-CAM IoU \|/);
  const pts = paretoPoints(g);
  assert.equal(pts.length, 3);
  // Means: std (mis 0.52, acc 0.91), csg/0.1 (0.535, 0.9096), csg/1 (0.58, 0.906): csg/1 has the top MIS,
  // STD the top accuracy, csg/0.1 is beaten by neither on both.
  assert.deepEqual(pts.filter((p) => p.onFront).map((p) => p.label).sort(), ['strategy=csg, lambda=0.1', 'strategy=csg, lambda=1', 'strategy=std, lambda=-']);
  const dominated = paretoPoints(groupComparison(rows.map((r) => (r.run.startsWith('csg-0.1') ? { ...r, accuracy: r.accuracy - 0.1 } : r)), ['strategy', 'lambda'], configOf));
  assert.deepEqual(dominated.filter((p) => !p.onFront).map((p) => p.label), ['strategy=csg, lambda=0.1']);
  assert.deepEqual(compileSpec(paretoSpec(pts)).warnings, []);
  const out = join(tmp, 'grouped');
  const files = await writeGrouped(g, out);
  assert.deepEqual(files.map((f) => f.slice(out.length + 1)), ['grouped.md', 'grouped.json', 'pareto.svg', 'pareto.png', 'paired.svg', 'paired.png']);
  assert.match(readFileSync(join(out, 'paired.svg'), 'utf8'), /CSG - STD paired by seed/);
  const js = JSON.parse(readFileSync(join(out, 'grouped.json'), 'utf8'));
  assert.equal(js.groups.length, 3);
  assert.equal(js.pareto.length, 3);
  const svg = readFileSync(join(out, 'pareto.svg'), 'utf8');
  assert.match(svg, /Accuracy vs MIS/);
  assert.ok(readFileSync(join(out, 'pareto.png')).subarray(1, 4).toString() === 'PNG');
});

test('bad --group-by keys are named; sweep folders expand to their finished runs', () => {
  assert.throws(() => groupComparison(rows, ['lamda'], configOf), /--group-by: unknown key 'lamda'/);
  assert.throws(() => groupComparison(rows, ['rho', 'rho'], configOf), /a key appears twice/);
  assert.throws(() => groupComparison(rows, [], configOf), /no keys/);
  const sweep = join(tmp, 'sweep');
  prepareSweep({ out: sweep, grid: parseGrid('rho=0.1,0.2'), seeds: [0] });
  const done = join(sweep, 'rho=0.1,seed=0'), started = join(sweep, 'rho=0.2,seed=0');
  for (const [d, lines] of [[done, 2], [started, 1]] as const) {
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'config.json'), JSON.stringify({ train: { ...CIFAR_PRESET, epochs: 2 }, dataset: { name: 'x' } }));
    writeFileSync(join(d, 'metrics.jsonl'), Array.from({ length: lines }, (_, e) => JSON.stringify({ epoch: e }) + '\n').join(''));
  }
  const said: string[] = [];
  assert.deepEqual(expandRunDirs(['a/run', sweep], (s) => said.push(s)), ['a/run', done]);
  assert.match(said[0]!, /1 of 2 sweep runs are finished; comparing those/);
  assert.ok(existsSync(join(sweep, 'sweep.json')));
});

test('the paired figure and the one-sentence answer: largest MIS gain at no resolvable accuracy cost', () => {
  const g = groupComparison(rows, ['strategy', 'lambda'], configOf);
  const pts = pairedPoints(g);
  assert.deepEqual(pts.map((p) => p.label), ['lambda=0.1', 'lambda=1']);
  const p1 = pts[1]!;
  // lambda=1: Δ MIS 0.05, 0.06, 0.07; Δ accuracy -0.002, -0.004, -0.006 (both intervals with t(0.975, 2) = 4.3027).
  assert.ok(Math.abs(p1.x - 0.06) < 1e-12 && Math.abs(p1.xLo - (0.06 - 4.302652729749464 * 0.01 / Math.sqrt(3))) < 1e-12);
  assert.ok(Math.abs(p1.y + 0.004) < 1e-12 && p1.yHi > 0, 'accuracy interval reaches 0');
  assert.deepEqual(compileSpec(pairedSpec(pts)).warnings, []);
  // Both lambdas lose accuracy on average (-0.0004, -0.004); lambda=1 has the larger gain, the only one resolved.
  const answer = bestSetting(g)!;
  assert.ok(answer.startsWith('No CSG setting is free of accuracy cost: every mean Δ accuracy is below 0. '), answer);
  assert.match(answer, /Largest MIS gain: lambda=1 \(Δ MIS 0\.0600 ± 0\.0100 \[0\.0352, 0\.0848\], resolved; Δ accuracy -0\.0040 ± 0\.0020 \[-0\.0090, 0\.0010\], within noise\)\./);
  assert.match(answer, /MIS gains the seeds resolve \(interval above 0\): lambda=1 0\.0600 ± 0\.0100 \[0\.0352, 0\.0848\]\./);
  assert.match(answer, /Smallest accuracy cost: lambda=0\.1 \(Δ MIS 0\.0150 ± 0\.0100 \[-0\.0098, 0\.0398\], within noise; Δ accuracy -0\.0004/);
  assert.ok(groupedMarkdown(g).includes(answer));
  // lambda=0.1 made free (CSG 0, 0.001, 0.002 above STD): it is the answer, and the larger gain still named.
  const stdAcc = (seed: number) => rows.find((x) => x.run === `std-${seed}`)!.accuracy;
  const freeRows = rows.map((r) => (r.run.startsWith('csg-0.1') ? { ...r, accuracy: stdAcc(configOf(r.run).seed) + 0.001 * configOf(r.run).seed } : r));
  const free = bestSetting(groupComparison(freeRows, ['strategy', 'lambda'], configOf))!;
  assert.match(free, /^Largest MIS gain at no accuracy cost \(mean Δ accuracy >= 0\): lambda=0\.1 \(Δ MIS 0\.0150 .* Δ accuracy 0\.0010 ± 0\.0010 .*\)\. Largest MIS gain: lambda=1 /);
  assert.doesNotMatch(free, /Smallest accuracy cost/);
  // MIS lower with CSG everywhere: said so, not called a gain.
  const lower = rows.map((r) => (r.strategy === 'csg' ? { ...r, mis: 0.4 + 0.001 * configOf(r.run).seed } : r));
  assert.match(bestSetting(groupComparison(lower, ['strategy', 'lambda'], configOf))!, /No CSG setting raises mean MIS; the highest Δ MIS: .* No MIS gain is resolved at 3 seeds/);
  // One seed: no intervals, no answer.
  assert.equal(bestSetting(groupComparison(rows.filter((r) => configOf(r.run).seed === 0), ['strategy', 'lambda'], configOf)), null);
});

test('figure helpers: the frame holds the points (and 0 when asked); near labels joined', () => {
  assert.deepEqual(frame([0.2, 0.3], 0.001), [0.15000000000000002, 0.35]);
  assert.deepEqual(frame([0.5, 0.5], 0.002), [0.498, 0.502]);
  assert.deepEqual(frame([-0.01, -0.005], 0.001, true), [-0.015, 0.005]);
  assert.equal(joinLabels(['lambda=0.01 rho=0.05', 'lambda=0.01 rho=0.1', 'lambda=0.01 rho=0.2']), 'lambda=0.01 rho=0.05|0.1|0.2');
  assert.equal(joinLabels(['lambda=1 rho=0.05', 'lambda=0.1 rho=0.1']), 'lambda=1 rho=0.05 / lambda=0.1 rho=0.1');
  assert.equal(joinLabels(['std']), 'std');
});
