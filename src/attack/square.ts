// Square Attack (Andriushchenko et al. 2020), Linf, as torchattacks 3.5's Square (torchattacks/attacks/square.py):
// score-based (only logits, no gradient). Start: vertical stripes of +-eps; then up to nQueries rounds, each
// proposing one square of side s (its size shrinking with the round by p_init's schedule, rescaled to the
// budget) at a random place with a random sign per channel, the same proposal for every image (as
// torchattacks draws it); an image keeps the proposal when its margin loss falls or it is misclassified, and
// drops out once fooled (margin <= 0). The loss is the margin z_y - max_{i != y} z_i (targeted: the target's
// negated). torch's RNG is seeded with `seed` at every call as torchattacks does, so the draws equal
// PyTorch's. Only the images the model still classifies right (targeted: not as the target) are attacked;
// an image is changed only if its attack succeeded. One restart; no L2 variant.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { Attack, type AttackOptions } from './base.js';
import type { PixelModel } from './pixel_model.js';

/** Python's round(): halves go to the even neighbour. */
function pyRound(v: number): number {
  const f = Math.floor(v), d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

export class Square extends Attack {
  readonly name = 'square' as const;
  readonly eps: number;
  readonly nQueries: number;
  readonly pInit: number;

  /** Defaults as torchattacks: eps 8/255, 5000 queries, p_init 0.8, margin loss, seed 0. */
  constructor(model: PixelModel, o: AttackOptions = {}) {
    super(model, o);
    this.refuse('loss', 'startNoise', 'stepSize', 'steps', 'c', 'kappa', 'lr', 'overshoot', 'rho');
    if (o.norm === 'L2') throw new Error('square: only the Linf norm is implemented');
    this.eps = o.eps ?? 8 / 255;
    this.nQueries = o.nQueries ?? 5000;
    this.pInit = o.pInit ?? 0.8;
  }

  /** torchattacks' p_selection: the fraction of pixels a square covers at round `it` (schedule rescaled to the budget). */
  pSelection(it: number): number {
    const i = Math.trunc(it / this.nQueries * 10000);
    const p = this.pInit;
    const steps: [number, number][] = [[8000, 512], [6000, 256], [4000, 128], [2000, 64], [1000, 32], [500, 16], [200, 8], [50, 4], [10, 2]];
    for (const [above, div] of steps) if (i > above) return p / div;
    return p;
  }

  /** The margin z_y - max_{i != y} z_i per image (targeted: its negation), counting the forward. */
  private margin(x: Tensor, y: Tensor): Tensor {
    return torch.tidy(() => {
      const z = this.logits(x);
      const zy = z.gather(1, y.unsqueeze(1)).squeeze(1);
      const others = z.scatter(1, y.unsqueeze(1), -Infinity).amax(1);
      return this.targeted ? others.sub(zy) : zy.sub(others);
    });
  }

  /** A tensor of +-1 (torchattacks' random_choice: sign(2 u - 1)). */
  private randomSign(shape: number[], device: Tensor['device']): Tensor {
    return torch.rand(shape).to({ device }).mul(2).sub(1).sign();
  }

  /** torchattacks' random_int(0, high): int((high) * u) with u drawn from torch's RNG. */
  private randomInt(high: number): number {
    return Math.trunc(Math.fround(high * torch.tidy(() => torch.rand([1]).item())));
  }

  private singleRun(x: Tensor, y: Tensor): Tensor {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const eps = this.eps, dev = x.device;
    let s = torch.tidy(() => {
      const xBest = x.add(this.randomSign([n, c, 1, w], dev).mul(eps)).clamp(0, 1);
      return { xBest, margin: this.margin(xBest, y) };
    });
    try {
      for (let it = 0; it < this.nQueries; it++) {
        const next = torch.tidy(() => {
          const idx = s.margin.gt(0).nonzero().squeeze(1);
          if (idx.shape[0] === 0) return null;
          const xc = x.indexSelect(0, idx), xb = s.xBest.indexSelect(0, idx), yc = y.indexSelect(0, idx), mc = s.margin.indexSelect(0, idx);
          const side = Math.max(pyRound(Math.sqrt(this.pSelection(it) * (c * h * w) / c)), 1);
          const vh = this.randomInt(h - side), vw = this.randomInt(w - side);
          const delta = torch.zeros([c, h, w], { device: dev });
          delta.narrow(1, vh, side).narrow(2, vw, side).copy_(this.randomSign([c, 1, 1], dev).mul(2.0 * eps).expand([c, side, side]));
          const xNew = xb.add(delta).maximum(xc.sub(eps)).minimum(xc.add(eps)).clamp(0, 1);
          const m = this.margin(xNew, yc);
          // the margin loss is the margin itself: an improvement or a misclassification keeps the proposal
          const keep = m.lt(mc).logicalOr(m.le(0));
          const margin = s.margin.clone().indexPut_([idx], m.where(keep, mc));
          const xBest = s.xBest.clone().indexPut_([idx], xNew.where(keep.view([-1, 1, 1, 1]), xb));
          return { xBest, margin, done: margin.le(0).all().item() };
        });
        if (!next) break;
        s.xBest.dispose(); s.margin.dispose();
        s = { xBest: next.xBest, margin: next.margin };
        if (next.done) break;
      }
      return s.xBest;
    } finally {
      s.margin.dispose();
    }
  }

  protected run(x: Tensor, y: Tensor): Tensor {
    const pred = this.logits(x).argmax(1);
    const attacked = this.targeted ? pred.ne(y) : pred.eq(y);
    const idx = attacked.nonzero().squeeze(1);
    if (idx.shape[0] === 0) return x;
    const xs = x.indexSelect(0, idx), ys = y.indexSelect(0, idx);
    const advCurr = this.withTorchSeed(() => this.singleRun(xs, ys));
    const p = this.logits(advCurr).argmax(1);
    const fooled = this.targeted ? p.eq(ys) : p.ne(ys);
    return x.clone().indexPut_([idx], advCurr.where(fooled.view([-1, 1, 1, 1]), xs));
  }
}
