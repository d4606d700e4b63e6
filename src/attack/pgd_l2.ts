// PGD with an L2 ball, torchattacks.PGDL2: a random start uniform in radius (a normal direction scaled
// by r * eps, r ~ U(0, 1)), then `steps` steps of length alpha along the L2-normalized gradient, each
// delta rescaled into the eps ball and the image clipped to [0, 1].
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { IterativeAttack, type AttackOptions } from './base.js';
import type { PixelModel } from './pixel_model.js';

/** torchattacks' guard against dividing by a zero gradient norm. */
const EPS_FOR_DIVISION = 1e-10;

export class PGDL2 extends IterativeAttack {
  readonly name = 'pgd-l2' as const;

  /** Defaults as torchattacks: eps 1.0, alpha 0.2, 10 steps, random start. */
  constructor(model: PixelModel, o: AttackOptions = {}) {
    super(model, o, { eps: 1.0, stepSize: 0.2, steps: 10 });
  }

  private randomStart(x: Tensor): Tensor {
    return torch.tidy(() => {
      const N = x.shape[0]!;
      const delta = this.drawn(x, () => this.normal());
      const n = delta.flatten(1).norm(2, 1).view(N, 1, 1, 1);
      const r = torch.tensor(Array.from({ length: N }, () => this.rng.float()), { dtype: 'float32' }).to({ device: x.device }).view(N, 1, 1, 1);
      return delta.mul(r.div(n).mul(this.eps));
    });
  }

  protected run(x: Tensor, labels: Tensor): Tensor {
    const N = x.shape[0]!;
    let adv = torch.tidy(() => {
      const s = this.o.startNoise;
      if (s) {
        const m = s.flatten(1).norm(2, 1).max().item();
        if (m > this.eps * (1 + 1e-5)) throw new Error(`pgd-l2: startNoise must lie in the L2 ball of radius eps ${this.eps}, its largest image norm is ${m}`);
      }
      return x.add(s ? s.to({ dtype: 'float32', device: x.device }) : this.randomStart(x)).clamp(0, 1);
    });
    for (let i = 0; i < this.steps; i++) {
      const next = torch.tidy(() => {
        const g = this.gradient(adv, labels);
        const gNorm = g.flatten(1).norm(2, 1).add(EPS_FOR_DIVISION).view(N, 1, 1, 1);
        const delta = adv.add(g.div(gNorm).mul(this.stepSize)).sub(x);
        const dNorm = delta.flatten(1).norm(2, 1);
        // torchattacks: min(eps / |delta|, 1), where Python's eps / t is t.reciprocal() * eps; a zero delta keeps factor 1
        const factor = dNorm.reciprocal().mul(this.eps).clampMax(1).where(dNorm.gt(0), torch.onesLike(dNorm));
        return x.add(delta.mul(factor.view(N, 1, 1, 1))).clamp(0, 1);
      });
      adv.dispose();
      adv = next;
    }
    return adv;
  }
}
