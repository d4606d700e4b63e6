// FGSM (Goodfellow et al. 2015), torchattacks.FGSM: x' = clamp(x + eps * sign(grad CE), 0, 1).
import type { Tensor } from '../torch/index.js';
import { Attack, type AttackOptions } from './base.js';
import type { PixelModel } from './pixel_model.js';

export class FGSM extends Attack {
  readonly name = 'fgsm' as const;
  readonly eps: number;

  /** Defaults as torchattacks: eps 8/255. */
  constructor(model: PixelModel, o: AttackOptions = {}) {
    super(model, o);
    if (o.startNoise) throw new Error('fgsm: startNoise is not supported (no random start; only pgd and pgd-l2 have one)');
    this.eps = o.eps ?? 8 / 255;
  }

  protected run(x: Tensor, labels: Tensor): Tensor {
    return x.add(this.gradient(x, labels).sign().mul(this.eps)).clamp(0, 1);
  }
}
