// kill -9 at every phase of a run: mid-batch, each checkpoint write and rename, the best copy, the
// metrics line, the config, and the repairs a resume makes. Each chain kills a fresh run at one or
// more points (CSGNET_FAULT, util/faults.ts: SIGKILL at that instant), then resumes it to the end; the
// folder must then equal an uninterrupted single-threaded run's bit for bit: every checkpoint tensor,
// the trainer state, and metrics.jsonl with no duplicate, missing or partial line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors } from '../src/torch/io/safetensors.js';
import { spawnCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-crash-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

// 2 epochs (STD, then CSG) of 4 batches, a mid-epoch checkpoint after batches 2 of each epoch.
const ARGS = ['train', '--dataset', 'fashion-mnist', '--model', 'resnet20', '--strategy', 'csg', '--epochs', '2', '--batch', '32',
  '--limit', '128', '--val-limit', '100', '--threads', '1', '--period', '2', '--phase-min', '1', '--checkpoint-every', '2', '--progress', 'none'];

interface Exit { code: number | null; signal: NodeJS.Signals | null; stderr: string }

function runCli(args: string[], fault?: string): Promise<Exit> {
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '1' };
  delete env.CSGNET_FAULT;
  if (fault) env.CSGNET_FAULT = fault;
  return new Promise((resolve) => {
    const child = spawnCli(args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += d; });
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** A fresh run killed at each fault in turn (the first in `train`, the rest in `--resume`), then finished. */
async function chain(dir: string, faults: string[]): Promise<void> {
  for (let i = 0; i <= faults.length; i++) {
    // Killed before its config.json existed, a run can only be started again with the same command.
    const args = existsSync(join(dir, 'config.json')) ? ['train', '--out', dir, '--resume', '--progress', 'none'] : [...ARGS, '--out', dir];
    const r = await runCli(args, faults[i]);
    if (i < faults.length) assert.equal(r.signal, 'SIGKILL', `fault ${faults[i]} was never reached (exit ${r.code}): ${r.stderr}`);
    else assert.equal(r.code, 0, `finishing after ${faults.join(', ')}: ${r.stderr}`);
  }
}

const strip = (m: any) => { const { seconds, ...rest } = m; return rest; };

function stateWithoutTimes(s: any): any {
  return { ...s, stats: strip(s.stats), history: s.history.map(strip) };
}

function assertSameRun(dir: string, ref: string, what: string): void {
  const text = readFileSync(join(dir, 'metrics.jsonl'), 'utf8');
  assert.ok(text.endsWith('\n'), `${what}: metrics.jsonl ends in a partial line`);
  const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l));
  const refLines = readFileSync(join(ref, 'metrics.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((m) => m.epoch), [0, 1], `${what}: one line per epoch`);
  assert.deepEqual(lines.map(strip), refLines.map(strip), `${what}: metrics`);
  for (const which of ['last', 'best']) {
    const a = loadSafetensors(join(dir, 'checkpoints', `${which}.safetensors`));
    const b = loadSafetensors(join(ref, 'checkpoints', `${which}.safetensors`));
    assert.deepEqual(Object.keys(a.tensors).sort(), Object.keys(b.tensors).sort(), `${what}: ${which} tensor names`);
    for (const k of Object.keys(b.tensors)) assert.ok(a.tensors[k].equal(b.tensors[k]), `${what}: ${which} tensor ${k} differs`);
    assert.deepEqual(stateWithoutTimes(JSON.parse(a.metadata.state)), stateWithoutTimes(JSON.parse(b.metadata.state)), `${what}: ${which} trainer state`);
  }
  const left = [...readdirSync(dir), ...readdirSync(join(dir, 'checkpoints'))].filter((n) => n.includes('.tmp-') || n === 'lock');
  assert.deepEqual(left, [], `${what}: temp files or lock left behind`);
}

// Write order per epoch end: last checkpoint (write, rename), best copy (write, rename), metrics line.
const CHAINS: Record<string, string[]> = {
  'config write': ['before-rename:config.json@1'],
  'after the config, before any checkpoint': ['after-rename:config.json@1'],
  'mid-batch before the first checkpoint': ['batch@1'],
  'mid-epoch checkpoint write': ['before-rename:last.safetensors@1'],
  'after a mid-epoch checkpoint, then mid-batch': ['after-rename:last.safetensors@1', 'batch@1'],
  'epoch-end checkpoint write': ['before-rename:last.safetensors@2'],
  'epoch-end checkpoint renamed, best not copied': ['after-rename:last.safetensors@2'],
  'best copy write': ['before-rename:best.safetensors@1'],
  'best copied, metrics line not written': ['after-rename:best.safetensors@1'],
  'metrics line half written': ['metrics-partial@1'],
  'killed again while resume repairs the best copy': ['before-rename:best.safetensors@1', 'before-rename:best.safetensors@1'],
  'killed again while resume rewrites metrics.jsonl': ['after-rename:best.safetensors@1', 'before-rename:metrics.jsonl@1'],
  'mid-batch in the CSG epoch': ['batch@6'],
};

test('kill -9 at every phase, then --resume: the same run as without a kill, bit for bit', async () => {
  const ref = join(tmp, 'ref');
  const r = await runCli([...ARGS, '--out', ref]);
  assert.equal(r.code, 0, r.stderr);
  const names = Object.keys(CHAINS);
  // Two chains at a time (each process is single-threaded).
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const i = next++;
      const dir = join(tmp, `chain${i}`);
      await chain(dir, CHAINS[names[i]]);
      assertSameRun(dir, ref, names[i]);
    }
  };
  await Promise.all([worker(), worker()]);
});
