// LayerCAM (Jiang et al. 2021) as pytorch-grad-cam's LayerCAM.get_cam_image: each position weighted by its
// own positive gradient, map = ReLU(sum_k ReLU(dA_k) * A_k) (the outer ReLU is BaseCAM's).
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { GradientCam } from './gradcam.js';

export class LayerCam extends GradientCam {
  readonly name = 'layercam';
  protected cam(features: Tensor, grads: Tensor): Tensor { return torch.F.relu(grads).mul(features).sum(1, true); }
}
