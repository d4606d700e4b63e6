// Running an attack on a batch and summarizing it: per-image success and perturbation sizes.
import { performance } from 'node:perf_hooks';
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { perImageNorms, type Attack } from './base.js';
import type { PixelModel } from './pixel_model.js';

export interface AttackResult {
  adv: Tensor; success: Uint8Array; predicted: Int32Array; linf: Float32Array; l2: Float32Array;
  /** The attack's model forward passes, counted per image (a forward of n images counts n). */
  queries: number;
  /** Wall time of the attack itself (perturb), in seconds. */
  seconds: number;
}

/** perturb + prediction on adv + per-image success (untargeted: pred != label; targeted: pred == target) and distances. */
export function runAttack(attack: Attack, x01: Tensor, labels: Tensor): AttackResult {
  const t0 = performance.now();
  const adv = attack.perturb(x01, labels);
  const seconds = (performance.now() - t0) / 1000, queries = attack.queries;
  try {
    return torch.tidy(() => {
      const pred = attack.model.predict(adv);
      const ok = attack.targeted ? pred.eq(labels) : pred.ne(labels);
      const { linf, l2 } = perImageNorms(adv.sub(x01));
      return {
        adv,
        success: ok.to('uint8').cpu().data() as Uint8Array,
        predicted: pred.to('int32').cpu().data() as Int32Array,
        linf: linf.cpu().data() as Float32Array,
        l2: l2.cpu().data() as Float32Array,
        queries, seconds,
      };
    });
  } catch (e) {
    adv.dispose();
    throw e;
  }
}

/** The images the model classifies correctly (attacks are run on these only), as a bool mask [N]. */
export function correctlyClassified(model: PixelModel, x01: Tensor, labels: Tensor): Tensor {
  return torch.tidy(() => model.predict(x01).eq(labels));
}

export interface AttackSummary {
  /** Images attacked. */
  attacked: number;
  succeeded: number;
  /** succeeded / attacked (NaN when nothing was attacked). */
  successRate: number;
  /** Mean Linf and L2 perturbation over the successful adversarial images (NaN when none). */
  meanLinf: number;
  meanL2: number;
  /** Model forward passes per attacked image (NaN when nothing was attacked or no result counted them). */
  queriesPerImage: number;
  /** Seconds the attacks took, over every result that timed itself. */
  seconds: number;
}

/** Success rate and mean perturbation of successful examples, over one or more batches' results. */
export function summarizeAttack(results: (Pick<AttackResult, 'success' | 'linf' | 'l2'> & Partial<Pick<AttackResult, 'queries' | 'seconds'>>)[]): AttackSummary {
  let attacked = 0, succeeded = 0, linf = 0, l2 = 0, queries = 0, counted = 0, seconds = 0;
  for (const r of results) {
    attacked += r.success.length;
    if (r.queries !== undefined) { queries += r.queries; counted += r.success.length; }
    seconds += r.seconds ?? 0;
    for (let i = 0; i < r.success.length; i++) {
      if (!r.success[i]) continue;
      succeeded++; linf += r.linf[i]!; l2 += r.l2[i]!;
    }
  }
  return { attacked, succeeded, successRate: succeeded / attacked, meanLinf: linf / succeeded, meanL2: l2 / succeeded, queriesPerImage: queries / counted, seconds };
}
