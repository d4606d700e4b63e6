// PGD with an Linf ball (Madry et al. 2018), torchattacks.PGD: a uniform random start in [-eps, eps]
// (clipped to [0, 1]), then `steps` signed-gradient steps of alpha, each projected onto the eps ball
// around x and clipped to [0, 1].
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { IterativeAttack, type AttackOptions } from './base.js';
import type { PixelModel } from './pixel_model.js';

export class PGD extends IterativeAttack {
  readonly name = 'pgd' as const;

  /** Defaults as torchattacks: eps 8/255, alpha 2/255, 10 steps, random start. */
  constructor(model: PixelModel, o: AttackOptions = {}) {
    super(model, o, { eps: 8 / 255, stepSize: 2 / 255, steps: 10 });
  }

  protected run(x: Tensor, labels: Tensor): Tensor {
    const eps = this.eps;
    let adv = torch.tidy(() => {
      const s = this.o.startNoise;
      if (s) {
        const m = s.abs().max().item();
        if (m > eps * (1 + 1e-6)) throw new Error(`pgd: startNoise must lie in the Linf ball of radius eps ${eps}, its largest entry is ${m}`);
      }
      const noise = s ? s.to({ dtype: 'float32', device: x.device }) : this.drawn(x, () => (2 * this.rng.float() - 1) * eps);
      return x.add(noise).clamp(0, 1);
    });
    for (let i = 0; i < this.steps; i++) {
      const next = torch.tidy(() => {
        const stepped = adv.add(this.gradient(adv, labels).sign().mul(this.stepSize));
        return x.add(stepped.sub(x).clamp(-eps, eps)).clamp(0, 1);
      });
      adv.dispose();
      adv = next;
    }
    return adv;
  }
}
