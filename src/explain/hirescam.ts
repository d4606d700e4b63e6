// HiResCAM (Draelos & Carin 2020) as pytorch-grad-cam's HiResCAM.get_cam_image: the elementwise product of
// gradients and activations summed over filters, map = ReLU(sum_k dA_k * A_k) (the ReLU is BaseCAM's).
// With a GAP + linear head at the last feature map it equals Grad-CAM; at earlier layers it does not.
import type { Tensor } from '../torch/index.js';
import { GradientCam } from './gradcam.js';

export class HiResCam extends GradientCam {
  readonly name = 'hirescam';
  protected cam(features: Tensor, grads: Tensor): Tensor { return grads.mul(features).sum(1, true); }
}
