// Grad-CAM (Selvaraju et al. 2017) exactly as pytorch-grad-cam computes it: weights = the mean over
// h, w of d(target logit)/dA; map = ReLU(sum_k w_k A_k). With a GAP + linear head the weights are
// fc.weight[y] / (h w), so before upsampling Grad-CAM = ReLU(CAM) / (h w).
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { Explainer, targetGradients, type Explanation } from './base.js';

/**
 * The CAMs computed from the activations A and the gradients dA of the target logit at the target layer
 * (any layer: ExplainerOptions.layer). The map is ReLU(cam(A, dA)): pytorch-grad-cam's BaseCAM applies
 * np.maximum(cam, 0) to every method before it min-max normalizes, which we don't (base.ts).
 */
export abstract class GradientCam extends Explainer {
  /** The map before its ReLU [N, 1, h, w], from A [N, K, h, w] and dA. */
  protected abstract cam(features: Tensor, grads: Tensor): Tensor;

  protected override anyLayer(): boolean { return true; }

  protected compute(x: Tensor, labels: Tensor | undefined): Explanation {
    const { features, logits } = this.forward(x);
    const targets = this.targets(logits, labels);
    const grads = targetGradients((a) => this.split.suffix(a), features, targets);
    const cam = torch.noGrad(() => torch.F.relu(this.cam(features, grads)));
    return { maps: this.upsample(cam, x).squeeze(1), targets };
  }
}

/** The Grad-CAM family: per-filter weights from the gradients at the target layer, then ReLU(sum_k w_k A_k). */
export abstract class GradientWeightedCam extends GradientCam {
  /** Weights [N, K] from A [N, K, h, w] and the gradients dA of the target logit. */
  protected abstract weights(features: Tensor, grads: Tensor): Tensor;

  protected cam(features: Tensor, grads: Tensor): Tensor { return this.weightedSum(features, this.weights(features, grads)); }
}

export class GradCam extends GradientWeightedCam {
  readonly name = 'gradcam';
  protected weights(_features: Tensor, grads: Tensor): Tensor { return grads.mean([2, 3]); }
}
