// AutoAttack (Croce & Hein 2020), version 'standard', Linf, as torchattacks 3.5's AutoAttack over its
// MultiAttack: APGD-CE, then APGD-T, then Square (5000 queries), each run on the original images that no
// earlier attack fooled; an image takes the first adversarial that fools the model. Every attack gets the
// same seed (torchattacks passes AutoAttack's seed to each; csgnet's default is 0 where torchattacks'
// None means the clock).
// A documented subset: the standard sequence's third attack, FAB-T (the targeted minimum-norm FAB), is
// left out, so this is APGD-CE + APGD-T + Square: an image only FAB-T would fool counts as robust here, so
// the success rate can be lower (never higher) than that of torchattacks' full sequence with the same seed.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { Attack, type AttackOptions } from './base.js';
import { APGD, APGDT } from './apgd.js';
import { Square } from './square.js';
import type { PixelModel } from './pixel_model.js';

export class AutoAttack extends Attack {
  readonly name = 'autoattack' as const;
  readonly eps: number;
  readonly attacks: readonly Attack[];

  /** Defaults as torchattacks: Linf, eps 8/255, APGD 10 steps, Square 5000 queries, one restart each; seed 0. */
  constructor(model: PixelModel, o: AttackOptions = {}) {
    super(model, o);
    this.refuse('loss', 'startNoise', 'stepSize', 'c', 'kappa', 'lr', 'overshoot');
    if (o.targeted) throw new Error('autoattack: targeted is not supported (torchattacks\' standard AutoAttack is untargeted)');
    if (o.norm === 'L2') throw new Error('autoattack: only the Linf norm is implemented (Square has no L2 variant here)');
    this.eps = o.eps ?? 8 / 255;
    const common = { eps: this.eps, seed: o.seed ?? 0 };
    const apgd = { ...common, ...(o.steps !== undefined ? { steps: o.steps } : {}), ...(o.rho !== undefined ? { rho: o.rho } : {}) };
    const square = { ...common, ...(o.nQueries !== undefined ? { nQueries: o.nQueries } : {}), ...(o.pInit !== undefined ? { pInit: o.pInit } : {}) };
    this.attacks = [new APGD(model, apgd), new APGDT(model, apgd), new Square(model, square)];
  }

  protected run(x: Tensor, labels: Tensor): Tensor {
    if (x.shape[0] === 0) return x;
    let final = x.clone();
    let fails = torch.arange(0, x.shape[0]!, 1, { dtype: 'int64', device: x.device });
    try {
      for (const attack of this.attacks) {
        const next = torch.tidy(() => {
          const ys = labels.indexSelect(0, fails);
          const adv = attack.perturb(x.indexSelect(0, fails), ys);
          this.queries += attack.queries;
          const wrong = this.logits(adv).argmax(1).ne(ys);
          return { final: final.clone().indexPut_([fails.index([wrong])], adv.index([wrong])), fails: fails.index([wrong.logicalNot()]) };
        });
        final.dispose(); fails.dispose();
        ({ final, fails } = next);
        if (fails.shape[0] === 0) break;
      }
      return final;
    } finally {
      fails.dispose();
    }
  }
}
