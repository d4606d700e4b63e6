// DeepFool (Moosavi-Dezfooli et al. 2016) as torchattacks 3.5's DeepFool (torchattacks/attacks/deepfool.py):
// each image still classified as its label takes a step to the nearest linearized decision boundary,
//   l = argmin_{k != y} |f_k - f_y| / |w_k - w_y|_2,  x <- clamp(x + (1 + overshoot) |f_l - f_y| (w_l - w_y) / |w_l - w_y|^2, 0, 1)
// (f the logits, w their input gradients), until it is misclassified or `steps` rounds have run. Batched:
// a round forwards the images still being attacked at once and takes the Jacobian row by row (one backward
// per class over the batch; the images do not interact, so each row is the per-image gradient torchattacks
// takes). Untargeted only; eps plays no part (it finds its own, minimal L2 perturbation).
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { Attack, type AttackOptions } from './base.js';
import type { PixelModel } from './pixel_model.js';

export class DeepFool extends Attack {
  readonly name = 'deepfool' as const;
  readonly steps: number;
  readonly overshoot: number;

  /** Defaults as torchattacks: 50 steps, overshoot 0.02. */
  constructor(model: PixelModel, o: AttackOptions = {}) {
    super(model, o);
    this.refuse('loss', 'startNoise', 'stepSize', 'c', 'kappa', 'lr', 'nQueries', 'pInit', 'rho', 'norm');
    if (o.targeted) throw new Error('deepfool: targeted is not supported (torchattacks\' DeepFool is untargeted)');
    this.steps = o.steps ?? 50;
    this.overshoot = o.overshoot ?? 0.02;
  }

  protected run(x: Tensor, labels: Tensor): Tensor {
    const K = this.model.backbone.numClasses;
    let adv = x.clone();
    let active = torch.arange(0, x.shape[0]!, 1, { dtype: 'int64', device: x.device });
    for (let step = 0; step < this.steps && active.shape[0]! > 0; step++) {
      const next = torch.tidy(() => {
        const n = active.shape[0]!;
        const xa = adv.indexSelect(0, active).requiresGrad_(true);
        const y = labels.indexSelect(0, active);
        const logits = torch.enableGrad(() => this.logits(xa));
        const rows: Tensor[] = [];
        for (let k = 0; k < K; k++) {
          const out = torch.enableGrad(() => logits.select(1, k).sum());
          rows.push(torch.grad(out, xa, { retainGraph: k + 1 < K })[0]!.flatten(1));
        }
        const f = logits.detach();
        const w = torch.stack(rows, 1);                                    // [n, K, D]
        const still = f.argmax(1).eq(y);                                   // torchattacks: a fooled image stops here, unchanged
        const fy = f.gather(1, y.unsqueeze(1)), wy = w.index([torch.arange(0, n, 1, { dtype: 'int64', device: x.device }), y]).unsqueeze(1);
        const fp = f.sub(fy), wp = w.sub(wy);                              // f', w' [n, K(, D)]
        const value = fp.abs().div(wp.norm(2, 2)).scatter(1, y.unsqueeze(1), Infinity);
        const hat = value.argmin(1, true);                                 // the nearest other class
        const fh = fp.gather(1, hat).abs();                                // [n, 1]
        const wh = wp.gather(1, hat.unsqueeze(2).expand([n, 1, wp.shape[2]!])).squeeze(1);   // [n, D]
        const delta = fh.mul(wh).div(wh.norm(2, 1, true).pow(2)).view(xa.shape);
        const stepped = xa.detach().add(delta.mul(1 + this.overshoot)).clamp(0, 1);
        const moved = stepped.where(still.view([n, 1, 1, 1]), xa.detach());
        return { adv: adv.clone().indexPut_([active], moved), active: active.index([still]) };
      });
      adv.dispose(); active.dispose();
      ({ adv, active } = next);
    }
    active.dispose();
    return adv;
  }
}
