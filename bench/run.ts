// `npm run bench`: csgnet against PyTorch (and scikit-learn) on this machine, side by side in one
// run, reported as ratios. Needs Debian's python3-torch and python3-sklearn (/usr/bin/python3).
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { packageRoot } from '../src/util/paths.js';

const root = packageRoot();
const PY = process.env.CSGNET_PYTHON ?? '/usr/bin/python3';
const threads = Number(process.env.BENCH_THREADS ?? availableParallelism());
const cli = join(root, 'dist', 'src', 'cli', 'main.js');

function jsonLines(out: string): any[] {
  return out.split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l));
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
}

function stepBench(): object {
  const model = process.env.BENCH_MODEL ?? 'resnet20';
  const input = process.env.BENCH_INPUT ?? '3x32x32';
  const batch = process.env.BENCH_BATCH ?? '128';
  const steps = process.env.BENCH_STEPS ?? '20';
  const common = ['--model', model, '--batch', batch, '--input', input, '--steps', steps, '--threads', String(threads), '--json'];
  const ours: Record<string, any> = {};
  for (const mf of ['channels_last', 'contiguous_format']) ours[mf] = jsonLines(run('node', [cli, 'bench', ...common, '--memory-format', mf]))[0];
  const ref = jsonLines(run(PY, [join(root, 'bench', 'pytorch_step.py'), '--model', model, '--batch', batch, '--input', input, '--steps', steps, '--threads', String(threads)]));
  const pyNchw = ref.find((r) => r.memory_format === 'nchw');
  const pyCl = ref.find((r) => r.memory_format === 'channels_last');
  const best = Math.min(ours.channels_last.ms_per_step, ours.contiguous_format.ms_per_step);
  return {
    bench: 'train_step', model, batch: Number(batch), input, threads,
    csgnet_channels_last_ms: ours.channels_last.ms_per_step, csgnet_nchw_ms: ours.contiguous_format.ms_per_step,
    pytorch_channels_last_ms: pyCl.ms_per_step, pytorch_nchw_ms: pyNchw.ms_per_step,
    // > 1 means csgnet is faster.
    speedup_vs_pytorch_channels_last: pyCl.ms_per_step / ours.channels_last.ms_per_step,
    speedup_vs_pytorch_nchw: pyNchw.ms_per_step / best,
  };
}

function csgEpochBench(): object {
  const limit = process.env.BENCH_EPOCH_IMAGES ?? '6400';
  const dir = mkdtempSync(join(tmpdir(), 'csgnet-bench-'));
  try {
    // Every epoch a CSG epoch (period 1, phase-min 0), same batch, lr, lambda and rho as the reference script.
    run('node', [cli, 'train', '--dataset', 'fashion-mnist', '--model', 'resnet20', '--strategy', 'csg', '--epochs', '1', '--period', '1',
      '--phase-min', '0', '--limit', limit, '--val-limit', '1000', '--threads', String(threads), '--out', join(dir, 'run'), '--progress', 'none']);
    const m = jsonLines(run('cat', [join(dir, 'run', 'metrics.jsonl')]))[0];
    const ref = jsonLines(run(PY, [join(root, 'bench', 'reference_csg_epoch.py'), '--limit', limit, '--threads', String(threads)]))[0];
    const ours = Number(limit) / m.seconds;
    return { bench: 'csg_epoch', images: Number(limit), threads, csgnet_images_per_s: ours, reference_images_per_s: ref.images_per_s,
      ratio: ours / ref.images_per_s, csgnet_seconds: m.seconds, reference_seconds: ref.seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function attackBench(): object {
  const images = Number(process.env.BENCH_ATTACK_IMAGES ?? 256), batch = 128, steps = 40, eps = 0.1;
  return import('../src/bench/attack.js').then(({ benchAttack }) => {
    const ours = benchAttack({ images, batch, steps, eps, input: [1, 28, 28], threads });
    const ref = jsonLines(run(PY, [join(root, 'bench', 'pytorch_pgd.py'), '--images', String(images), '--batch', String(batch),
      '--steps', String(steps), '--eps', String(eps), '--input', '1x28x28', '--threads', String(threads)]));
    const nchw = ref.find((r) => r.memory_format === 'nchw').images_per_s, cl = ref.find((r) => r.memory_format === 'channels_last').images_per_s;
    // > 1 means csgnet attacks faster than the same PGD in PyTorch (against PyTorch's faster memory format).
    return { bench: 'attack', attack: 'pgd', steps, eps, images, batch, input: '1x28x28', threads, csgnet_images_per_s: ours.images_per_s,
      pytorch_nchw_images_per_s: nchw, pytorch_channels_last_images_per_s: cl, speedup_vs_pytorch_best: ours.images_per_s / Math.max(nchw, cl) };
  });
}

/** Integrated Gradients (32 steps) maps per second against Captum's on the same PyTorch (BENCH_IG_IMAGES images). */
async function igBench(): Promise<object> {
  const images = Number(process.env.BENCH_IG_IMAGES ?? 64), batch = 32, steps = 32, internalBatch = 512;
  const { benchIg } = await import('../src/bench/ig.js');
  const ours = benchIg({ images, batch, steps, internalBatch, input: [1, 28, 28], threads });
  const ref = jsonLines(run(PY, [join(root, 'bench', 'captum_ig.py'), '--images', String(images), '--batch', String(batch), '--steps', String(steps),
    '--internal-batch', String(internalBatch), '--input', '1x28x28', '--threads', String(threads)]));
  const nchw = ref.find((r) => r.memory_format === 'nchw').maps_per_s, cl = ref.find((r) => r.memory_format === 'channels_last').maps_per_s;
  // > 1 means csgnet's IG maps come faster than Captum's (against Captum's faster memory format).
  return { bench: 'ig', steps, images, batch, input: '1x28x28', threads, captum_commit: ref[0].commit, csgnet_maps_per_s: ours.maps_per_s,
    captum_nchw_maps_per_s: nchw, captum_channels_last_maps_per_s: cl, speedup_vs_captum_best: ours.maps_per_s / Math.max(nchw, cl) };
}

/** Score-CAM and LayerCAM maps per second against pytorch-grad-cam's own classes (same model, images, Score-CAM batch). */
async function camBench(): Promise<object[]> {
  const { benchCam } = await import('../src/bench/cam.js');
  const input = '3x32x32', batch = 32, scoreBatch = 64;
  return (['scorecam', 'layercam'] as const).map((method) => {
    const images = method === 'scorecam' ? Number(process.env.BENCH_CAM_IMAGES ?? 32) : 8 * Number(process.env.BENCH_CAM_IMAGES ?? 32);
    const ours = benchCam({ method, images, batch, scoreBatch, input: input.split('x').map(Number), threads });
    const ref = jsonLines(run(PY, [join(root, 'bench', 'pytorch_cam.py'), '--method', method, '--images', String(images), '--batch', String(batch),
      '--score-batch', String(scoreBatch), '--input', input, '--threads', String(threads)]))[0];
    // > 1 means csgnet makes the maps faster than pytorch-grad-cam.
    return { bench: 'cam', method, images, batch, score_batch: scoreBatch, input, threads, csgnet_maps_per_s: ours.maps_per_s,
      pytorch_grad_cam_maps_per_s: ref.maps_per_s, speedup_vs_pytorch_grad_cam: ours.maps_per_s / ref.maps_per_s };
  });
}

/** APGD-CE against torchattacks' own APGD (extracted from the mirror at run time; CSGNET_TORCHATTACKS names a checkout). */
async function apgdBench(): Promise<object> {
  const images = Number(process.env.BENCH_APGD_IMAGES ?? 128), batch = 128, steps = 10, eps = 0.1;
  const { benchApgd } = await import('../src/bench/attack.js');
  const ours = benchApgd({ images, batch, steps, eps, input: [1, 28, 28], threads });
  const ref = jsonLines(run(PY, [join(root, 'bench', 'torchattacks_apgd.py'), '--images', String(images), '--batch', String(batch),
    '--steps', String(steps), '--eps', String(eps), '--input', '1x28x28', '--threads', String(threads)]))[0];
  // > 1 means csgnet's APGD attacks more images per second than torchattacks' on the same PyTorch machine.
  return { bench: 'apgd', steps, eps, images, batch, input: '1x28x28', threads, csgnet_images_per_s: ours.images_per_s,
    torchattacks_images_per_s: ref.images_per_s, torchattacks_version: ref.version, speedup_vs_torchattacks: ours.images_per_s / ref.images_per_s };
}

/** adversarialRun on a tiny LeNet run (BENCH_ADVERSARIAL_RUN names another run folder). */
async function adversarialBench(): Promise<object> {
  const { benchAdversarial } = await import('../src/bench/adversarial.js');
  const given = process.env.BENCH_ADVERSARIAL_RUN;
  const dir = given ? null : mkdtempSync(join(tmpdir(), 'csgnet-bench-'));
  try {
    const runDir = given ?? join(dir!, 'run');
    if (!given) {
      run('node', [cli, 'train', '--dataset', 'fashion-mnist', '--model', 'lenet', '--strategy', 'csg', '--epochs', '2', '--period', '2', '--phase-min', '1',
        '--limit', '1024', '--val-limit', '100', '--threads', String(threads), '--out', runDir, '--progress', 'none']);
    }
    return await benchAdversarial({ run: runDir, limit: Number(process.env.BENCH_ADVERSARIAL_IMAGES ?? 200), threads });
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

async function loaderBench(): Promise<object[]> {
  const { benchLoader } = await import('../src/bench/loader.js');
  const out: object[] = [];
  // Fashion-MNIST as the cifar preset trains it, and colour images at the voc-part preset's size.
  for (const [input, batch, pad] of [['1x28x28', 128, 2], ['3x128x128', 32, 4]] as const) {
    const ours = await benchLoader({ input: input.split('x').map(Number), batch, batches: 40, cropPadding: pad, workers: 1 });
    const ref = jsonLines(run(PY, [join(root, 'bench', 'pytorch_loader.py'), '--input', input, '--batch', String(batch), '--batches', '40', '--crop-padding', String(pad)]))[0];
    out.push({
      bench: 'loader', input, batch, crop_padding: pad, csgnet_prep_ms: ours.prep_ms_per_batch, pytorch_dataloader_prep_ms: ref.prep_ms_per_batch,
      // > 1 means csgnet prepares batches faster than PyTorch's DataLoader (num_workers=0).
      speedup_vs_pytorch_dataloader: ref.prep_ms_per_batch / ours.prep_ms_per_batch,
      // A step as long as the preparation: 1 worker thread hides it (ideal 2).
      overlap_speedup_1_worker: ours.overlap_speedup,
    });
  }
  return out;
}

async function main(): Promise<void> {
  if (!['cli', 'export', 'dist', 'adversarial'].includes(process.argv[2] ?? '') && !existsSync(PY)) throw new Error(`${PY} not found: install python3-torch and python3-sklearn (apt-get install -y python3-torch python3-sklearn)`);
  const which = (process.argv[2] ?? 'all').split(',');
  const results: object[] = [];
  const say = (r: object) => { results.push(r); console.log(JSON.stringify(r)); };
  if (which.includes('all') || which.includes('step')) say(stepBench());
  if (which.includes('all') || which.includes('epoch')) say(csgEpochBench());
  if (which.includes('all') || which.includes('loader')) for (const r of await loaderBench()) say(r);
  if (which.includes('all') || which.includes('cli')) for (const r of (await import('../src/bench/cli.js')).benchCli()) say(r);
  if (which.includes('all') || which.includes('localize')) for (const r of await (await import('../src/bench/localize.js')).benchLocalize()) say(r);
  if (which.includes('all') || which.includes('cam')) for (const r of await camBench()) say(r);
  if (which.includes('all') || which.includes('attack')) say(await attackBench());
  if (which.includes('all') || which.includes('ig')) say(await igBench());
  if (which.includes('all') || which.includes('apgd')) say(await apgdBench());
  if (which.includes('all') || which.includes('adversarial')) say(await adversarialBench());
  if (which.includes('all') || which.includes('charts')) for (const f of [64, 2048]) say(await (await import('../src/bench/charts.js')).benchCharts({ filters: f, classes: 10, repeats: 5 }));
  if (which.includes('all') || which.includes('export')) for (const r of await (await import('../src/bench/export.js')).benchExport({ threads })) say(r);
  if (which.includes('all') || which.includes('dist')) for (const r of await (await import('../src/bench/dist.js')).benchDist({ threads })) say(r);
  if (which.includes('all') || which.includes('mis')) {
    const { benchMis } = await import('./mis.js');
    say(await benchMis());
  }
}

main().catch((e) => { console.error(`bench: ${e.message}`); process.exit(1); });
