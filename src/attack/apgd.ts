// Auto-PGD (Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble of diverse
// parameter-free attacks") as torchattacks 3.5's APGD and APGDT (torchattacks/attacks/apgd.py, apgdt.py):
// a random start on the eps-ball's surface, a first step of 2 eps, momentum 0.75 after it, and checkpoints
// after 0.22, then each 0.03 less (at least 0.06) of the steps, where an image's step size halves (and it
// restarts from its best point) when its loss rose in at most rho of the steps since the last checkpoint,
// or when it did not halve last time and its best loss did not improve. Only the correctly classified
// images are attacked; an image is returned changed only when some iterate fooled the model (its last
// fooling iterate), else as it was. torch's RNG is seeded with `seed` at every call, as torchattacks does,
// so the draws equal PyTorch's. One restart (torchattacks' n_restarts = 1, AutoAttack's standard setting).
// Losses: apgd-ce: cross-entropy; apgd-dlr: the difference of logits ratio
//   -(z_y - max_{i != y} z_i) / (z_pi1 - z_pi3 + 1e-12);
// apgd-t (APGDT, AutoAttack's targeted APGD): for each of the top-2 .. top-K classes of the clean image in
// turn as target t, on the images not fooled yet, the targeted DLR -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2 + 1e-12).
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { Attack, type AttackOptions } from './base.js';
import type { PixelModel } from './pixel_model.js';

/** Per-image losses [n] from logits [n, K] and labels [n]. */
type IndivLoss = (logits: Tensor, y: Tensor) => Tensor;

/** torchattacks' APGD.dlr_loss. */
export function dlrLoss(z: Tensor, y: Tensor): Tensor {
  return torch.tidy(() => {
    const K = z.shape[1]!;
    const [s, ind] = z.sort(1);
    const top = ind.select(1, K - 1).eq(y).to('float32');
    const zy = z.gather(1, y.unsqueeze(1)).squeeze(1);
    const s1 = s.select(1, K - 1), s2 = s.select(1, K - 2), s3 = s.select(1, K - 3);
    return zy.sub(s2.mul(top)).sub(s1.mul(top.rsub(1))).neg().div(s1.sub(s3).add(1e-12));
  });
}

/** torchattacks' APGDT.dlr_loss_targeted. */
export function dlrLossTargeted(z: Tensor, y: Tensor, t: Tensor): Tensor {
  return torch.tidy(() => {
    const K = z.shape[1]!;
    const [s] = z.sort(1);
    const zy = z.gather(1, y.unsqueeze(1)).squeeze(1), zt = z.gather(1, t.unsqueeze(1)).squeeze(1);
    const den = s.select(1, K - 1).sub(s.select(1, K - 3).mul(0.5)).sub(s.select(1, K - 4).mul(0.5)).add(1e-12);
    return zy.sub(zt).neg().div(den);
  });
}

/** Replaces the tensors of `prev` by those of `next`, freeing the ones no longer held. */
function swap<T extends Record<string, Tensor>>(prev: T, next: T): T {
  const kept = new Set(Object.values(next));
  for (const t of Object.values(prev)) if (!kept.has(t)) t.dispose();
  return next;
}

type ApgdName = 'apgd-ce' | 'apgd-dlr' | 'apgd-t';

abstract class APGDBase extends Attack {
  readonly name: ApgdName;
  readonly eps: number;
  readonly steps: number;
  readonly rho: number;
  readonly norm: 'Linf' | 'L2';

  /** Defaults as torchattacks: Linf, eps 8/255, 10 steps, rho 0.75, seed 0. */
  constructor(model: PixelModel, o: AttackOptions, name: ApgdName) {
    super(model, o);
    this.name = name;
    this.refuse('loss', 'startNoise', 'stepSize', 'c', 'kappa', 'lr', 'overshoot', 'nQueries', 'pInit');
    if (o.targeted) throw new Error(`${this.name}: targeted is not supported (torchattacks' APGD runs untargeted; apgd-t picks its own targets)`);
    this.eps = o.eps ?? 8 / 255;
    this.steps = o.steps ?? 10;
    this.rho = o.rho ?? 0.75;
    this.norm = o.norm ?? 'Linf';
  }

  /** The per-image loss and its gradient at x (summed over the batch, as torchattacks); logits detached. */
  private lossGrad(x: Tensor, y: Tensor, loss: IndivLoss): { grad: Tensor; logits: Tensor; loss: Tensor } {
    return torch.tidy(() => {
      const xin = x.detach().requiresGrad_(true);
      const { logits, li, sum } = torch.enableGrad(() => {
        const logits = this.logits(xin);
        const li = loss(logits, y);
        return { logits, li, sum: li.sum() };
      });
      return { grad: torch.grad(sum, xin)[0]!, logits: logits.detach(), loss: li.detach() };
    });
  }

  /** Projection onto the L2 ball of radius eps around x (torchattacks' form; `pad` is added to the norm inside the min). */
  private projectL2(x: Tensor, x1: Tensor, pad: number): Tensor {
    return torch.tidy(() => {
      const d = x1.sub(x);
      const n = d.pow(2).sum([1, 2, 3], true).sqrt();
      return x.add(d.div(n.add(1e-12)).mul(torch.fullLike(x, this.eps).minimum(n.add(pad)))).clamp(0, 1);
    });
  }

  /** torchattacks' attack_single_run on images x (all attacked): whether each is still classified right, and its last fooling iterate. */
  protected singleRun(x: Tensor, y: Tensor, loss: IndivLoss): { acc: Tensor; adv: Tensor } {
    const n = x.shape[0]!, steps = this.steps, eps = this.eps;
    const steps2 = Math.max(Math.trunc(0.22 * steps), 1), stepsMin = Math.max(Math.trunc(0.06 * steps), 1), sizeDecr = Math.max(Math.trunc(0.03 * steps), 1);
    let s = torch.tidy(() => {
      const scale = torch.full([n, 1, 1, 1], eps);
      let start: Tensor;
      if (this.norm === 'Linf') {
        const t = torch.rand(x.shape).to({ device: x.device }).mul(2).sub(1);
        start = x.add(scale.mul(t).div(t.reshape([n, -1]).abs().amax(1, true).reshape([-1, 1, 1, 1])));
      } else {
        const t = torch.randn(x.shape).to({ device: x.device });
        start = x.add(scale.mul(t).div(t.pow(2).sum([1, 2, 3], true).sqrt().add(1e-12)));
      }
      const xAdv = start.clamp(0, 1);
      const g = this.lossGrad(xAdv, y, loss);
      return {
        xAdv, xBest: xAdv.clone(), xBestAdv: xAdv.clone(), xAdvOld: xAdv.clone(), grad: g.grad, gradBest: g.grad.clone(),
        acc: g.logits.argmax(1).eq(y), lossBest: g.loss.clone(), lossNow: g.loss, stepSize: torch.full([n, 1, 1, 1], 2 * eps, { device: x.device }),
      };
    });
    // The per-step losses stay on the host (torchattacks checks oscillation in numpy); rows not yet written are 0.
    const lossSteps = Array.from({ length: steps }, () => new Float32Array(n));
    let lossBestLastCheck = s.lossBest.cpu().data() as Float32Array;
    let reducedLastCheck = new Uint8Array(n).fill(1);
    let k = steps2, counter3 = 0;
    try {
      for (let i = 0; i < steps; i++) {
        const a = i > 0 ? 0.75 : 1.0;
        s = swap(s, torch.tidy(() => {
          const { xAdv } = s;
          const grad2 = xAdv.sub(s.xAdvOld);
          let x1: Tensor;
          if (this.norm === 'Linf') {
            const lo = x.sub(eps), hi = x.add(eps);
            x1 = xAdv.add(s.stepSize.mul(s.grad.sign())).maximum(lo).minimum(hi).clamp(0, 1);
            x1 = xAdv.add(x1.sub(xAdv).mul(a)).add(grad2.mul(1 - a)).maximum(lo).minimum(hi).clamp(0, 1);
          } else {
            x1 = xAdv.add(s.stepSize.mul(s.grad).div(s.grad.pow(2).sum([1, 2, 3], true).sqrt().add(1e-12)));
            x1 = this.projectL2(x, x1, 0);
            x1 = this.projectL2(x, xAdv.add(x1.sub(xAdv).mul(a)).add(grad2.mul(1 - a)), 1e-12);
          }
          const g = this.lossGrad(x1, y, loss);
          const pred = g.logits.argmax(1).eq(y);
          const improved = g.loss.gt(s.lossBest);
          const v = (m: Tensor) => m.view([n, 1, 1, 1]);
          return {
            xAdv: x1, xAdvOld: xAdv, grad: g.grad, stepSize: s.stepSize,
            acc: s.acc.logicalAnd(pred),
            xBestAdv: x1.where(v(pred.logicalNot()), s.xBestAdv),
            xBest: x1.where(v(improved), s.xBest),
            gradBest: g.grad.where(v(improved), s.gradBest),
            lossBest: g.loss.where(improved, s.lossBest),
            lossNow: g.loss,
          };
        }));
        lossSteps[i]!.set(s.lossNow.cpu().data() as Float32Array);
        counter3++;
        if (counter3 !== k) continue;
        // checkpoint: torchattacks' check_oscillation (a negative row index wraps to the end, as numpy's does)
        const lossBest = s.lossBest.cpu().data() as Float32Array;
        const reduce = new Uint8Array(n);
        for (let j = 0; j < n; j++) {
          let t = 0;
          for (let c5 = 0; c5 < k; c5++) {
            const r = i - c5 - 1;
            if (lossSteps[i - c5]![j]! > lossSteps[r < 0 ? r + steps : r]![j]!) t++;
          }
          const oscillating = t <= k * this.rho;
          const noImprovement = !reducedLastCheck[j] && lossBestLastCheck[j]! >= lossBest[j]!;
          reduce[j] = oscillating || noImprovement ? 1 : 0;
        }
        reducedLastCheck = reduce;
        lossBestLastCheck = lossBest;
        if (reduce.some((r) => r)) {
          s = swap(s, torch.tidy(() => {
            const m = torch.fromTypedArray(reduce, [n, 1, 1, 1], { dtype: 'bool' }).to({ device: x.device });
            return { ...s, stepSize: s.stepSize.div(2).where(m, s.stepSize), xAdv: s.xBest.where(m, s.xAdv), grad: s.gradBest.where(m, s.grad) };
          }));
        }
        counter3 = 0;
        k = Math.max(k - sizeDecr, stepsMin);
      }
      return { acc: s.acc, adv: s.xBestAdv };
    } finally {
      for (const t of Object.values(s)) if (t !== s.acc && t !== s.xBestAdv) t.dispose();
    }
  }

  /** torchattacks' perturb (cheap): the still correctly classified images attacked with `loss` (once per target round). */
  protected attackRounds(x: Tensor, y: Tensor, rounds: number, lossFor: (xs: Tensor, ys: Tensor, round: number) => IndivLoss): Tensor {
    let adv = x.clone();
    let acc = this.logits(x).argmax(1).eq(y);
    this.withTorchSeed(() => {
      for (let r = 0; r < rounds; r++) {
        const next = torch.tidy(() => {
          const idx = acc.nonzero().squeeze(1);
          if (idx.shape[0] === 0) return null;
          const xs = x.indexSelect(0, idx), ys = y.indexSelect(0, idx);
          const run = this.singleRun(xs, ys, lossFor(xs, ys, r));
          const fooled = run.acc.logicalNot().view([-1, 1, 1, 1]);
          return { adv: adv.clone().indexPut_([idx], run.adv.where(fooled, xs)), acc: acc.clone().indexPut_([idx], run.acc) };
        });
        if (!next) break;
        adv.dispose(); acc.dispose();
        ({ adv, acc } = next);
      }
    });
    return adv;
  }
}

/** APGD with the cross-entropy loss (apgd-ce), torchattacks.APGD(loss='ce'). */
export class APGD extends APGDBase {
  constructor(model: PixelModel, o: AttackOptions = {}, name: 'apgd-ce' | 'apgd-dlr' = 'apgd-ce') {
    super(model, o, name);
    if (name === 'apgd-dlr' && model.backbone.numClasses < 3) throw new Error('apgd-dlr: the DLR loss needs at least 3 classes');
  }
  protected run(x: Tensor, y: Tensor): Tensor {
    const ce: IndivLoss = (z, t) => torch.F.crossEntropy(z, t, { reduction: 'none' });
    return this.attackRounds(x, y, 1, () => (this.name === 'apgd-dlr' ? dlrLoss : ce));
  }
}

/** APGD with the DLR loss (apgd-dlr), torchattacks.APGD(loss='dlr'). */
export class APGDDLR extends APGD {
  constructor(model: PixelModel, o: AttackOptions = {}) { super(model, o, 'apgd-dlr'); }
}

/** APGD-T (torchattacks.APGDT, AutoAttack's targeted APGD): the targeted DLR towards each of the K - 1 other classes in turn. */
export class APGDT extends APGDBase {
  constructor(model: PixelModel, o: AttackOptions = {}) {
    super(model, o, 'apgd-t');
    if (model.backbone.numClasses < 4) throw new Error('apgd-t: the targeted DLR loss needs at least 4 classes');
  }
  protected run(x: Tensor, y: Tensor): Tensor {
    const K = this.model.backbone.numClasses;
    // round r targets the (r + 2)-th most likely class of the clean image (torchattacks: target_class in 2 .. n_classes);
    // lossFor runs inside the round's tidy scope, so the targets live as long as the round
    return this.attackRounds(x, y, K - 1, (xs, _ys, r) => {
      const [, order] = this.logits(xs).sort(1);
      const target = order.select(1, K - (r + 2));
      return (z, t) => dlrLossTargeted(z, t, target);
    });
  }
}
