// `npm run bench dist`: data-parallel training on this machine. Training images per second of one
// process with all threads against N processes with one thread each (csgnet train --nproc N; the same
// global batch), the allreduce time of ResNet-20's and ResNet-50's gradient sizes between 2 local
// processes over gloo, and from those a ring-allreduce scaling estimate for 8 and 64 workers.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../util/paths.js';
import { freePort } from '../app/launch.js';

const root = packageRoot();
const cli = join(root, 'dist', 'src', 'cli', 'main.js');

/** Gradient sizes (trainable floats) of the 1-channel CIFAR-style ResNet-20 (10 classes; the gate adds 640 on CSG
 *  epochs) and torchvision's ResNet-50 (1000 classes). */
export const GRADIENT_FLOATS = { resnet20: 272_186, resnet50: 25_557_032 };

function trainImagesPerSecond(dir: string, args: string[]): { imagesPerS: number; steps: number } {
  execFileSync('node', [cli, 'train', '--dataset', 'fashion-mnist', '--model', 'resnet20', '--strategy', 'csg', '--period', '1', '--phase-min', '0',
    '--epochs', '1', '--val-limit', '500', '--progress', 'none', '--out', dir, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  const m = JSON.parse(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n')[0]!);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  return { imagesPerS: cfg.dataset.trainSize / m.seconds, steps: Math.ceil(cfg.dataset.trainSize / (cfg.train.batchSize * cfg.train.worldSize)) };
}

async function allreduceMs(sizes: number[]): Promise<Record<string, number>> {
  const port = await freePort();
  const worker = join(root, 'dist', 'src', 'bench', 'dist_worker.js');
  const outs = await Promise.all([0, 1].map((r) => new Promise<string>((resolve, reject) => {
    const p = spawn('node', [worker, String(r), '2', String(port), sizes.join(',')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let s = '';
    p.stdout.on('data', (d) => (s += d));
    p.on('close', (code) => (code === 0 ? resolve(s) : reject(new Error(`allreduce worker ${r} exited with ${code}`))));
  })));
  return JSON.parse(outs[0]!.trim()).allreduce_ms;
}

export async function benchDist(opts: { images?: number; batch?: number; threads: number }): Promise<object[]> {
  const images = opts.images ?? 6400, batch = opts.batch ?? 128, nproc = 2;
  const dir = mkdtempSync(join(tmpdir(), 'csgnet-bench-dist-'));
  const out: object[] = [];
  try {
    const one = trainImagesPerSecond(join(dir, 'one'), ['--limit', String(images), '--batch', String(batch), '--threads', String(opts.threads)]);
    const many = trainImagesPerSecond(join(dir, 'many'), ['--limit', String(images), '--batch', String(batch / nproc), '--threads', '1', '--nproc', String(nproc)]);
    out.push({ bench: 'dist_train', model: 'resnet20', input: '1x28x28', strategy: 'csg', images, global_batch: batch,
      one_process_threads: opts.threads, one_process_images_per_s: one.imagesPerS,
      processes: nproc, threads_per_process: 1, data_parallel_images_per_s: many.imagesPerS,
      ratio: many.imagesPerS / one.imagesPerS, data_parallel_ms_per_step: (1000 * images) / many.imagesPerS / many.steps });
    (many as any).msPerStep = (1000 * images) / many.imagesPerS / many.steps;
    const small = 1024;
    const ms = await allreduceMs([small, GRADIENT_FLOATS.resnet20, GRADIENT_FLOATS.resnet50]);
    out.push({ bench: 'dist_allreduce', processes: 2, backend: 'gloo', transport: 'loopback TCP', floats: Object.keys(ms).map(Number), median_ms: Object.values(ms) });
    // Ring allreduce of S bytes over W workers: 2 (W - 1) latency terms and 2 (W - 1) / W * S / bandwidth.
    // Two workers measure latency alpha (a 4 KiB message) and bandwidth (ResNet-50's 102 MB): T2 = 2 alpha + S / B.
    const alpha = ms[String(small)]! / 2;
    const bytes50 = GRADIENT_FLOATS.resnet50 * 4;
    const bandwidth = bytes50 / ((ms[String(GRADIENT_FLOATS.resnet50)]! - 2 * alpha) / 1000); // bytes/s
    const ring = (floats: number, w: number) => 2 * (w - 1) * alpha + (2 * (w - 1) / w) * ((floats * 4) / bandwidth) * 1000;
    // A worker's compute per step: the measured data-parallel step (batch/nproc images, one core) less its 2-worker allreduce.
    const compute20 = (many as any).msPerStep - ms[String(GRADIENT_FLOATS.resnet20)]!;
    const est = [8, 64].map((w) => {
      const t = ring(GRADIENT_FLOATS.resnet20, w), t50 = ring(GRADIENT_FLOATS.resnet50, w);
      return { workers: w, resnet20_allreduce_ms: t, resnet50_allreduce_ms: t50,
        resnet20_efficiency_no_overlap: compute20 / (compute20 + t) };
    });
    out.push({ bench: 'dist_scaling_estimate', alpha_ms: alpha, bandwidth_gb_per_s: bandwidth / 1e9, resnet20_compute_ms_per_step: compute20,
      per_worker_batch: batch / nproc, estimate: est });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
