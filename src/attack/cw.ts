// Carlini-Wagner L2 (Carlini & Wagner 2017) as torchattacks 3.5's CW (torchattacks/attacks/cw.py; no binary
// search over c): Adam on w = atanh(2x - 1), x' = (tanh(w) + 1) / 2, minimizing |x' - x|_2^2 + c * f(x') with
// f = max(real - other, -kappa) (targeted: max(other - real, -kappa)). Each image keeps its successful iterate
// of smallest L2 (the clean image when none succeeds). Early stop as torchattacks: every max(steps / 10, 1)
// steps, stop when the cost exceeds the last checked one (Carlini's own code stops at 0.9999 x it; not kept).
//
// torchattacks quirks kept for parity: real = max(onehot * Z) = max(Z_y, 0) and other = max((1 - onehot) * Z)
// >= 0 (the zeroed entries take part), so a negative true-class (or target) logit gets no gradient; pixels at
// exactly 0 or 1 map to w = -inf / +inf, where tanh's gradient is 0, so they never move.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { Adam } from '../torch/optim/index.js';
import { Attack, type AttackOptions } from './base.js';
import type { PixelModel } from './pixel_model.js';

export class CW extends Attack {
  readonly name = 'cw' as const;
  readonly c: number;
  readonly kappa: number;
  readonly steps: number;
  readonly lr: number;

  /** Defaults as torchattacks: c 1, kappa 0, 50 steps, Adam lr 0.01. */
  constructor(model: PixelModel, o: AttackOptions = {}) {
    super(model, o);
    if (o.loss) throw new Error('cw: the loss option is not supported (CW minimizes its own L2 + margin objective); use pgd or bim');
    if (o.startNoise) throw new Error('cw: startNoise is not supported (CW starts at the image itself)');
    this.c = o.c ?? 1;
    this.kappa = o.kappa ?? 0;
    this.steps = o.steps ?? 50;
    this.lr = o.lr ?? 0.01;
  }

  /** The margin f per image [N]. */
  private margin(logits: Tensor, labels: Tensor): Tensor {
    const onehot = torch.F.oneHot(labels, logits.shape[1]!).to('float32');
    const real = onehot.mul(logits).max(1)[0];
    const other = onehot.rsub(1).mul(logits).max(1)[0];
    return (this.targeted ? other.sub(real) : real.sub(other)).clampMin(-this.kappa);
  }

  protected run(x: Tensor, labels: Tensor): Tensor {
    const N = x.shape[0]!;
    const w = x.mul(2).sub(1).clamp(-1, 1);
    const wAtanh = torch.tidy(() => w.add(1).div(w.rsub(1)).log().mul(0.5)).requiresGrad_(true);   // torchattacks' atanh
    const opt = new Adam([wAtanh], { lr: this.lr });
    let best = x.clone();
    let bestL2 = torch.full([N], 1e10, { device: x.device });
    let prevCost = 1e10;
    const every = Math.max(Math.floor(this.steps / 10), 1);
    try {
      for (let step = 0; step < this.steps; step++) {
        const r = torch.tidy(() => {
          const { adv, l2, logits, cost } = torch.enableGrad(() => {
            const adv = torch.F.tanh(wAtanh).add(1).mul(0.5);
            const l2 = adv.flatten(1).sub(x.flatten(1)).square().sum(1);
            const logits = this.logits(adv);
            const cost = l2.sum().add(this.margin(logits, labels).mul(this.c).sum());
            return { adv, l2, logits, cost };
          });
          wAtanh.grad = torch.grad(cost, wAtanh)[0]!;
          opt.step();
          wAtanh.grad = null;
          const pred = logits.argmax(1);
          const success = this.targeted ? pred.eq(labels) : pred.ne(labels);
          const mask = success.logicalAnd(l2.lt(bestL2));
          return {
            best: adv.detach().where(mask.view(N, 1, 1, 1), best),
            bestL2: l2.detach().where(mask, bestL2),
            cost: cost.item(),
          };
        });
        best.dispose(); bestL2.dispose();
        best = r.best; bestL2 = r.bestL2;
        if (step % every === 0) {
          if (r.cost > prevCost) break;   // torchattacks: cost.item() > prev_cost, Python floats
          prevCost = r.cost;
        }
      }
    } finally {
      opt.dispose();
    }
    return best;
  }
}
