// XGrad-CAM (Fu et al. 2020) as pytorch-grad-cam's XGradCAM.get_cam_weights:
// w_k = sum_hw(dA_k * A_k) / (sum_hw(A_k) + 1e-7); map = ReLU(sum_k w_k A_k).
import type { Tensor } from '../torch/index.js';
import { GradientWeightedCam } from './gradcam.js';

export class XGradCam extends GradientWeightedCam {
  readonly name = 'xgradcam';
  protected weights(features: Tensor, grads: Tensor): Tensor {
    return grads.mul(features).div(features.sum([2, 3], true).add(1e-7)).sum([2, 3]);
  }
}
