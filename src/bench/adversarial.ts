// Seconds of one `csgnet adversarial` pass (adversarialRun) over a run folder, the median of a few
// repeats after a warm-up: every stage (clean predictions, attacks, noisy copies, detectors, metrics,
// the written results), so that the cost around the attacks themselves shows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as torch from '../torch/index.js';
import { adversarialRun } from '../app/adversarial.js';

export interface AdversarialBenchOptions { run: string; limit?: number; repeats?: number; threads?: number }
export interface AdversarialBenchResult {
  bench: 'adversarial'; images: number; settings: number; attacked_images: number; repeats: number; threads: number; median_s: number; min_s: number;
}

export async function benchAdversarial(o: AdversarialBenchOptions): Promise<AdversarialBenchResult> {
  if (o.threads) torch.setNumThreads(o.threads);
  const limit = o.limit ?? 200, repeats = o.repeats ?? 3;
  const out = mkdtempSync(join(tmpdir(), 'csgnet-bench-adversarial-'));
  try {
    // Few steps per attack: the bench is about the stages around the attacks as much as the attacks.
    const pass = () => adversarialRun({ run: o.run, limit, attacks: ['fgsm', 'pgd', 'pgd-l2'], eps: [0.1, 0.2], adaptiveWeights: [1],
      fitTrainLimit: 256, batchSize: 50, saveAdversarial: true, out: join(out, 'results'), seed: 0 });
    const first = await pass(); // warm-up
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      await pass();
      times.push((performance.now() - t0) / 1000);
    }
    times.sort((a, b) => a - b);
    const r = first.report;
    return { bench: 'adversarial', images: r.clean.images, settings: r.attacks.length, attacked_images: r.clean.correct * r.attacks.length, repeats,
      threads: torch.getNumThreads(), median_s: times[times.length >> 1]!, min_s: times[0]! };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
