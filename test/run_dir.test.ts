// Run folders under hostile use: foreign or empty --out, two processes on one folder, stale locks and
// temp files, SIGTERM/SIGHUP, --resume with flags it cannot honour, extending and re-resuming a
// finished run, and the NaN guard before any checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync, type ChildProcess } from 'node:child_process';
import * as torch from '../src/torch/index.js';
import { CIFAR_PRESET, type TrainConfig } from '../src/csg/config.js';
import { Trainer, TrainingError, readMetrics } from '../src/csg/trainer.js';
import { loadSnapshot, checkpointPath } from '../src/csg/checkpoint.js';
import { FolderLock, LockedError } from '../src/util/lock.js';
import { removeStaleTemps, writeFileAtomic } from '../src/util/atomic.js';
import { runCli, spawnCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-rundir-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const env = { ...process.env, OMP_NUM_THREADS: '1' };
const SMALL = ['train', '--dataset', 'fashion-mnist', '--model', 'resnet20', '--strategy', 'csg', '--allow-no-csg', '--batch', '32', '--val-limit', '100',
  '--threads', '1', '--period', '2', '--phase-min', '1', '--progress', 'none'];
const csgnet = (args: string[]) => runCli(args, { env });

/** A pid that is certainly not running: a child that has exited. */
function deadPid(): number {
  return spawnSync('true').pid!;
}

test('--out refuses an empty path and a non-empty folder that is not a run, touching nothing', () => {
  const r1 = csgnet([...SMALL, '--epochs', '1', '--out', '']);
  assert.notEqual(r1.status, 0);
  assert.match(r1.stderr, /--out must name a folder, got an empty path/);
  const foreign = join(tmp, 'foreign');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'config.txt'), 'mine');
  writeFileSync(join(foreign, 'metrics.jsonl'), 'not yours\n');
  const r2 = csgnet([...SMALL, '--epochs', '1', '--out', foreign]);
  assert.notEqual(r2.status, 0);
  assert.match(r2.stderr, /--out .*foreign is not empty and is not a csgnet run folder \(it holds config\.txt, metrics\.jsonl\)/);
  assert.deepEqual(readdirSync(foreign).sort(), ['config.txt', 'metrics.jsonl']);
  assert.equal(readFileSync(join(foreign, 'metrics.jsonl'), 'utf8'), 'not yours\n');
});

test('--out inside another run\'s folder is refused before any work', () => {
  const outer = join(tmp, 'outer');
  mkdirSync(join(outer, 'localization'), { recursive: true });
  writeFileSync(join(outer, 'config.json'), '{}');
  const r = csgnet([...SMALL, '--epochs', '1', '--out', join(outer, 'localization', 'nested')]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--out .*nested is inside run .*outer; choose a folder outside it/);
  assert.equal(existsSync(join(outer, 'localization', 'nested')), false);
});

test('a folder lock: a live owner refuses, a dead one or a reused PID is stale, another host refuses', () => {
  const dir = join(tmp, 'locks');
  mkdirSync(dir);
  const path = join(dir, 'lock');
  const a = FolderLock.acquire(path, 'run folder X');
  assert.throws(() => FolderLock.acquire(path, 'run folder X'), (e: Error) => e instanceof LockedError &&
    e.message.includes(`run folder X is in use by process ${process.pid} on this host`));
  a.release();
  assert.ok(!existsSync(path));
  writeFileSync(path, JSON.stringify({ pid: deadPid(), host: hostname(), start: '1', since: 'then' }));
  FolderLock.acquire(path, 'run folder X').release();
  // Our own PID, but recorded with another start time: the process that wrote it is gone.
  writeFileSync(path, JSON.stringify({ pid: process.pid, host: hostname(), start: '1', since: 'then' }));
  FolderLock.acquire(path, 'run folder X').release();
  writeFileSync(path, '{"pid": 12'); // half-written by a killed process
  FolderLock.acquire(path, 'run folder X').release();
  writeFileSync(path, JSON.stringify({ pid: 1, host: 'elsewhere', start: null, since: 'then' }));
  assert.throws(() => FolderLock.acquire(path, 'run folder X'), /locked by process 1 on host elsewhere .*remove .*lock/);
});

test('temp files of dead writers are removed, a live writer\'s are kept', () => {
  const dir = join(tmp, 'temps');
  mkdirSync(dir);
  const dead = `.last.safetensors.tmp-${deadPid()}-3`, live = `.best.safetensors.tmp-${process.ppid}-0`;
  for (const n of [dead, live, 'last.safetensors', 'x.tmp']) writeFileSync(join(dir, n), 'x');
  assert.deepEqual(removeStaleTemps(dir), [dead]);
  assert.deepEqual(readdirSync(dir).sort(), [live, 'last.safetensors', 'x.tmp'].sort());
  writeFileAtomic(join(dir, 'a.json'), '{}');
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('a.json')), ['a.json']);
});

/** Starts a training process and resolves once it has printed a progress line. */
function startTraining(args: string[]): Promise<{ child: ChildProcess; stderr: () => string; exit: Promise<number | null> }> {
  const child = spawnCli(args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exit = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d;
      if (/\d+\/100 batches/.test(err)) resolve({ child, stderr: () => err, exit });
    });
    exit.then((c) => reject(new Error(`training exited (${c}) before any progress: ${err}`)));
  });
}

test('SIGTERM and SIGHUP save a checkpoint and stop like SIGINT; a second process on a locked folder is refused', async () => {
  for (const [sig, code] of [['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    const dir = join(tmp, `sig-${sig}`);
    const t = await startTraining([...SMALL.filter((a) => a !== 'none' && a !== '--progress'), '--progress', 'plain', '--epochs', '1', '--limit', '3200', '--out', dir]);
    if (sig === 'SIGTERM') {
      const second = csgnet(['train', '--out', dir, '--resume']);
      assert.notEqual(second.status, 0);
      assert.match(second.stderr, new RegExp(`run folder .*sig-SIGTERM is in use by process ${t.child.pid} on this host`));
    }
    t.child.kill(sig);
    assert.equal(await t.exit, code, t.stderr());
    assert.match(t.stderr(), new RegExp(`${sig}: finishing this batch`));
    assert.match(t.stderr(), /saved .*last\.safetensors at epoch 0, batch \d+; continue with --resume/);
    const s = loadSnapshot(checkpointPath(dir, 'last')).state;
    assert.ok(s.epoch === 0 && s.nextBatch > 0 && s.nextBatch < 100, JSON.stringify({ epoch: s.epoch, nextBatch: s.nextBatch }));
    assert.ok(!existsSync(join(dir, 'lock')), 'lock released');
  }
});

test('--resume: refuses flags it cannot honour by name, says when a run is finished, extends with --epochs', () => {
  const dir = join(tmp, 'finished');
  assert.equal(csgnet([...SMALL, '--epochs', '1', '--limit', '64', '--out', dir]).status, 0);
  const refused = csgnet(['train', '--out', dir, '--resume', '--lr', '0.5', '--model', 'resnet32', '--epochs', '2']);
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /--resume continues the run with its own configuration; --model, --lr cannot change \(allowed with --resume: --epochs, --threads, --workers, --checkpoint-every, --progress, --stop-after, --nproc, --dist-timeout\)/);
  const again = csgnet(['train', '--out', dir, '--resume']);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /the run is finished \(1\/1 epochs\); nothing to do/);
  const fewer = csgnet(['train', '--out', dir, '--resume', '--epochs', '1', '--threads', '1']);
  assert.equal(fewer.status, 0, fewer.stderr);
  assert.equal(readMetrics(dir).length, 1);
  const more = csgnet(['train', '--out', dir, '--resume', '--epochs', '2']);
  assert.equal(more.status, 0, more.stderr);
  assert.match(more.stderr, /resuming .* at epoch 1, batch 0 of 2 epochs/);
  assert.deepEqual(readMetrics(dir).map((m) => [m.epoch, m.path]), [[0, 'std'], [1, 'csg']]);
  assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).train.epochs, 2);
  const less = csgnet(['train', '--out', dir, '--resume', '--epochs', '1']);
  assert.notEqual(less.status, 0);
  assert.match(less.stderr, /--epochs 1 is fewer than the 2 epochs .* has already trained/);
});

test('a NaN loss before the first checkpoint does not claim one exists', async () => {
  const cfg: TrainConfig = { ...structuredClone(CIFAR_PRESET), epochs: 1, batchSize: 32, limit: 64, valLimit: 32, threads: 1 };
  const dir = join(tmp, 'nan0');
  const t = await Trainer.create(cfg, { outDir: dir, log: () => {} });
  torch.noGrad(() => t.model.fc.weight.fill_(NaN));
  await assert.rejects(t.run(), (e: Error) => e instanceof TrainingError &&
    /loss is NaN at epoch 0, batch 0 \(std path\); stopped; no checkpoint had been saved yet/.test(e.message) && !e.message.includes('kept at'));
  assert.ok(!existsSync(checkpointPath(dir, 'last')));
  assert.ok(!existsSync(join(dir, 'lock')), 'lock released after the error');
});
