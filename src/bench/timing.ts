// What the per-method benches share: seeded random batches, and timing a run after a warm-up run.
import { performance } from 'node:perf_hooks';
import * as torch from '../torch/index.js';

/** `images` random images [n, c, h, w] (uniform or normal) with labels in [0, classes), batch at a time, kept: dispose with disposeBatches. */
export function randomBatches(images: number, batch: number, [c, h, w]: number[], o: { normal?: boolean; classes?: number } = {}): { x: torch.Tensor; y: torch.Tensor }[] {
  const out: { x: torch.Tensor; y: torch.Tensor }[] = [];
  for (let i = 0; i < images; i += batch) {
    const n = Math.min(batch, images - i), shape = [n, c!, h!, w!];
    out.push({ x: torch.keep(o.normal ? torch.randn(shape) : torch.rand(shape)), y: torch.keep(torch.randint(0, o.classes ?? 10, [n])) });
  }
  return out;
}

export function disposeBatches(batches: { x: torch.Tensor; y: torch.Tensor }[]): void { for (const b of batches) { b.x.dispose(); b.y.dispose(); } }

/** Seconds of run(), timed after one warm-up run. */
export function secondsAfterWarmup(run: () => void): number {
  run();
  const t0 = performance.now();
  run();
  return (performance.now() - t0) / 1000;
}
