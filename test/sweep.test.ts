// csgnet sweep: grid parsing and its errors, run names, the plan, child flags and thread split; end to
// end on tiny LeNet runs: a sweep, Ctrl-C (one SIGINT forwarded, children save), resume, and a rerun
// that skips everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { childArgs, configValue, parseGrid, parseSeeds, planSweep, prepareSweep, readSweep, runName, runState, sweepRunDirs } from '../src/app/sweep.js';
import { runSweep, threadsPerRun, type JobStatus } from '../src/app/sweep_run.js';
import { CIFAR_PRESET } from '../src/csg/config.js';
import { readMetrics, readRunInfo } from '../src/csg/run_dir.js';
import { CLI, runCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-sweep-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
// Tiny runs: LeNet on 512 images, CSG on odd epochs.
const TRAIN = ['--model', 'lenet', '--limit', '512', '--val-limit', '200', '--batch', '64', '--period', '2', '--phase-min', '1'];

test('parseGrid: axes, typed values, key aliases; errors name the key and value', () => {
  assert.deepEqual(parseGrid('lambda=0.01,0.1,1; rho=0.05,0.2 ;strategy=std,csg'), [
    { key: 'lambda', values: [0.01, 0.1, 1] }, { key: 'rho', values: [0.05, 0.2] }, { key: 'strategy', values: ['std', 'csg'] }]);
  assert.deepEqual(parseGrid('phase-min=1,2;hflip=true,false;augment=per-batch'), [
    { key: 'phaseMin', values: [1, 2] }, { key: 'hflip', values: [true, false] }, { key: 'augment', values: ['per-batch'] }]);
  assert.throws(() => parseGrid('rho=0.1,2'), /--grid rho=2: invalid configuration: rho must be in \(0, 1\], got 2/);
  assert.throws(() => parseGrid('lambda=-1'), /--grid lambda=-1: invalid configuration: lambda must be >= 0/);
  assert.throws(() => parseGrid('strategy=std,gated'), /--grid strategy=gated: expected one of std, csg/);
  assert.throws(() => parseGrid('lr=fast'), /--grid lr=fast: expected a number/);
  assert.throws(() => parseGrid('epochs=1.5'), /--grid epochs=1.5: expected an integer/);
  assert.throws(() => parseGrid('lamda=0.1'), /--grid: unknown key 'lamda' \(known: strategy, lambda, rho/);
  assert.throws(() => parseGrid('seed=1,2'), /seed is not a grid key; use --seeds/);
  assert.throws(() => parseGrid('lambda 0.1'), /'lambda 0.1' is not KEY=V1,V2/);
  assert.throws(() => parseGrid('rho=0.1;rho=0.2'), /key 'rho' appears twice/);
  assert.throws(() => parseGrid('rho=0.1,'), /--grid rho=: empty value/);
  assert.throws(() => parseGrid(' ; '), /no axes/);
  assert.deepEqual(parseSeeds('3'), [0, 1, 2]);
  assert.deepEqual(parseSeeds('3,7,11'), [3, 7, 11]);
  assert.throws(() => parseSeeds('0'), /at least 1 seed/);
  assert.throws(() => parseSeeds('1,x'), /--seeds: expected a count N or comma-separated/);
});

test('planSweep: grid x seeds with readable names; train flags the sweep or the grid sets are refused', () => {
  const spec = planSweep(parseGrid('strategy=std,csg;lambda=0.1,1'), [0, 1], ['--model', 'lenet']);
  // STD ignores lambda: one STD run per seed, then CSG x 2 lambdas.
  assert.deepEqual(spec.runs.map((r) => r.name), ['strategy=std,seed=0', 'strategy=std,seed=1', 'strategy=csg,lambda=0.1,seed=0',
    'strategy=csg,lambda=0.1,seed=1', 'strategy=csg,lambda=1,seed=0', 'strategy=csg,lambda=1,seed=1']);
  assert.deepEqual(spec.runs[0]!.point, { strategy: 'std' });
  assert.equal(planSweep(parseGrid('strategy=std,csg;lr=0.1,0.2'), [0]).runs.length, 4, 'STD reads lr: no runs merged');
  assert.throws(() => planSweep(parseGrid('rho=0.1,0.2'), [0], ['--strategy', 'std']), /--grid rho: STD runs \(--strategy std\) ignore it/);
  assert.throws(() => planSweep(parseGrid('lambda=0.1,1'), [0], ['--strategy=std']), /--grid lambda: STD runs/);
  assert.equal(runName({ model: 'a/b c' }, 2), 'model=a_b_c,seed=2');
  assert.throws(() => planSweep(parseGrid('rho=0.1'), [0], ['--seed', '3']), /--seed: the sweep sets it/);
  assert.throws(() => planSweep(parseGrid('rho=0.1'), [0], ['--out=x']), /--out: the sweep sets it/);
  assert.throws(() => planSweep(parseGrid('rho=0.1'), [0], ['--rho', '0.2']), /--rho: key 'rho' is a grid axis/);
  assert.throws(() => planSweep(parseGrid('hflip=true,false'), [0], ['--no-hflip']), /--no-hflip: key 'hflip' is a grid axis/);
  const run = spec.runs[3]!;
  assert.deepEqual(childArgs(spec, run, '/s/x', 3, false), ['train', '--out', '/s/x', '--threads', '3', '--progress', 'none', '--model', 'lenet', '--strategy', 'csg', '--lambda', '0.1', '--seed', '1']);
  assert.deepEqual(childArgs(spec, run, '/s/x', 3, true), ['train', '--out', '/s/x', '--threads', '3', '--progress', 'none', '--resume']);
  const noFlip = planSweep(parseGrid('hflip=false'), [0]);
  assert.ok(childArgs(noFlip, noFlip.runs[0]!, 'd', 1, false).includes('--no-hflip'));
  assert.deepEqual([threadsPerRun(16, 3), threadsPerRun(2, 4), threadsPerRun(8, 1)], [5, 1, 8]);
  assert.equal(configValue(CIFAR_PRESET, 'lr'), 0.1);
  assert.equal(configValue(CIFAR_PRESET, 'weight-decay'), 1e-4);
  assert.equal(configValue(CIFAR_PRESET, 'rho'), 0.1);
  assert.equal(configValue({ ...CIFAR_PRESET, strategy: 'std' }, 'rho'), undefined, 'an STD run ignores rho');
  assert.equal(configValue({ ...CIFAR_PRESET, strategy: 'std' }, 'lr'), 0.1);
  assert.throws(() => configValue(CIFAR_PRESET, 'colour'), /--group-by: unknown key 'colour'/);
});

test('an existing sweep resumes with its own settings; other settings are refused', () => {
  const out = join(tmp, 'spec');
  const spec = prepareSweep({ out, grid: parseGrid('rho=0.1,0.2'), seeds: [0], trainArgs: ['--epochs', '1'] });
  assert.deepEqual(readSweep(out), spec);
  assert.deepEqual(prepareSweep({ out }), spec);
  assert.deepEqual(prepareSweep({ out, grid: parseGrid('rho=0.1,0.2'), seeds: [0], trainArgs: ['--epochs', '1'] }), spec);
  assert.throws(() => prepareSweep({ out, grid: parseGrid('rho=0.1,0.3') }), /sweep.json was made with grid .*0\.2.*; resume it with the same settings or without --grid/);
  assert.throws(() => prepareSweep({ out, trainArgs: ['--epochs', '2'] }), /resuming keeps its train flags/);
  assert.throws(() => prepareSweep({ out, seeds: [1] }), /has seeds \[0\]: --seeds may add seeds to a sweep but not drop 0/);
  // More seeds: their runs are added after the existing ones, and sweep.json says so.
  const more = prepareSweep({ out, seeds: [0, 1, 2] });
  assert.deepEqual(more.seeds, [0, 1, 2]);
  assert.deepEqual(more.runs.map((r) => r.name), ['rho=0.1,seed=0', 'rho=0.2,seed=0', 'rho=0.1,seed=1', 'rho=0.1,seed=2', 'rho=0.2,seed=1', 'rho=0.2,seed=2']);
  assert.deepEqual(readSweep(out), more);
  assert.deepEqual(prepareSweep({ out, grid: parseGrid('rho=0.1,0.2'), seeds: [0, 1, 2], trainArgs: ['--epochs', '1'] }), more);
  assert.throws(() => prepareSweep({ out: join(tmp, 'nothing') }), /--grid is required for a new sweep/);
  assert.deepEqual(sweepRunDirs(out), [], 'no run started yet');
  assert.throws(() => sweepRunDirs(tmp), /no sweep.json \(not a csgnet sweep folder\)/);
});

test('a sweep trains every run with its point and seed, N at a time; progress per job; a rerun skips finished runs', async () => {
  const out = join(tmp, 'sweep');
  const seen: JobStatus[][] = [];
  const r = await runSweep({ out, grid: parseGrid('strategy=std,csg'), seeds: [0, 1], trainArgs: [...TRAIN, '--epochs', '2'], parallel: 2, threads: 2, pollMs: 100,
    events: { progress: (jobs) => seen.push(jobs.map((j) => ({ ...j }))) } });
  assert.deepEqual(r.failed, []);
  assert.equal(r.completed.length, 4);
  assert.ok(seen.every((jobs) => jobs.length <= 2), 'never more than --parallel jobs');
  for (const run of r.spec.runs) {
    const dir = join(out, run.name);
    const c = readRunInfo(dir).config;
    assert.equal(c.strategy, run.point.strategy);
    assert.equal(c.seed, run.seed);
    assert.equal(c.threads, 1, '2 threads over 2 parallel runs');
    assert.equal(c.model, 'lenet');
    assert.equal(readMetrics(dir).length, 2);
    assert.equal(runState(dir), 'done');
  }
  // Same seed, other strategy: the STD epoch 0 is the same; different seeds differ.
  const m = (n: string) => readMetrics(join(out, n));
  assert.equal(m('strategy=std,seed=0')[0]!.train_loss, m('strategy=csg,seed=0')[0]!.train_loss);
  assert.notEqual(m('strategy=std,seed=0')[0]!.train_loss, m('strategy=std,seed=1')[0]!.train_loss);
  assert.equal(m('strategy=csg,seed=0')[1]!.path, 'csg');
  const again = await runSweep({ out, threads: 2 });
  assert.deepEqual(again.skipped.length, 4);
  assert.deepEqual(again.completed, []);
  assert.deepEqual(sweepRunDirs(out), r.dirs);
});

test('CLI: Ctrl-C stops the children (they save), the sweep resumes them; a bad grid is named before any run', async () => {
  const bad = runCli(['sweep', '--out', join(tmp, 'bad'), '--grid', 'rho=0.1,2']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /csgnet: --grid rho=2: invalid configuration: rho must be in \(0, 1\], got 2/);
  assert.ok(!existsSync(join(tmp, 'bad')));

  const out = join(tmp, 'cli');
  const args = [CLI, 'sweep', '--out', out, '--grid', 'rho=0.1,0.2', '--parallel', '2', '--threads', '2', '--progress', 'plain', ...TRAIN, '--epochs', '2', '--limit', '2048'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const runs = ['rho=0.1,seed=0', 'rho=0.2,seed=0'].map((n) => join(out, n));
  // Interrupt once both runs are in their first epoch.
  const t0 = Date.now();
  while (!runs.every((d) => existsSync(join(d, 'events.jsonl')) && readFileSync(join(d, 'events.jsonl'), 'utf8').includes('"batch"'))) {
    assert.ok(Date.now() - t0 < 60000, `runs did not start: ${stderr}`);
    await new Promise((res) => setTimeout(res, 50));
  }
  child.kill('SIGINT');
  const code = await new Promise<number | null>((res) => child.on('close', res));
  assert.equal(code, 130, stderr);
  assert.match(stdout, /interrupted: run the same command/);
  assert.match(stderr, /stopped rho=0\.1,seed=0 at \d+ % \(resumable\)/);
  for (const d of runs) {
    assert.equal(runState(d), 'partial', `${d} should be unfinished`);
    assert.ok(existsSync(join(d, 'checkpoints', 'last.safetensors')), `${d}: the child saved a checkpoint`);
    assert.match(readFileSync(join(d, 'events.jsonl'), 'utf8'), /"event":"stop","reason":"interrupted"/);
  }
  const resumed = runCli(['sweep', '--out', out, '--progress', 'plain']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming rho=0\.1,seed=0/);
  assert.match(resumed.stdout, /2 runs trained, 0 already finished, 0 failed/);
  for (const d of runs) {
    assert.equal(readMetrics(d).length, 2);
    assert.deepEqual(readMetrics(d).map((m) => m.epoch), [0, 1]);
  }
});
