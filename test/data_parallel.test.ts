// Data-parallel training (DistributedDataParallel semantics over c10d/gloo), between real processes:
// the primitives against one process on the whole batch in float64; `csgnet train --nproc 2` with
// batch B/2 against one process with batch B (exactly, up to float32 rounding, without BatchNorm;
// within the reference's own float32 noise with --sync-bn); a killed rank stops the others with an
// error; Ctrl-C and --stop-after then --resume on a 2-process CSG run; the launcher's environment and
// MASTER_PORT; no libtorch warning on a channels_last run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors } from '../src/torch/io/safetensors.js';
import { distributedEnv, freePort, launchLocal } from '../src/app/launch.js';
import { withoutOption } from '../src/cli/launch.js';
import { packageRoot } from '../src/util/paths.js';
import { assertClose } from './helpers.js';
import { CLI, runCli } from './support/cli.js';

const worker = join(packageRoot(), 'dist', 'test', 'support', 'ddp_worker.js');
const tmp = mkdtempSync(join(tmpdir(), 'csgnet-ddp-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const baseEnv = { ...process.env, OMP_NUM_THREADS: '1' };
for (const k of ['RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT', 'SLURM_NTASKS', 'SLURM_PROCID', 'CSGNET_FAULT', 'CSGNET_FAULT_RANK']) delete (baseEnv as any)[k];

interface Ran { code: number | null; signal: string | null; stdout: string; stderr: string; ms: number }

function run(cmd: string[], env: NodeJS.ProcessEnv = {}, onSpawn?: (p: ReturnType<typeof spawn>) => void): Promise<Ran> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn('node', cmd, { env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    onSpawn?.(child);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 }));
  });
}
const train = (args: string[], env?: NodeJS.ProcessEnv, onSpawn?: (p: ReturnType<typeof spawn>) => void) =>
  run([CLI, 'train', '--progress', 'none', '--threads', '1', ...args], env, onSpawn);

function ok(r: Ran, what: string): void {
  assert.equal(r.code, 0, `${what} failed (code ${r.code}, signal ${r.signal}):\n${r.stderr.slice(-3000)}`);
}

const checkpoint = (dir: string) => loadSafetensors(join(dir, 'checkpoints', 'last.safetensors')).tensors;
const metrics = (dir: string) => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const floats = (t: any): Float64Array => Float64Array.from(t.to('float64').flatten().data() as Float64Array);

/** Largest |a - b| over the float tensors two checkpoints share, and its key. */
function maxAbsDiff(a: Record<string, any>, b: Record<string, any>, prefix = ''): { diff: number; key: string } {
  let diff = 0, key = '';
  for (const k of Object.keys(a)) {
    if (!k.startsWith(prefix) || a[k].dtype !== 'float32') continue;
    assert.ok(b[k], `checkpoint lacks ${k}`);
    const d = a[k].sub(b[k]).abs().max().item();
    if (d > diff) { diff = d; key = k; }
  }
  return { diff, key };
}

/** Largest ||a - b|| / ||a|| over the model and optimizer tensors of two checkpoints. */
function worstRelative(a: Record<string, any>, b: Record<string, any>): number {
  let worst = 0;
  for (const k of Object.keys(a)) {
    if (!(k.startsWith('model.') || k.startsWith('optim.')) || a[k].dtype !== 'float32') continue;
    const n = a[k].norm().item();
    if (n > 0) worst = Math.max(worst, a[k].sub(b[k]).norm().item() / n);
  }
  return worst;
}

test('GradientReducer, SyncBatchNorm and the parameter broadcast over 2 processes equal one process on the whole batch (float64)', async () => {
  const ref = JSON.parse((await run([worker, '1', '0', '0', '0'])).stdout.trim());
  assert.ok(ref.params, JSON.stringify(ref));
  const both = async (sync: number) => {
    const port = await freePort();
    const rs = await Promise.all([0, 1].map((r) => run([worker, '2', String(r), String(port), String(sync)])));
    return rs.map((r) => { const out = JSON.parse(r.stdout.trim().split('\n').pop()!); assert.equal(r.code, 0, JSON.stringify(out)); return out; });
  };
  for (const out of await both(1)) {
    // Gradients of the first step, then the weights and running statistics after three SGD steps.
    out.firstGrads.forEach((g: number[], i: number) => assertClose(g, ref.firstGrads[i], 1e-12, 1e-10, `rank ${out.rank} grad ${i}`));
    out.params.forEach((p: number[], i: number) => assertClose(p, ref.params[i], 1e-12, 1e-10, `rank ${out.rank} param ${i}`));
    out.buffers.forEach((b: number[], i: number) => assertClose(b, ref.buffers[i], 1e-12, 1e-10, `rank ${out.rank} buffer ${i}`));
  }
  // Per-process BatchNorm (DDP's default) is a different computation: the ranks agree with each
  // other exactly, but not with one process.
  const [a, b] = await both(0);
  assert.deepEqual(a.params, b.params);
  const gap = Math.max(...a.firstGrads.flat().map((v: number, i: number) => Math.abs(v - ref.firstGrads.flat()[i])));
  assert.ok(gap > 1e-4, `per-process BatchNorm should differ from one process on the whole batch (max gradient gap ${gap})`);
});

test('native memory stays flat over 2,400 data-parallel steps (reducer, both BatchNorm modes, broadcasts, per-step sums)', async () => {
  const port = await freePort();
  const rs = await Promise.all([0, 1].map((r) => run(['--expose-gc', worker, '2', String(r), String(port), '1', '2400'])));
  for (const r of rs) {
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(r.code, 0, JSON.stringify(out));
    assert.equal(out.liveEnd, out.liveStart, `live tensors grew from ${out.liveStart} to ${out.liveEnd}`);
    // After step 600 (the allocator's warm-up), measured here: +1.0 and +2.1 MiB over the next 1,800 steps.
    assert.ok(out.rssEnd - out.rssStart < 8 * 2 ** 20, `RSS grew by ${((out.rssEnd - out.rssStart) / 2 ** 20).toFixed(1)} MiB`);
  }
});

test('csgnet train --nproc 2 with batch B/2 equals one process with batch B (LeNet, CSG, no BatchNorm)', async () => {
  const common = ['--model', 'lenet', '--strategy', 'csg', '--epochs', '3', '--limit', '256', '--val-limit', '200', '--seed', '3'];
  const one = join(tmp, 'lenet-1'), two = join(tmp, 'lenet-2'), half = join(tmp, 'lenet-half');
  const [r1, r2, rh] = [await train([...common, '--batch', '32', '--out', one]), await train([...common, '--batch', '16', '--nproc', '2', '--out', two]),
    await train([...common, '--batch', '16', '--out', half])];
  ok(r1, 'one process'); ok(r2, '--nproc 2'); ok(rh, 'one process with the half batch');
  // Model, gate and optimizer state after 24 steps (the CSG epoch included): float32 rounding only.
  const a = checkpoint(one), b = checkpoint(two);
  const { diff, key } = maxAbsDiff(a, b);
  assert.ok(diff < 1e-5, `largest difference ${diff} at ${key}`);
  assert.ok(a.gate && b.gate, 'both runs have a gate');
  // The same comparison can fail: one process with batch B/2 is another training.
  assert.ok(maxAbsDiff(a, checkpoint(half)).diff > 1e-3);
  // Same metrics (train sums reduced over the ranks, evaluation sharded and reduced), written once.
  const m1 = metrics(one), m2 = metrics(two);
  assert.equal(m2.length, 3);
  for (const [i, m] of m2.entries()) {
    assert.equal(m.val_acc, m1[i].val_acc);
    assert.equal(m.train_acc, m1[i].train_acc);
    assertClose([m.train_loss, m.density ?? 0], [m1[i].train_loss, m1[i].density ?? 0], 1e-5, 1e-5, `epoch ${i}`);
  }
  const cfg = JSON.parse(readFileSync(join(two, 'config.json'), 'utf8'));
  assert.equal(cfg.train.worldSize, 2);
  assert.equal(cfg.dataset.trainSize, 256);
  // The sharded evaluation equals `csgnet eval` of the checkpoint rank 0 saved.
  const ev = runCli(['eval', '--run', two, '--limit', '200', '--json'], { env: baseEnv });
  assert.equal(ev.status, 0, ev.stderr);
  assert.equal(JSON.parse(ev.stdout).accuracy, m2[2].val_acc);
});

test('--sync-bn: one ResNet-20 step of 2 x 16 images equals one process on 32 within the float32 noise of the reference itself', async () => {
  const common = ['--model', 'resnet20', '--strategy', 'std', '--epochs', '1', '--limit', '32', '--val-limit', '50'];
  const dirs = ['ref', 'nchw', 'threads2', 'sync', 'local'].map((n) => join(tmp, `bn-${n}`));
  ok(await train([...common, '--batch', '32', '--out', dirs[0]!]), 'reference');
  // The reference's own noise: the same step in another memory format and with 2 threads (other
  // summation orders); BatchNorm over few images at init amplifies float32 rounding by orders.
  ok(await train([...common, '--batch', '32', '--memory-format', 'contiguous_format', '--out', dirs[1]!]), 'NCHW');
  ok(await run([CLI, 'train', '--progress', 'none', '--threads', '2', ...common, '--batch', '32', '--out', dirs[2]!]), '2 threads');
  ok(await train([...common, '--batch', '16', '--nproc', '2', '--sync-bn', '--out', dirs[3]!]), '--sync-bn');
  ok(await train([...common, '--batch', '16', '--nproc', '2', '--out', dirs[4]!]), 'per-process BatchNorm');
  const ref = checkpoint(dirs[0]!);
  const noise = Math.max(worstRelative(ref, checkpoint(dirs[1]!)), worstRelative(ref, checkpoint(dirs[2]!)));
  const sync = worstRelative(ref, checkpoint(dirs[3]!)), local = worstRelative(ref, checkpoint(dirs[4]!));
  assert.ok(sync <= 3 * noise + 1e-6, `--sync-bn differs by ${sync} (relative, worst tensor); the reference's own noise is ${noise}`);
  assert.ok(local > 10 * noise, `per-process BatchNorm should differ by far more than the noise: ${local} vs ${noise}`);
  // The forward (the step's loss) is well conditioned: equal to float32 rounding.
  assertClose([metrics(dirs[3]!)[0].train_loss], [metrics(dirs[0]!)[0].train_loss], 0, 1e-6, 'train loss');
});

test('a rank that is killed makes the other exit with an error naming the rank, not a hang', async () => {
  // Two ranks started by hand with torchrun's environment; rank 1 is SIGKILLed at its 4th batch.
  const port = await freePort();
  const out = join(tmp, 'killed');
  const args = ['--model', 'lenet', '--strategy', 'csg', '--epochs', '2', '--allow-no-csg', '--limit', '512', '--batch', '8', '--out', out, '--dist-timeout', '60'];
  const env = (r: number) => ({ MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), WORLD_SIZE: '2', RANK: String(r), LOCAL_RANK: String(r),
    CSGNET_FAULT: 'batch@4', CSGNET_FAULT_RANK: '1' });
  const [r0, r1] = await Promise.all([train(args, env(0)), train(args, env(1))]);
  assert.equal(r1.signal, 'SIGKILL');
  assert.equal(r0.code, 1, r0.stderr);
  assert.match(r0.stderr, /csgnet: rank 0 of 2: .*another rank exited, was stopped or stalled/);
  assert.ok(r0.ms < 30_000, `rank 0 took ${r0.ms} ms to notice (the timeout is 60 s)`);
  // Through the launcher: the failing rank is named and its exit code is the launcher's.
  const viaLauncher = await train([...args.slice(0, -4), '--out', join(tmp, 'killed-launch'), '--nproc', '2'], { CSGNET_FAULT: 'batch@4', CSGNET_FAULT_RANK: '1' });
  assert.equal(viaLauncher.code, 137, viaLauncher.stderr);
  assert.match(viaLauncher.stderr, /rank 1 exited with signal SIGKILL/);
  assert.match(viaLauncher.stderr, /csgnet: rank 1 of 2 failed \(exit code 137\)/);
  assert.match(viaLauncher.stderr, /rank 0 of 2: /);
});

test('a 2-process CSG run stopped after an epoch resumes to the same weights as an uninterrupted one; Ctrl-C stops every rank', async () => {
  const common = ['--model', 'lenet', '--strategy', 'csg', '--epochs', '3', '--limit', '192', '--val-limit', '100', '--batch', '16', '--nproc', '2'];
  const whole = join(tmp, 'whole'), parts = join(tmp, 'parts');
  ok(await train([...common, '--out', whole]), 'uninterrupted');
  ok(await train([...common, '--out', parts, '--stop-after', '2']), 'first two epochs');
  assert.equal(metrics(parts).length, 2);
  // A distributed run resumes with its own world size only.
  const wrong = await train(['--out', parts, '--resume']);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /trains with 2 processes \(worldSize\), but this run has 1; resume it with --nproc 2/);
  ok(await train(['--out', parts, '--resume', '--nproc', '2']), 'resume');
  assert.deepEqual(metrics(parts), metrics(whole).map((m: any, i: number) => ({ ...m, seconds: metrics(parts)[i].seconds })));
  const { diff, key } = maxAbsDiff(checkpoint(whole), checkpoint(parts));
  assert.equal(diff, 0, `resumed run differs by ${diff} at ${key}`);

  // Ctrl-C (SIGINT to the launcher) mid-epoch: the ranks agree on a batch, rank 0 saves, all exit 130.
  const sig = join(tmp, 'sigint');
  const long = ['--model', 'lenet', '--strategy', 'csg', '--epochs', '2', '--allow-no-csg', '--limit', '4096', '--val-limit', '100', '--batch', '8', '--nproc', '2', '--out', sig];
  const r = await train(long, {}, (p) => {
    const poll = setInterval(() => {
      const ev = join(sig, 'events.jsonl');
      if (existsSync(ev) && readFileSync(ev, 'utf8').includes('"batch"')) { clearInterval(poll); p.kill('SIGINT'); }
    }, 50);
    p.on('close', () => clearInterval(poll));
  });
  assert.equal(r.code, 130, r.stderr);
  const snap = loadSafetensors(join(sig, 'checkpoints', 'last.safetensors'));
  assert.ok(existsSync(join(sig, 'checkpoints', 'last.safetensors')));
  for (const t of Object.values(snap.tensors)) (t as any).dispose();
  ok(await train(['--out', sig, '--resume', '--nproc', '2']), 'resume after Ctrl-C');
  assert.equal(metrics(sig).length, 2);
});

test('the launcher environment: torchrun and SLURM variables, errors that name the variable', () => {
  assert.equal(distributedEnv({}), null);
  assert.equal(distributedEnv({ WORLD_SIZE: '1', RANK: '0' }), null);
  assert.deepEqual(distributedEnv({ WORLD_SIZE: '4', RANK: '3', LOCAL_RANK: '1', MASTER_ADDR: 'node7', MASTER_PORT: '1234' }),
    { rank: 3, worldSize: 4, localRank: 1, masterAddr: 'node7', masterPort: 1234, source: 'torchrun' });
  assert.deepEqual(distributedEnv({ SLURM_NTASKS: '8', SLURM_PROCID: '5', SLURM_LOCALID: '1', MASTER_ADDR: 'n0' }),
    { rank: 5, worldSize: 8, localRank: 1, masterAddr: 'n0', masterPort: 29500, source: 'slurm' });
  assert.equal(distributedEnv({ SLURM_NTASKS: '1', SLURM_PROCID: '0' }), null);
  assert.throws(() => distributedEnv({ WORLD_SIZE: '2', RANK: '2', MASTER_ADDR: 'a' }), /RANK must be an integer in \[0, 1\], got "2"/);
  assert.throws(() => distributedEnv({ WORLD_SIZE: 'two', RANK: '0' }), /WORLD_SIZE must be an integer/);
  assert.throws(() => distributedEnv({ WORLD_SIZE: '2', RANK: '0' }), /MASTER_ADDR is not set/);
  assert.throws(() => distributedEnv({ WORLD_SIZE: '2', RANK: '0', MASTER_ADDR: 'a', MASTER_PORT: '70000' }), /MASTER_PORT must be an integer in \[1, 65535\]/);
  assert.deepEqual(withoutOption(['train', '--nproc', '2', '--out', 'x', '--nproc=3'], '--nproc'), ['train', '--out', 'x']);
  // --nproc inside a rank is refused by name.
  const r = runCli(['train', '--out', join(tmp, 'nested'), '--nproc', '2'], { env: { ...baseEnv, WORLD_SIZE: '2', RANK: '0', MASTER_ADDR: '127.0.0.1' } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--nproc 2 starts its own processes, but this process is already rank 0 of 2 \(WORLD_SIZE is set\)/);
});

test('the launcher uses a given MASTER_PORT (a taken one is refused by name); a channels_last --nproc run prints no libtorch stride warning', async () => {
  // The ranks get the given port.
  const given = await freePort();
  const seen: string[] = [];
  const r = await launchLocal({ nproc: 2, command: ['node', '-e', "if (process.env.RANK !== '0') console.log(process.env.MASTER_PORT)"],
    masterPort: given, log: () => {}, rankOutput: (_r, line) => seen.push(line) });
  assert.equal(r.code, 0);
  assert.deepEqual(seen, [String(given)]);
  // Through the CLI: MASTER_PORT held by another program is named before any rank starts (it was ignored).
  const held = createServer();
  const port = await new Promise<number>((res) => held.listen(0, '127.0.0.1', () => res((held.address() as { port: number }).port)));
  const common = ['--model', 'resnet20', '--strategy', 'std', '--epochs', '1', '--limit', '64', '--val-limit', '32', '--batch', '16', '--nproc', '2'];
  try {
    const refused = await train([...common, '--out', join(tmp, 'port-taken')], { MASTER_PORT: String(port) });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, new RegExp(`csgnet: MASTER_PORT=${port}: rank 0 cannot serve its store there: the port is in use`));
    assert.ok(!existsSync(join(tmp, 'port-taken')));
  } finally {
    held.close();
  }
  // ResNet-20's 1x1 shortcut weights are both contiguous and channels_last; c10d's Reducer compared
  // their strides with the channels_last gradients' and warned on every run.
  const normal = await train([...common, '--memory-format', 'channels_last', '--out', join(tmp, 'no-warning')]);
  ok(normal, '--nproc 2 ResNet-20');
  assert.doesNotMatch(normal.stderr, /Grad strides do not match bucket view strides|Warning/);
});
