// Grad-CAM (Selvaraju et al. 2017) exactly as pytorch-grad-cam computes it: weights = the mean over
// h, w of d(target logit)/dA; map = ReLU(sum_k w_k A_k). With a GAP + linear head the weights are
// fc.weight[y] / (h w), so before upsampling Grad-CAM = ReLU(CAM) / (h w).
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { Explainer, targetGradients, type Explanation } from './base.js';

/** The Grad-CAM family: per-filter weights from the gradients at the last feature map, then ReLU(sum_k w_k A_k). */
export abstract class GradientWeightedCam extends Explainer {
  /** Weights [N, K] from A [N, K, h, w] and the gradients dA of the target logit. */
  protected abstract weights(features: Tensor, grads: Tensor): Tensor;

  protected compute(x: Tensor, labels: Tensor | undefined): Explanation {
    const { features, logits } = this.forward(x);
    const targets = this.targets(logits, labels);
    const grads = targetGradients(this.model, features, targets);
    const w = torch.noGrad(() => this.weights(features, grads));
    const cam = torch.noGrad(() => torch.F.relu(this.weightedSum(features, w)));
    return { maps: this.upsample(cam, x).squeeze(1), targets };
  }
}

export class GradCam extends GradientWeightedCam {
  readonly name = 'gradcam';
  protected weights(_features: Tensor, grads: Tensor): Tensor { return grads.mean([2, 3]); }
}
