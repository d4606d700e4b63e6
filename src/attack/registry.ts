// Attacks by name, and dataset-aware default settings.
import type { PixelModel } from './pixel_model.js';
import type { Attack, AttackOptions } from './base.js';
import { ATTACK_NAMES, type AttackName } from './names.js';
import { FGSM } from './fgsm.js';
import { BIM } from './bim.js';
import { PGD } from './pgd.js';
import { PGDL2 } from './pgd_l2.js';
import { CW } from './cw.js';
import { DeepFool } from './deepfool.js';
import { APGD, APGDDLR, APGDT } from './apgd.js';
import { Square } from './square.js';
import { AutoAttack } from './autoattack.js';

const CLASSES: Record<AttackName, new (m: PixelModel, o: AttackOptions) => Attack> = {
  fgsm: FGSM, bim: BIM, pgd: PGD, 'pgd-l2': PGDL2, cw: CW,
  deepfool: DeepFool, 'apgd-ce': APGD, 'apgd-dlr': APGDDLR, 'apgd-t': APGDT, square: Square, autoattack: AutoAttack,
};

export function createAttack(name: AttackName, model: PixelModel, o: AttackOptions = {}): Attack {
  const A = CLASSES[name];
  if (!A || !Object.hasOwn(CLASSES, name)) throw new Error(`unknown attack '${String(name)}'; one of ${ATTACK_NAMES.join(', ')}`);
  return new A(model, o);
}

/**
 * The usual settings for a dataset: grey images (MNIST-like, 1 channel) Linf eps 0.3 with 40 steps of eps/10
 * (Madry et al.'s MNIST budget), L2 eps 2; colour images Linf eps 8/255 with 10 steps of eps/4 (2/255 at 8/255),
 * L2 eps 0.5. Iterative attacks share steps and step ratio; cw uses torchattacks' defaults (c 1, kappa 0,
 * 50 steps, lr 0.01) and ignores eps. `eps` overrides the budget (the step size follows it).
 * The torchattacks ports take the Linf budget above with torchattacks' own other defaults: deepfool 50 steps,
 * overshoot 0.02 (no eps); apgd-ce/-dlr/-t 10 steps, rho 0.75; square 5000 queries, p_init 0.8; autoattack both.
 */
export function defaultAttackOptions(name: AttackName, dataset: { channels: number; height: number }, eps?: number): AttackOptions {
  if (!ATTACK_NAMES.includes(name)) throw new Error(`unknown attack '${String(name)}'; one of ${ATTACK_NAMES.join(', ')}`);
  if (eps !== undefined && !(Number.isFinite(eps) && eps >= 0)) throw new Error(`${name}: eps must be a finite number >= 0, got ${eps}`);
  const grey = dataset.channels === 1;
  if (name === 'cw') return { c: 1, kappa: 0, steps: 50, lr: 0.01 };
  if (name === 'deepfool') return { steps: 50, overshoot: 0.02 };
  const e = eps ?? (name === 'pgd-l2' ? (grey ? 2 : 0.5) : (grey ? 0.3 : 8 / 255));
  if (name === 'fgsm') return { eps: e };
  if (name === 'apgd-ce' || name === 'apgd-dlr' || name === 'apgd-t') return { eps: e, steps: 10, rho: 0.75 };
  if (name === 'square') return { eps: e, nQueries: 5000, pInit: 0.8 };
  if (name === 'autoattack') return { eps: e, steps: 10, nQueries: 5000 };
  return grey ? { eps: e, steps: 40, stepSize: e / 10 } : { eps: e, steps: 10, stepSize: e / 4 };
}
