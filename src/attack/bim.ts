// BIM / I-FGSM (Kurakin et al. 2017), torchattacks.BIM: from x itself (no random start), `steps` signed-
// gradient steps of alpha, each clipped to [max(x - eps, 0), min(x + eps, 1)] in torchattacks' order.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { IterativeAttack, type AttackOptions } from './base.js';
import type { PixelModel } from './pixel_model.js';

export class BIM extends IterativeAttack {
  readonly name = 'bim' as const;

  /** Defaults as torchattacks: eps 8/255, alpha 2/255, 10 steps. */
  constructor(model: PixelModel, o: AttackOptions = {}) {
    super(model, o, { eps: 8 / 255, stepSize: 2 / 255, steps: 10 });
    if (o.startNoise) throw new Error('bim: startNoise is not supported (no random start; only pgd and pgd-l2 have one)');
  }

  protected run(x: Tensor, labels: Tensor): Tensor {
    const [lower, upper] = [x.sub(this.eps).clampMin(0), x.add(this.eps)];
    let adv = x;
    for (let i = 0; i < this.steps; i++) {
      const next = torch.tidy(() => {
        const stepped = adv.add(this.gradient(adv, labels).sign().mul(this.stepSize));
        return stepped.maximum(lower).minimum(upper).clampMax(1);
      });
      if (adv !== x) adv.dispose();
      adv = next;
    }
    return adv;
  }
}
