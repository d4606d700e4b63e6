// csgnet adversarial end to end on tiny LeNet runs of Fashion-MNIST: the JSON's counts, success rates and
// distances are recomputed from the saved adversarial arrays and the model, Linf attacks stay in their
// ball, the fit/report split is seeded and disjoint, metrics lie in [0, 1], and bad flags are refused by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as torch from '../src/torch/index.js';
import { readNpy } from '../src/io/npy.js';
import { adversarialRun, detectionSplit } from '../src/app/adversarial.js';
import { gateAurocOnPgd } from '../src/app/adversarial_summary.js';
import { openRun, runDataset } from '../src/csg/run.js';
import { BatchLoader } from '../src/data/index.js';
import { PixelModel } from '../src/attack/pixel_model.js';
import { fakeRun } from './support/fake_run.js';
import { runCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-adversarial-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const env = { ...process.env, OMP_NUM_THREADS: '1' };
// LeNet learns about 60 % in 4 epochs of 1024 images (every second epoch on the CSG path): a few seconds.
const train = (out: string, strategy: string) => {
  const r = runCli(['train', '--dataset', 'fashion-mnist', '--model', 'lenet', '--strategy', strategy, '--epochs', '4', '--limit', '1024',
    '--lr', '0.1', '--batch', '64', '--lambda', '0.01', '--period', '2', '--phase-min', '1', '--val-limit', '32', '--threads', '1', '--progress', 'none', '--out', out], { env });
  assert.equal(r.status, 0, r.stderr);
};
const csgRun = join(tmp, 'csg');

test('adversarial on a CSG run: counts, success and distances agree with the saved arrays; seeded disjoint split; metrics in [0, 1]', async () => {
  train(csgRun, 'csg');
  const n = 40, eps = [0.1, 0.2], fitFraction = 0.25, seed = 3;
  const { report, files } = await adversarialRun({ run: csgRun, limit: n, attacks: ['pgd', 'fgsm', 'cw'], eps, fitFraction, seed, fitTrainLimit: 64,
    adaptiveWeights: [1], batchSize: 16, saveAdversarial: true });
  const out = join(csgRun, 'adversarial'); // the default, where compare looks
  for (const f of files) assert.ok(existsSync(f), f);
  for (const f of ['adversarial.json', 'adversarial.md', 'roc.svg', 'roc.png', 'examples.png']) assert.ok(existsSync(join(out, f)), f);
  const onDisk = JSON.parse(readFileSync(join(out, 'adversarial.json'), 'utf8'));
  assert.deepEqual(onDisk.settings, report.settings);
  assert.deepEqual(report.settings.attacks, ['fgsm', 'pgd', 'cw'], 'FGSM first, so that transfer can fit on it');
  assert.deepEqual(report.attacks.map((a) => a.key), ['fgsm@0.1', 'fgsm@0.2', 'pgd@0.1', 'pgd@0.2', 'cw', 'pgd-adaptive-w1@0.1', 'pgd-adaptive-w1@0.2']);

  // Clean accuracy of the subset, from the model itself.
  const run = openRun(csgRun);
  const ds = await runDataset(run, 'test');
  const pm = new PixelModel(run.model, ds.mean, ds.std);
  const b = new BatchLoader(ds, { batchSize: n, shuffle: false, normalize: false, limit: n }).epoch(0).next().value!;
  const clean = Float32Array.from(b.x);
  const pred = torch.tidy(() => pm.predict(torch.fromTypedArray(clean, [n, 1, 28, 28])).to('int32').data() as Int32Array);
  const correct = Array.from({ length: n }, (_, i) => i).filter((i) => pred[i] === b.y[i]);
  assert.equal(report.clean.correct, correct.length);
  assert.ok(correct.length >= 10, `the tiny model classifies only ${correct.length} of ${n} correctly`);
  assert.equal(report.clean.accuracy, correct.length / n);
  const indices = Array.from(readNpy(join(out, 'npy', 'indices.npy')).data as BigInt64Array, Number);
  assert.deepEqual(indices, correct);
  const labels = Array.from(readNpy(join(out, 'npy', 'labels.npy')).data as BigInt64Array, Number);
  assert.deepEqual(labels, correct.map((i) => b.y[i]));

  const m = correct.length, per = 28 * 28;
  for (const a of report.attacks) {
    const file = a.attack === 'cw' ? 'cw' : a.attack === 'pgd-adaptive' ? `pgd-adaptive_w${a.adaptive_weight}_eps${a.eps}` : `${a.attack}_eps${a.eps}`;
    const adv = readNpy(join(out, 'npy', `${file}.npy`));
    assert.deepEqual(adv.shape, [m, 1, 28, 28]);
    const x = adv.data as Float32Array;
    const advPred = torch.tidy(() => pm.predict(torch.fromTypedArray(x, [m, 1, 28, 28])).to('int32').data() as Int32Array);
    let successful = 0, sumLinf = 0, sumL2 = 0, maxLinf = 0, lo = Infinity, hi = -Infinity;
    for (let k = 0; k < m; k++) {
      let linf = 0, l2 = 0;
      for (let p = 0; p < per; p++) {
        const v = x[k * per + p]!, d = v - clean[correct[k]! * per + p]!;
        lo = Math.min(lo, v); hi = Math.max(hi, v);
        linf = Math.max(linf, Math.abs(d)); l2 += d * d;
      }
      maxLinf = Math.max(maxLinf, linf);
      if (advPred[k] !== labels[k]) { successful++; sumLinf += linf; sumL2 += Math.sqrt(l2); }
    }
    assert.ok(lo >= 0 && hi <= 1, `${a.key}: adversarial pixels in [${lo}, ${hi}]`);
    assert.equal(a.attacked, m);
    assert.equal(a.successful, successful, `${a.key}: success recomputed from the saved images`);
    assert.equal(a.success_rate, successful / m);
    if (successful) {
      assert.ok(Math.abs(a.mean_linf! - sumLinf / successful) < 1e-5, `${a.key}: mean Linf ${a.mean_linf} vs ${sumLinf / successful}`);
      assert.ok(Math.abs(a.mean_l2! - sumL2 / successful) < 1e-4, `${a.key}: mean L2 ${a.mean_l2} vs ${sumL2 / successful}`);
    }
    if (a.eps !== null) assert.ok(maxLinf <= a.eps + 1e-6, `${a.key}: Linf ${maxLinf} beyond eps ${a.eps}`);
    assert.ok(a.selected <= successful);
    assert.equal(a.fit.images + a.eval.images, a.selected);
    assert.equal(a.eval.samples, 3 * a.eval.images);
    for (const d of report.settings.detectors) {
      const r = a.detectors[d]!;
      assert.ok(r, `${a.key}: no ${d} entry`);
      if ('skipped' in r) continue;
      for (const v of [r.auroc, r.tnr_at_95_tpr, r.detection_accuracy]) assert.ok(v >= 0 && v <= 1, `${a.key} ${d}: ${v}`);
      assert.ok(r.detection_accuracy >= 0.5, 'detection accuracy is a max over thresholds, so at least 1/2');
      assert.equal(r.roc.fpr.length, r.roc.tpr.length);
    }
  }
  // PGD at a larger radius succeeds at least as often here (40 random-start steps on a weak model).
  const pgd = (e: number) => report.attacks.find((a) => a.key === `pgd@${e}`)!;
  assert.ok(pgd(0.2).success_rate >= pgd(0.1).success_rate);

  // The split: seeded, round(n * f) fitting images, disjoint from the reported ones.
  const fitImages = report.split.fit_images;
  assert.equal(fitImages.length, Math.round(n * fitFraction));
  assert.equal(new Set(fitImages).size, fitImages.length);
  assert.ok(fitImages.every((i) => Number.isInteger(i) && i >= 0 && i < n));
  assert.equal(report.split.eval_images, n - fitImages.length);
  const again = detectionSplit(n, fitFraction, seed);
  assert.deepEqual(fitImages, Array.from({ length: n }, (_, i) => i).filter((i) => again[i]));
  assert.notDeepEqual(Array.from(detectionSplit(n, fitFraction, seed + 1)), Array.from(again));
  const correctFit = correct.filter((i) => again[i]).length;
  for (const a of report.attacks) assert.ok(a.fit.images <= correctFit && a.eval.images <= m - correctFit, a.key);

  // Transfer: fitted on FGSM at each eps, tested on PGD at the same eps and on CW.
  assert.deepEqual(report.transfer.map((t) => `${t.fit}>${t.test}`), ['fgsm@0.1>pgd@0.1', 'fgsm@0.2>pgd@0.2', 'fgsm@0.1>cw', 'fgsm@0.2>cw']);
  // The gate needs no fitting: its transfer scores are its scores on the target.
  const t = report.transfer[0]!, direct = pgd(0.1).detectors.gate!;
  assert.deepEqual(t.detectors.gate, direct);

  // What compare shows: the gate's AUROC on PGD at the middle radius (the lower of two).
  const g = gateAurocOnPgd(csgRun);
  assert.ok(g && 'auroc' in direct ? g.auroc === (pgd(0.1).detectors.gate as any).auroc && g.eps === 0.1 : g === null);
  const md = readFileSync(join(out, 'adversarial.md'), 'utf8');
  assert.match(md, /\| attack \| eps \| adaptive w \| gate \| csg-lr \| mahalanobis \| squeeze \|/);
  assert.equal(readFileSync(join(out, 'examples.png')).subarray(1, 4).toString(), 'PNG');
  assert.match(readFileSync(join(out, 'roc.svg'), 'utf8'), /^<svg/);
  pm.dispose(); run.model.dispose(); run.gate?.weight.dispose();
});

test('kdbu and lid through `csgnet adversarial --detectors`: fitted and reported under the protocol, in the JSON and the tables, with the no-dropout note', () => {
  const out = join(tmp, 'kdbu-lid');
  const r = runCli(['adversarial', '--run', csgRun, '--limit', '40', '--attacks', 'fgsm,pgd', '--eps', '0.2', '--detectors', 'kdbu,lid', '--no-adaptive',
    '--fit-fraction', '0.25', '--fit-train-limit', '64', '--kd-bandwidth', '1.5', '--lid-k', '10', '--batch', '16', '--progress', 'none', '--threads', '1', '--out', out], { env });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /kdbu: the model has no dropout layer, so no MC-dropout uncertainty: kernel density alone/);
  const j = JSON.parse(readFileSync(join(out, 'adversarial.json'), 'utf8'));
  assert.deepEqual(j.settings.detectors, ['kdbu', 'lid']);
  assert.deepEqual(j.settings.detector_options, { kdbu: { bandwidth: 1.5, uncertainty: false }, lid: { k: 10, minibatch: 100, layers: ['pool1', 'pool2', 'logits'] } });
  assert.deepEqual(j.attacks.map((a: any) => a.key), ['fgsm@0.2', 'pgd@0.2']);
  for (const row of [...j.attacks, ...j.transfer]) {
    for (const d of ['kdbu', 'lid']) {
      const m = row.detectors[d];
      assert.ok(m && 'auroc' in m, `${row.key ?? row.test} ${d}: ${JSON.stringify(m)}`);
      for (const v of [m.auroc, m.tnr_at_95_tpr, m.detection_accuracy]) assert.ok(v >= 0 && v <= 1, `${d}: ${v}`);
    }
  }
  assert.equal(j.transfer.length, 1, 'fgsm@0.2 -> pgd@0.2');
  assert.match(readFileSync(join(out, 'adversarial.md'), 'utf8'), /\| attack \| eps \| adaptive w \| kdbu \| lid \|/);
  const bad = runCli(['adversarial', '--run', csgRun, '--kd-bandwidth', '0'], { env });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--kd-bandwidth/);
});

test('adversarial on an STD run: the adaptive attack uses the filter-to-class assignment; no run, no compare entry', async () => {
  const dir = join(tmp, 'std');
  train(dir, 'std');
  const live = torch.liveTensors();
  const { report } = await adversarialRun({ run: dir, limit: 24, attacks: ['pgd-l2', 'pgd'], eps: [0.1], l2Eps: [1.5], detectors: ['gate'], fitTrainLimit: 64,
    adaptiveWeights: [10], batchSize: 24, out: join(tmp, 'std-adv') });
  // <=: tensors left unreferenced by earlier code may be collected meanwhile; a leak would add dozens per batch.
  assert.ok(torch.liveTensors() <= live, `live tensors grew from ${live} to ${torch.liveTensors()} over a run (model, gate, attacks and detectors should be freed)`);
  assert.deepEqual(report.attacks.map((a) => a.key), ['pgd@0.1', 'pgd-l2@1.5', 'pgd-adaptive-w10@0.1']);
  const l2 = report.attacks[1]!;
  assert.deepEqual(report.settings.l2_eps, [1.5]);
  assert.ok(l2.successful === 0 || (l2.mean_l2! <= 1.5 + 1e-4 && l2.mean_l2! > 0), `pgd-l2 mean L2 ${l2.mean_l2} beyond its radius`);
  const adaptive = report.attacks[2]!;
  assert.equal(adaptive.adaptive_weight, 10);
  assert.ok(adaptive.mean_linf === null || adaptive.mean_linf <= 0.1 + 1e-6);
  assert.deepEqual(report.transfer, [], 'no FGSM, no transfer');
  assert.equal(report.settings.transfer, false);
  assert.equal(gateAurocOnPgd(dir), null, 'written elsewhere than RUN/adversarial');
});

test('the detectors\' statistics come from the images the run trained on (its --limit), normalized as in training', async () => {
  // The STD run above trained on the first 1024 training images: no more are used without --fit-train-limit.
  const dir = join(tmp, 'std');
  const notes: string[] = [];
  const { report } = await adversarialRun({ run: dir, limit: 24, attacks: ['fgsm'], eps: [0.1], detectors: ['mahalanobis'], adaptiveWeights: [],
    batchSize: 24, out: join(tmp, 'std-fit'), log: (s) => notes.push(s) });
  assert.equal(report.settings.fit_train_images, 1024);
  assert.ok(notes.some((s) => /mahalanobis detector on 1024 training images/.test(s)), notes.join('\n'));
});

test('adversarial refuses bad flags and a missing run by name', async () => {
  const base = { run: csgRun, limit: 8, out: join(tmp, 'bad') };
  await assert.rejects(adversarialRun({ ...base, attacks: ['fgsm', 'nope'] }),
    /--attacks: unknown name 'nope' \(known: fgsm, bim, pgd, pgd-l2, cw, deepfool, apgd-ce, apgd-dlr, apgd-t, square, autoattack\)/);
  await assert.rejects(adversarialRun({ ...base, detectors: ['gate', 'odin'] }), /--detectors: unknown name 'odin' \(known: gate, csg-lr, mahalanobis, squeeze, kdbu, lid\)/);
  await assert.rejects(adversarialRun({ ...base, eps: [0.1, 0] }), /--eps: every value must be > 0 and <= 1, got 0/);
  await assert.rejects(adversarialRun({ ...base, eps: [-0.1] }), /--eps: every value must be > 0 and <= 1, got -0.1/);
  await assert.rejects(adversarialRun({ ...base, fitFraction: 1 }), /--fit-fraction: expected a number in \(0, 1\), got 1/);
  await assert.rejects(adversarialRun({ ...base, run: join(tmp, 'nope') }), /nope is not a csgnet run folder/);
  const r = runCli(['adversarial', '--run', join(tmp, 'nope'), '--eps', '0.1,-1'], { env });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /csgnet: --eps: every value must be > 0 and <= 1, got -1/);
  const r2 = runCli(['adversarial', '--run', join(tmp, 'nope')], { env });
  assert.equal(r2.status, 1);
  assert.match(r2.stderr, /nope is not a csgnet run folder/);
});

test('adversarial names what is missing: too few images for the fitting split, an STD run without its training images', async () => {
  const classes = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
  const data = { name: 'fashion-mnist', classes, channels: 1, height: 28, width: 28 };
  const few = fakeRun(join(tmp, 'std-untrained'), { model: 'lenet', strategy: 'std', dataset: 'fashion-mnist' }, data);
  await assert.rejects(adversarialRun({ run: few, limit: 4, attacks: ['fgsm'], eps: [0.1], detectors: ['gate'], out: join(tmp, 'few') }),
    /4 images are too few for a 0.1 fitting split: 0 would fit the detectors and 4 be reported; use a larger --limit \(at least 5\)/);
  // An STD run whose data folder lost its training files: the test split still loads, the assignment cannot be made.
  const root = join(tmp, 'fmnist-test-only');
  mkdirSync(root);
  for (const f of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) copyFileSync(join('/usr/share/datasets/fashion-mnist', f), join(root, f));
  const dir = fakeRun(join(tmp, 'std-no-train'), { model: 'lenet', strategy: 'std', dataset: 'fashion-mnist', dataRoot: root }, { ...data, mean: [0.286], std: [0.353] });
  await assert.rejects(adversarialRun({ run: dir, limit: 40, attacks: ['fgsm'], eps: [0.1], detectors: ['gate'], out: join(tmp, 'no-train') }),
    /the detectors need the run's training images for the Mahalanobis statistics and this STD run's filter-to-class assignment \(its gate detector\), which cannot be read: .*train-images/);
  // A run made before the training statistics were recorded needs its training split for them too.
  const old = fakeRun(join(tmp, 'std-no-train-old'), { model: 'lenet', strategy: 'std', dataset: 'fashion-mnist', dataRoot: root }, data);
  await assert.rejects(adversarialRun({ run: old, limit: 40, attacks: ['fgsm'], eps: [0.1], detectors: ['gate'], out: join(tmp, 'no-train-old') }),
    /config\.json records no training normalization .*, and its training split cannot be read: .*train-images/);
});

test('a small --limit: the smallest accepted one is the one the refusal names, and it warns of too few samples', async () => {
  const lines: string[] = [];
  const out = join(tmp, 'small');
  const { report } = await adversarialRun({ run: csgRun, limit: 5, attacks: ['fgsm'], eps: [0.2], detectors: ['gate'], fitTrainLimit: 16, adaptiveWeights: [],
    out, log: (l) => lines.push(l) });
  assert.equal(report.settings.images, 5);
  assert.ok(lines.includes('warning: 5 images: 4 are reported, so every detector\'s metrics come from fewer than 30 samples per class (clean, noisy, adversarial) ' +
    'and are unreliable; --limit 33 or more gives 30 before selection'), lines.join('\n'));
  const e = report.attacks[0]!.eval.images;
  assert.ok(lines.includes(`warning: fgsm@0.2: ${e} reported images (samples per class), fewer than 30: its detector metrics are unreliable`), lines.join('\n'));
  assert.match(readFileSync(join(out, 'adversarial.md'), 'utf8'), new RegExp(`\\*\\*Few samples:\\*\\* fgsm@0\\.2 \\(${e}\\) report fewer than 30 images per class`));
  const h = runCli(['adversarial', '--help'], { env });
  assert.match(h.stdout.replace(/\s+/g, ' '), /default 1000, 0 = the whole split \(10,000 Fashion-MNIST test images: up to 170,000 attacked image-settings/);
});

test('csgnet adversarial --attacks deepfool,apgd-ce: the torchattacks ports run from the CLI, with queries and seconds in adversarial.json', () => {
  if (!existsSync(csgRun)) train(csgRun, 'csg');   // alone (--test-name-pattern) it trains the run itself
  const out = join(tmp, 'cli-new-attacks');
  const r = runCli(['adversarial', '--run', csgRun, '--attacks', 'deepfool,apgd-ce', '--eps', '0.2', '--limit', '40', '--detectors', 'gate',
    '--fit-train-limit', '64', '--no-adaptive', '--no-transfer', '--batch', '16', '--threads', '1', '--progress', 'none', '--out', out], { env });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(out, 'adversarial.json'), 'utf8'));
  assert.deepEqual(report.attacks.map((a: { key: string }) => a.key), ['deepfool', 'apgd-ce@0.2']);
  const [df, apgd] = report.attacks as { attacked: number; queries_per_image: number; seconds: number; successful: number }[];
  // APGD-CE (10 steps): the clean forward, the start and one forward per step for every image (all are classified right)
  assert.equal(apgd!.queries_per_image, 12);
  // DeepFool: one forward per round while the image is not fooled, at most its 50 steps
  assert.ok(df!.queries_per_image >= 1 && df!.queries_per_image <= 50, `deepfool: ${df!.queries_per_image} queries per image`);
  assert.ok(df!.successful > 0, 'deepfool fools the tiny model');
  for (const a of [df!, apgd!]) assert.ok(a.seconds > 0 && Number.isFinite(a.seconds), `seconds ${a.seconds}`);
  assert.match(r.stdout + r.stderr, /apgd-ce@0\.2: success [\d.]+ % of \d+ \(12\.0 queries per image, [\d.]+ s\)/);
});
