// The detection protocol's split (Lee et al. 2018; method.md section 6): detectors are fitted on a seeded
// 10 % of the samples and reported on the other 90 %. Stratified by the adversarial flag, so that both
// parts hold clean and adversarial samples in the same proportion (each part gets round(n_flag * fraction)
// of each flag, at least one where the flag has two or more samples).
import { Rng } from '../data/rng.js';

export interface DetectionSplit {
  /** ascending indices of the fit part and of the evaluation part */
  fit: Int32Array;
  evaluate: Int32Array;
}

export function detectionSplit(adversarial: Uint8Array, seed: number, fitFraction = 0.1): DetectionSplit {
  if (!(fitFraction > 0 && fitFraction < 1)) throw new Error(`detectionSplit: fitFraction must be in (0, 1), got ${fitFraction}`);
  const rng = new Rng(seed);
  const inFit = new Uint8Array(adversarial.length);
  for (const flag of [0, 1]) {
    const idx: number[] = [];
    adversarial.forEach((a, i) => { if (a !== 0 && a !== 1) throw new Error(`detectionSplit: flags must be 0 or 1, flag ${i} is ${a}`); if (a === flag) idx.push(i); });
    if (idx.length < 2) throw new Error(`detectionSplit: needs at least 2 ${flag ? 'adversarial' : 'clean'} samples (one to fit, one to evaluate), got ${idx.length}`);
    const take = Math.min(idx.length - 1, Math.max(1, Math.round(idx.length * fitFraction)));
    const shuffled = rng.shuffle(idx);
    for (let k = 0; k < take; k++) inFit[shuffled[k]!] = 1;
  }
  const fit: number[] = [], evaluate: number[] = [];
  inFit.forEach((f, i) => (f ? fit : evaluate).push(i));
  return { fit: Int32Array.from(fit), evaluate: Int32Array.from(evaluate) };
}
