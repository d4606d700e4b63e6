// Grad-CAM++ (Chattopadhyay et al. 2018) exactly as pytorch-grad-cam's GradCAMPlusPlus.get_cam_weights:
// alpha = g^2 / (2 g^2 + sum_hw(A) g^3 + 1e-6), 0 where g = 0; weights = sum_hw ReLU(g) * alpha.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { GradientWeightedCam } from './gradcam.js';

export class GradCamPlusPlus extends GradientWeightedCam {
  readonly name = 'gradcampp';

  protected weights(features: Tensor, grads: Tensor): Tensor {
    return torch.tidy(() => {
      const g2 = grads.square();
      const g3 = g2.mul(grads);
      const sumA = features.sum([2, 3], true);
      const alpha = g2.div(g2.mul(2).add(sumA.mul(g3)).add(1e-6));
      const a = alpha.where(grads.ne(0), torch.zerosLike(alpha));
      return torch.F.relu(grads).mul(a).sum([2, 3]);
    });
  }
}
