// The trainer end to end on a slice of Fashion-MNIST: exact resume (2 + 2 epochs == 4), seed
// determinism, the NaN guard keeping the last good checkpoint, Ctrl-C mid-epoch, bad configurations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as torch from '../src/torch/index.js';
import { CIFAR_PRESET, validateConfig, type TrainConfig } from '../src/csg/config.js';
import { Trainer, TrainingError, readMetrics } from '../src/csg/trainer.js';
import { epochPath } from '../src/csg/schedule.js';
import { loadSnapshot, checkpointPath } from '../src/csg/checkpoint.js';
import { CLI, runCli, spawnCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-trainer-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function cfg(over: Partial<TrainConfig> = {}): TrainConfig {
  // Single-threaded so that runs are bit-for-bit repeatable; every second epoch is a CSG epoch.
  return { ...structuredClone(CIFAR_PRESET), model: 'resnet20', epochs: 4, batchSize: 64, limit: 256, valLimit: 200, threads: 1,
    period: 2, phaseMin: 1, ...over };
}

const strip = (ms: any[]) => ms.map(({ seconds, ...rest }) => rest);
const quiet = {};

test('schedule follows method.md (warmup, period, phaseMin)', () => {
  const s = { strategy: 'csg' as const, warmup: 10, period: 3, phaseMin: 2 };
  const paths = Array.from({ length: 16 }, (_, e) => epochPath(e, s));
  assert.deepEqual(paths.map((p, e) => (p === 'csg' ? e : -1)).filter((e) => e >= 0), [11, 14]);
  assert.equal(epochPath(5, { ...s, strategy: 'std' }), 'std');
});

test('4 epochs in one go == 2 epochs, resume, 2 more (same metrics, same weights), with or without loader workers', async () => {
  const a = join(tmp, 'full'), b = join(tmp, 'split');
  const t1 = await Trainer.create(cfg(), { outDir: a, log: () => {} });
  await t1.run(quiet);
  // The split run prepares its batches in 2 worker threads: that must not change a single number.
  const t2 = await Trainer.create(cfg({ workers: 2 }), { outDir: b, log: () => {} });
  const first = await t2.run({ ...quiet, stopAfterEpochs: 2 });
  assert.equal(first.completed, false);
  assert.equal(readMetrics(b).length, 2);
  const t3 = await Trainer.resume({ outDir: b, log: () => {} });
  assert.equal(t3.config.epochs, 4, 'resume uses the run\'s own config.json');
  assert.equal(t3.config.workers, 2);
  await t3.run(quiet);
  const ma = readMetrics(a), mb = readMetrics(b);
  assert.equal(ma.length, 4);
  assert.deepEqual(strip(mb), strip(ma));
  assert.deepEqual(ma.map((m) => m.path), ['std', 'csg', 'std', 'csg']);
  assert.ok(ma[1].density! < 1 && ma[1].train_reg > 0, 'CSG epochs log density and the penalty');
  const sa = loadSnapshot(checkpointPath(a, 'last')), sb = loadSnapshot(checkpointPath(b, 'last'));
  for (const k of Object.keys(sa.tensors)) if (k !== 'rng.torch') assert.ok(sa.tensors[k].equal(sb.tensors[k]), `tensor ${k} differs`);
});

test('same seed gives the same metrics; another seed does not', async () => {
  const run = async (dir: string, seed: number) => {
    const t = await Trainer.create(cfg({ epochs: 2, seed }), { outDir: join(tmp, dir), log: () => {} });
    await t.run(quiet);
    return strip(readMetrics(join(tmp, dir)));
  };
  const x = await run('s1', 7), y = await run('s2', 7), z = await run('s3', 8);
  assert.deepEqual(x, y);
  assert.notDeepEqual(x, z);
});

test('a NaN loss stops with a clear error and keeps the last good checkpoint', async () => {
  const dir = join(tmp, 'nan');
  const t = await Trainer.create(cfg({ epochs: 3 }), { outDir: dir, log: () => {} });
  await t.run({ ...quiet, stopAfterEpochs: 1 });
  const ckpt = checkpointPath(dir, 'last');
  const before = readFileSync(ckpt);
  torch.noGrad(() => t.model.fc.weight.fill_(NaN));
  await assert.rejects(t.run(quiet), (e: Error) => e instanceof TrainingError && /loss is NaN at epoch 1, batch 0/.test(e.message) && e.message.includes(ckpt));
  assert.ok(readFileSync(ckpt).equals(before), 'checkpoint untouched');
  assert.equal(loadSnapshot(ckpt).state.epoch, 1);
  assert.equal(readMetrics(dir).length, 1);
});

test('invalid configurations name the field', () => {
  assert.throws(() => validateConfig(cfg({ rho: 0 })), /rho must be in \(0, 1\]/);
  assert.throws(() => validateConfig(cfg({ phaseMin: 5, period: 3 })), /phaseMin \(5\) must be <= period/);
  assert.throws(() => validateConfig(cfg({ epochs: 0 })), /epochs must be an integer >= 1/);
  assert.throws(() => validateConfig({ ...cfg(), std: { ...cfg().std, lr: -1 } }), /std.lr must be a positive number/);
});

test('an existing run is not overwritten without --resume', async () => {
  await assert.rejects(Trainer.create(cfg(), { outDir: join(tmp, 'full'), log: () => {} }), /already holds a run; use --resume/);
  await assert.rejects(Trainer.resume({ outDir: join(tmp, 'nothing-here'), log: () => {} }), /config.json not found/);
});


test('CLI rejects bad flags and values with clear messages', () => {
  const r1 = runCli(['train', '--out', join(tmp, 'x'), '--epochs', 'three']);
  assert.notEqual(r1.status, 0);
  assert.match(r1.stderr, /--epochs.*expected an integer >= 1, got 'three'/);
  const r2 = runCli(['train', '--out', join(tmp, 'x'), '--model', 'resnet7']);
  assert.match(r2.stderr, /Allowed choices are/);
  const r3 = runCli(['train', '--out', join(tmp, 'x'), '--bogus']);
  assert.match(r3.stderr, /unknown option '--bogus'/);
  const r4 = runCli(['eval', '--run', join(tmp, 'missing')]);
  assert.match(r4.stderr, /is not a csgnet run folder/);
  const r5 = runCli(['train', '--out', join(tmp, 'x'), '--dataset', 'mnist', '--data-root', join(tmp, 'no-such-dir'), '--epochs', '1', '--allow-no-csg']);
  assert.notEqual(r5.status, 0);
  assert.match(r5.stderr, /no-such-dir/);
  const r6 = runCli(['train', '--out', join(tmp, 'x'), '--workers', '-1']);
  assert.match(r6.stderr, /--workers.*expected an integer >= 0, got '-1'/);
});

test('Ctrl-C mid-epoch saves a checkpoint; --resume finishes with the metrics of an uninterrupted run', async () => {
  const args = ['train', '--dataset', 'fashion-mnist', '--model', 'resnet20', '--strategy', 'csg', '--epochs', '2', '--batch', '32',
    '--limit', '640', '--val-limit', '200', '--threads', '1', '--period', '2', '--phase-min', '1', '--progress', 'plain'];
  const whole = join(tmp, 'whole'), cut = join(tmp, 'cut');
  assert.equal(runCli([...args, '--out', whole]).status, 0);
  const child = spawnCli([...args, '--out', cut], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  let sent = false;
  child.stderr!.on('data', (d) => {
    err += d;
    if (!sent && /epoch 2\/2 csg: \d+\/20 batches/.test(err)) { sent = true; child.kill('SIGINT'); }
  });
  const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  assert.ok(sent, 'saw progress before interrupting');
  assert.equal(code, 130, err);
  assert.match(err, /saved .*last\.safetensors at epoch 1, batch \d+; continue with --resume/);
  const snap = loadSnapshot(checkpointPath(cut, 'last'));
  assert.equal(snap.state.epoch, 1);
  assert.ok(snap.state.nextBatch > 0 && snap.state.nextBatch < 20);
  const r = runCli(['train', '--out', cut, '--resume', '--progress', 'none']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(strip(readMetrics(cut)).map((m) => ({ ...m })), strip(readMetrics(whole)));
  assert.ok(existsSync(checkpointPath(cut, 'best')) && statSync(checkpointPath(cut, 'best')).size > 0);
});
