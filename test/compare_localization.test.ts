// csgnet compare's localization columns: read from RUN/localization/localization.json (localize's default
// output) when it is current (same split, same last checkpoint bytes, the run's own dataset), '-' for the
// other runs, none at all when no run has it; still without libtorch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { analysisKey, resultStaleness } from '../src/app/analysis_key.js';
import { compareRuns, formatComparison } from '../src/app/compare.js';
import { FASHION_MNIST_CLASSES } from '../src/data/index.js';
import { runCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-cmploc-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

// Records every native addon the CLI opens (as test/cli_start.test.ts does).
const tracer = join(tmp, 'trace.cjs');
writeFileSync(tracer, `const fs = require('fs'); const orig = process.dlopen, loaded = [];
process.dlopen = function (m, file, ...rest) { loaded.push(String(file)); return orig.call(this, m, file, ...rest); };
process.on('exit', () => fs.writeFileSync(process.env.TRACE_LOG, JSON.stringify(loaded)));\n`);
function compareCli(args: string[]) {
  const log = join(tmp, `trace-${Math.random().toString(36).slice(2)}.json`);
  const r = runCli(['compare', ...args], { env: { ...process.env, TRACE_LOG: log }, nodeArgs: ['--require', tracer] });
  assert.equal(r.status, 0, r.stderr);
  return { ...r, addons: existsSync(log) ? (JSON.parse(readFileSync(log, 'utf8')) as string[]) : [] };
}

/** A run folder with a cached analysis (only the checkpoint's bytes matter: the key). */
function analysedRun(name: string, strategy: 'std' | 'csg', checkpointBytes: string): string {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'checkpoints'), { recursive: true });
  mkdirSync(join(dir, 'analysis'), { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ train: { model: 'resnet20', strategy },
    dataset: { name: 'cluttered-fashion-mnist', classes: ['a', 'b'], channels: 1, height: 48, width: 48 } }));
  writeFileSync(join(dir, 'checkpoints', 'last.safetensors'), checkpointBytes);
  const key = analysisKey(dir, { split: 'test', checkpoint: 'last', limit: 0 });
  writeFileSync(join(dir, 'analysis', 'analysis.json'), JSON.stringify({ key, split: 'test', accuracy: 0.8, density: strategy === 'csg' ? 0.1 : null, mis: 0.25,
    mean_specificity: 0.5, agreement: null, class_filter_accuracy: { mean_balanced: 0.6 } }));
  return dir;
}

const figures = (iou: number, hit: number, box: number, pxap: number) => ({
  top30_iou: { overall: { meanIoU: iou, hitRate: hit } }, max_box_acc_v2: { overall: { maxBoxAccV2: box } }, pxap: { overall: { pxap } },
});

/** RUN/localization/localization.json as localize writes it (the parts compare reads). */
function localized(dir: string, o: { own?: boolean; split?: string; sha?: string; methods?: Record<string, unknown>; by?: string } = {}): void {
  const checkpoint = analysisKey(o.by ?? dir, { checkpoint: 'last' }).checkpoint;
  mkdirSync(join(dir, 'localization'), { recursive: true });
  writeFileSync(join(dir, 'localization', 'localization.json'), JSON.stringify({
    run: dir, epoch: 3, checkpoint_key: { ...checkpoint, sha256: o.sha ?? checkpoint.sha256 },
    settings: { dataset: { name: 'cluttered-fashion-mnist', root: null, own: o.own ?? true, canvas: 48, distractors: 6 }, split: o.split ?? 'test', images: 100 },
    methods: o.methods ?? { csgcam: figures(0.41, 0.52, 0.63, 0.74), cam: figures(0.31, null as any, 0.33, 0.34), activmap: { overall: { meanIoU: 0.9 } } },
  }));
}

test('compare gains CSG-CAM and CAM columns for localized runs, - for the others, and says why a localization is not shown', () => {
  const a = analysedRun('a', 'csg', 'A'), b = analysedRun('b', 'std', 'B'), stale = analysedRun('stale', 'csg', 'C'), other = analysedRun('other', 'csg', 'D');
  // Without any localization the table is as before.
  const plain = compareCli([a, b]);
  assert.doesNotMatch(plain.stdout, /CSG-CAM|CAM IoU/);
  localized(a);
  localized(stale, { sha: '0'.repeat(64) });
  localized(other, { own: false });
  const out = join(tmp, 'cmp');
  const r = compareCli([a, b, stale, other, '--out', out, '--threads', '1']);
  assert.deepEqual(r.addons.filter((f) => basename(f) === 'csgnet_native.node'), [], 'compare on analysed runs opens no libtorch');
  const lines = r.stdout.split('\n');
  const header = lines[0]!.split(/\s{2,}/);
  assert.deepEqual(header.slice(9), ['CSG-CAM IoU', 'CSG-CAM hit rate', 'CSG-CAM MaxBoxAccV2', 'CSG-CAM PxAP', 'CAM IoU', 'CAM hit rate', 'CAM MaxBoxAccV2', 'CAM PxAP']);
  const row = (dir: string) => lines.find((l) => l.startsWith(dir + ' '))!.split(/\s{2,}/).slice(9);
  assert.deepEqual(row(a), ['0.4100', '0.5200', '0.6300', '0.7400', '0.3100', '-', '0.3300', '0.3400']);
  for (const d of [b, stale, other]) assert.deepEqual(row(d), new Array(8).fill('-'), d);
  assert.match(r.stderr, /stale: no localization figures: .*localization\.json was made from an older checkpoints\/last\.safetensors \(its content changed since\); rerun csgnet localize --run .*stale/);
  assert.match(r.stderr, /other: no localization figures: .*scores another dataset \(cluttered-fashion-mnist\), not the run's own/);
  assert.doesNotMatch(r.stderr, /\/b: no localization/, 'a run without localization is no news');
  const json = JSON.parse(readFileSync(join(out, 'comparison.json'), 'utf8'));
  assert.deepEqual(json[0].localization.methods, {
    csgcam: { mean_iou: 0.41, hit_rate: 0.52, max_box_acc_v2: 0.63, pxap: 0.74 }, cam: { mean_iou: 0.31, hit_rate: null, max_box_acc_v2: 0.33, pxap: 0.34 } });
  assert.equal(json[0].localization.images, 100);
  assert.equal(json[1].localization, null);
  assert.match(readFileSync(join(out, 'comparison.md'), 'utf8').split('\n')[0]!, /\| CSG-CAM IoU \| .* \| CAM PxAP \|$/);
});

test('a localization of another split, or with only CAM, is shown accordingly', async () => {
  const t = analysedRun('train-split', 'csg', 'E'), camOnly = analysedRun('cam-only', 'std', 'F');
  localized(t, { split: 'train' });
  localized(camOnly, { methods: { cam: figures(0.2, 0.1, 0.3, 0.4) } });
  const logs: string[] = [];
  const rows = await compareRuns([t, camOnly], { log: (s) => logs.push(s) });
  assert.equal(rows[0]!.localization, null);
  assert.match(logs.join('\n'), /scores the train split, compare uses test/);
  const text = formatComparison(rows);
  assert.doesNotMatch(text, /CSG-CAM/, 'no run has CSG-CAM figures: no CSG-CAM columns');
  assert.match(text.split('\n')[0]!, /CAM IoU {2}CAM hit rate {2}CAM MaxBoxAccV2 {2}CAM PxAP$/);
});

test('end to end: localize writes RUN/localization, compare shows its CSG-CAM figures', async () => {
  const { fakeRun } = await import('./support/fake_run.js');
  const { localizeRun } = await import('../src/app/localize.js');
  const run = fakeRun(join(tmp, 'real'), { dataset: 'cluttered-fashion-mnist', canvas: 48, strategy: 'csg' },
    { name: 'cluttered-fashion-mnist', classes: FASHION_MNIST_CLASSES, channels: 1, height: 48, width: 48 });
  mkdirSync(join(run, 'analysis'));
  writeFileSync(join(run, 'analysis', 'analysis.json'), JSON.stringify({ key: analysisKey(run, { split: 'test', checkpoint: 'last', limit: 0 }), split: 'test',
    accuracy: 0.1, density: 1, mis: 0, mean_specificity: 0, agreement: null, class_filter_accuracy: { mean_balanced: 0 } }));
  const { report } = await localizeRun({ run, methods: ['csgcam', 'cam'], limit: 12 });
  const [row] = await compareRuns([run]);
  const csg = (report.methods.csgcam as any);
  assert.deepEqual(row!.localization!.methods.csgcam, { mean_iou: csg.top30Iou.overall.meanIoU, hit_rate: csg.top30Iou.overall.hitRate,
    max_box_acc_v2: csg.maxBoxAccV2.overall.maxBoxAccV2, pxap: csg.pxap.overall.pxap });
  assert.equal(row!.localization!.images, 12);
  assert.equal(row!.localization!.epoch, 1);
});

test('results written into a run folder by another run are "from another run": compare and report leave them out', async () => {
  const a = analysedRun('mine', 'csg', 'G'), b = analysedRun('theirs', 'csg', 'H');
  localized(a, { by: b });
  mkdirSync(join(a, 'adversarial'));
  const advJson = (by: string) => JSON.stringify({ checkpoint_key: analysisKey(by, { checkpoint: 'last' }).checkpoint,
    attacks: [{ attack: 'pgd', eps: 0.1, detectors: { gate: { auroc: 0.7 } } }] });
  writeFileSync(join(a, 'adversarial', 'adversarial.json'), advJson(b));
  const logs: string[] = [];
  const [row] = await compareRuns([a], { log: (s) => logs.push(s) });
  assert.equal(row!.localization, null);
  assert.equal(row!.gate_auroc_pgd, null);
  assert.match(logs.join('\n'), /mine: no localization figures: .*mine\/localization\/localization\.json is from another run \(.*theirs\); rerun csgnet localize/);
  assert.match(logs.join('\n'), /mine: no adversarial figures: .*adversarial\.json is from another run \(.*theirs\); rerun csgnet adversarial/);
  assert.doesNotMatch(logs.join('\n'), /older/);
  // Its own results are shown; one without a key (older csgnet) is not.
  writeFileSync(join(a, 'adversarial', 'adversarial.json'), advJson(a));
  assert.equal((await compareRuns([a]))[0]!.gate_auroc_pgd, 0.7);
  writeFileSync(join(a, 'adversarial', 'adversarial.json'), JSON.stringify({ attacks: [{ attack: 'pgd', eps: 0.1, detectors: { gate: { auroc: 0.7 } } }] }));
  assert.equal((await compareRuns([a]))[0]!.gate_auroc_pgd, null);
  // An analysis cached from another run.
  assert.match(resultStaleness('x.json', analysisKey(b), analysisKey(a)), /^x\.json is from another run \(.*theirs\)$/);
  assert.equal(resultStaleness('x.json', analysisKey(a), analysisKey(a)), '');

  // report: a real run with a localization copied into it from another run (localize --out refuses to write there), and
  // its own adversarial result.
  const { fakeRun } = await import('./support/fake_run.js');
  const { gatherRun } = await import('../src/app/report.js');
  const data = { name: 'cluttered-fashion-mnist', classes: FASHION_MNIST_CLASSES, channels: 1, height: 48, width: 48 };
  const mine = fakeRun(join(tmp, 'r-mine'), { dataset: 'cluttered-fashion-mnist', canvas: 48, strategy: 'csg' }, data, 1);
  const theirs = fakeRun(join(tmp, 'r-theirs'), { dataset: 'cluttered-fashion-mnist', canvas: 48, strategy: 'csg' }, data, 2);
  // Written by hand: localize itself now refuses an --out inside another run (test/outputs.test.ts).
  localized(mine, { by: theirs });
  mkdirSync(join(mine, 'adversarial'));
  // The report renders the whole adversarial.json: one as csgnet adversarial writes it.
  const { adversarialJson } = await import('./report_fixture.js');
  const fullAdv = (by: string) => JSON.stringify(adversarialJson(analysisKey(by, { checkpoint: 'last' }).checkpoint));
  writeFileSync(join(mine, 'adversarial', 'adversarial.json'), fullAdv(mine));
  const r = await gatherRun(mine, { analyze: false, gallery: false });
  assert.equal(r.localization, null, 'another run\'s localization is not shown as this run\'s');
  assert.ok(r.notes.some((n) => /^not shown: .*r-mine\/localization\/localization\.json is from another run \(.*r-theirs\)$/.test(n)), r.notes.join('\n'));
  assert.ok(r.adversarial, 'its own adversarial result is shown');
  writeFileSync(join(mine, 'adversarial', 'adversarial.json'), fullAdv(theirs));
  const r2 = await gatherRun(mine, { analyze: false, gallery: false });
  assert.equal(r2.adversarial, null);
  assert.ok(r2.notes.some((n) => /adversarial\.json is from another run/.test(n)), r2.notes.join('\n'));
});

test('an adversarial.json of another checkpoint of the same run is stale: compare and report leave it out and say why', async () => {
  const { gatherRun } = await import('../src/app/report.js');
  const dir = analysedRun('retrained', 'csg', 'first');
  const file = join(dir, 'adversarial', 'adversarial.json');
  mkdirSync(join(dir, 'adversarial'));
  const adv = (key: unknown) => JSON.stringify({ checkpoint_key: key, attacks: [{ attack: 'pgd', eps: 0.1, detectors: { gate: { auroc: 0.7 } } }] });
  const both = async () => {
    const logs: string[] = [];
    const [row] = await compareRuns([dir], { log: (s) => logs.push(s) });
    const r = await gatherRun(dir, { analyze: false, gallery: false });
    return { auroc: row!.gate_auroc_pgd, log: logs.join('\n'), report: r.adversarial, notes: r.notes.join('\n') };
  };
  // Computed from checkpoints/best, not the last checkpoint that compare and report use.
  writeFileSync(join(dir, 'checkpoints', 'best.safetensors'), 'best');
  writeFileSync(file, adv(analysisKey(dir, { checkpoint: 'best' }).checkpoint));
  let r = await both();
  assert.equal(r.auroc, null);
  assert.match(r.log, /retrained: no adversarial figures: .*adversarial\.json was made from checkpoints\/best\.safetensors, not checkpoints\/last\.safetensors; rerun csgnet adversarial --run/);
  assert.equal(r.report, null);
  assert.match(r.notes, /not shown: .*adversarial\.json was made from checkpoints\/best\.safetensors, not checkpoints\/last\.safetensors/);
  // Computed from the last checkpoint, which training has rewritten since (the cached analysis is of the new one).
  writeFileSync(file, adv(analysisKey(dir, { checkpoint: 'last' }).checkpoint));
  r = await both();
  assert.equal(r.auroc, 0.7, 'current before the checkpoint changes');
  assert.match(r.notes, /not shown: .*adversarial\.json lacks the attacks, transfer, settings or clean figures of an adversarial\.json/, 'the report renders only a whole one');
  analysedRun('retrained', 'csg', 'second');
  r = await both();
  assert.equal(r.auroc, null);
  assert.match(r.log, /adversarial\.json was made from an older checkpoints\/last\.safetensors \(its content changed since\); rerun csgnet adversarial/);
  assert.equal(r.report, null);
  assert.match(r.notes, /not shown: .*adversarial\.json was made from an older checkpoints\/last\.safetensors \(its content changed since\)/);
});
