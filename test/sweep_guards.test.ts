// csgnet sweep as a process owner: the folder lock, a crafted sweep.json, train flags checked by the
// trainer's parser before anything starts, CSG-only keys without a CSG run, a failed run's real error,
// and a sweep killed with SIGKILL: its children stop (they watch it) and a rerun finishes their runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGrid, planSweep, prepareSweep, readSweep, runState } from '../src/app/sweep.js';
import { failureLine, runSweep, SWEEP_LOCK } from '../src/app/sweep_run.js';
import { readMetrics } from '../src/csg/run_dir.js';
import { packageRoot } from '../src/util/paths.js';
import { runCli, spawnCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-sweep-guards-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const TRAIN = ['--model', 'lenet', '--val-limit', '200', '--batch', '64', '--period', '2', '--phase-min', '1', '--allow-no-csg'];
const sweep = (args: string[]) => runCli(['sweep', ...args]);

test('CSG-only grid keys where no run is CSG are refused by name', () => {
  assert.throws(() => planSweep(parseGrid('strategy=std;lambda=0.1'), [0]), /--grid lambda: STD runs \(strategy=std, the only strategy in --grid\) ignore it/);
  assert.throws(() => planSweep(parseGrid('rho=0.1'), [0], ['--preset', 'cifar', '--strategy', 'std']), /--grid rho: STD runs \(--strategy std\) ignore it/);
  assert.equal(planSweep(parseGrid('strategy=std,csg;lambda=0.1,1'), [0]).runs.length, 3);
  assert.equal(planSweep(parseGrid('strategy=std;lr=0.1,0.2'), [0]).runs.length, 2, 'STD reads lr');
  const r = sweep(['--out', join(tmp, 'std-lambda'), '--grid', 'strategy=std;lambda=0.1']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /csgnet: --grid lambda: STD runs/);
  assert.ok(!existsSync(join(tmp, 'std-lambda')));
});

test('a crafted sweep.json (a run named ../../../x) is refused before anything runs', async () => {
  const out = join(tmp, 'crafted', 'a', 'b');
  const spec = prepareSweep({ out, grid: parseGrid('rho=0.1'), seeds: [0], trainArgs: [...TRAIN, '--epochs', '1'] });
  const file = join(out, 'sweep.json');
  writeFileSync(file, JSON.stringify({ ...spec, runs: [{ ...spec.runs[0], name: '../../../x' }] }));
  assert.throws(() => readSweep(out), /sweep\.json: run "\.\.\/\.\.\/\.\.\/x" is not named by its point and seed/);
  await assert.rejects(runSweep({ out, threads: 1 }), /run "\.\.\/\.\.\/\.\.\/x" is not named by its point and seed/);
  const r = sweep(['--out', out]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /csgnet: .*sweep\.json: run "\.\.\/\.\.\/\.\.\/x" is not named/);
  assert.ok(!existsSync(join(tmp, 'x')) && !existsSync(join(out, 'logs')), 'nothing was started');
  writeFileSync(file, JSON.stringify({ ...spec, runs: [{ ...spec.runs[0], point: { rho: 0.1, '../k': 1 } }] }));
  assert.throws(() => readSweep(out), /is not named by its point and seed/);
  writeFileSync(file, JSON.stringify({ ...spec, trainArgs: [1] }));
  assert.throws(() => readSweep(out), /trainArgs must be a list of strings/);
});

test("train flags go through the trainer's parser before anything is stored; a failed run shows its real error", async () => {
  const out = join(tmp, 'typo');
  const r = sweep(['--out', out, '--grid', 'rho=0.1,0.2', '--epochs', 'abc', ...TRAIN]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /csgnet: train flags .*csgnet train refuses them: option '--epochs <n>' argument 'abc' is invalid/);
  assert.doesNotMatch(r.stdout + r.stderr, /starting|FAILED/);
  assert.ok(!existsSync(out), 'nothing stored: the corrected command starts afresh');
  assert.equal(sweep(['--out', out, '--grid', 'rho=0.1', '--epoch', '1']).stderr.match(/unknown option '--epoch'/)?.length, 1);
  // The error line, not commander's usage hint.
  assert.equal(failureLine("starting\nerror: option '--x' is bad\n(run with --help for usage)\n"), "error: option '--x' is bad");
  assert.equal(failureLine('epoch 1\ncsgnet: warning: w\ncsgnet: data missing\nlast words\n'), 'csgnet: data missing');
  assert.equal(failureLine(''), null);
});

test('the sweep holds a lock on its folder: a live holder is named, a dead one is taken over', async () => {
  const out = join(tmp, 'locked');
  mkdirSync(out, { recursive: true });
  const sleeper = spawn('sleep', ['30']);
  try {
    writeFileSync(join(out, SWEEP_LOCK), JSON.stringify({ pid: sleeper.pid, host: hostname(), start: null, since: 'then' }));
    const r = sweep(['--out', out, '--grid', 'rho=0.1', ...TRAIN, '--epochs', '1', '--limit', '64']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`csgnet: sweep folder ${out.replace(/[/.]/g, '\\$&')} is in use by process ${sleeper.pid} on this host`));
    assert.ok(!existsSync(join(out, 'sweep.json')), 'the refused sweep stored nothing');
  } finally {
    sleeper.kill();
  }
  await new Promise((res) => sleeper.on('close', res));
  const r = await runSweep({ out, grid: parseGrid('rho=0.1'), trainArgs: [...TRAIN, '--epochs', '1', '--limit', '64'], threads: 1 });
  assert.deepEqual(r.failed, []);
  assert.ok(!existsSync(join(out, SWEEP_LOCK)), 'released');
});

test('a sweep killed with SIGKILL takes its children down (they save and stop); a rerun finishes their runs', async () => {
  const out = join(tmp, 'killed');
  const child = spawnCli(['sweep', '--out', out, '--grid', 'rho=0.1', '--threads', '1', '--progress', 'none', ...TRAIN, '--epochs', '2', '--limit', '2048'],
    { stdio: 'ignore' });
  const run = join(out, 'rho=0.1,seed=0');
  const t0 = Date.now();
  while (!(existsSync(join(run, 'events.jsonl')) && readFileSync(join(run, 'events.jsonl'), 'utf8').includes('"batch"'))) {
    assert.ok(Date.now() - t0 < 60_000, 'the run did not start');
    await new Promise((res) => setTimeout(res, 50));
  }
  const trainer = JSON.parse(readFileSync(join(run, 'lock'), 'utf8')).pid as number;
  child.kill('SIGKILL');
  await new Promise((res) => child.on('close', res));
  const t1 = Date.now();
  while (alive(trainer)) {
    assert.ok(Date.now() - t1 < 30_000, `the sweep's child ${trainer} kept running after the sweep was killed`);
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(runState(run), 'partial');
  assert.ok(existsSync(join(run, 'checkpoints', 'last.safetensors')), 'the child saved a checkpoint');
  assert.match(readFileSync(join(out, 'logs', 'rho=0.1,seed=0.log'), 'utf8'), /the process that started this one exited: finishing this batch, saving a checkpoint/);
  // The dead sweep's lock is stale: the rerun takes it over and resumes the run.
  const r = sweep(['--out', out, '--progress', 'plain']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /resuming rho=0\.1,seed=0/);
  assert.match(r.stdout, /1 runs trained, 0 already finished, 0 failed/);
  assert.deepEqual(readMetrics(run).map((m) => m.epoch), [0, 1]);
});

test("a rerun waits for a run folder still held by an earlier sweep's child, then trains it", async () => {
  const out = join(tmp, 'leftover');
  const spec = prepareSweep({ out, grid: parseGrid('rho=0.1'), seeds: [0], trainArgs: [...TRAIN, '--epochs', '1', '--limit', '64'] });
  const run = join(out, spec.runs[0]!.name);
  mkdirSync(run, { recursive: true });
  // A stand-in for a child of a killed sweep of this folder, 1.5 s from having saved and stopped.
  const lockJs = join(packageRoot(), 'dist', 'src', 'util', 'lock.js');
  const holder = spawn(process.execPath, ['--input-type=module', '-e',
    `const { FolderLock } = await import(${JSON.stringify(lockJs)}); FolderLock.acquire(${JSON.stringify(join(run, 'lock'))}, 'run'); console.log('held'); setTimeout(() => {}, 1500);`],
  { env: { ...process.env, CSGNET_SWEEP: out }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((res) => holder.stdout.once('data', res));
  const logs: string[] = [];
  const r = await runSweep({ out, threads: 1, events: { log: (l) => logs.push(l) } });
  assert.deepEqual(r.failed, []);
  assert.deepEqual(r.completed, [spec.runs[0]!.name]);
  assert.match(logs.join('\n'), new RegExp(`waiting for process ${holder.pid}, left by an earlier sweep of this folder, to save and stop`));
  // Another program's hold (no sweep of this folder started it) is not waited for: the run fails as before, naming it.
  const other = join(tmp, 'other');
  const spec2 = prepareSweep({ out: other, grid: parseGrid('rho=0.1'), seeds: [0], trainArgs: [...TRAIN, '--epochs', '1', '--limit', '64'] });
  mkdirSync(join(other, spec2.runs[0]!.name), { recursive: true });
  const foreign = spawn(process.execPath, ['--input-type=module', '-e',
    `const { FolderLock } = await import(${JSON.stringify(lockJs)}); FolderLock.acquire(${JSON.stringify(join(other, spec2.runs[0]!.name, 'lock'))}, 'run'); console.log('held'); setTimeout(() => {}, 30000);`],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((res) => foreign.stdout.once('data', res));
    const r2 = await runSweep({ out: other, threads: 1 });
    assert.equal(r2.failed.length, 1);
    assert.match(r2.failed[0]!.detail ?? '', new RegExp(`in use by process ${foreign.pid}`));
  } finally {
    foreign.kill();
  }
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
