// Score-CAM (Wang et al. 2020) as pytorch-grad-cam's ScoreCAM.get_cam_weights: each filter's map A_k is
// upsampled to the input size (nn.UpsamplingBilinear2d: align_corners TRUE, unlike the final maps),
// min-max normalized per (image, filter) as (u - min) / (max - min + 1e-8), multiplied into the input;
// the target logits of those N x K masked inputs (the whole model) are softmaxed over the filters:
// w = softmax_k(score). Map = ReLU(sum_k w_k A_k).
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { PerturbationCam } from './perturbation.js';

export class ScoreCam extends PerturbationCam {
  readonly name = 'scorecam';

  protected weights(x: Tensor, features: Tensor, _logits: Tensor, targets: Tensor): Tensor {
    const [N, K] = features.shape as [number, number];
    const [, , H, W] = x.shape as [number, number, number, number];
    const flat = features.flatten(0, 1).unsqueeze(1);                 // [N K, 1, h, w]
    const scores = this.pairScores(N, K, targets, (pairs, images) => {
      // Upsampled one batch at a time: N x K maps at the input size would not fit for large models.
      const up = torch.F.interpolate(flat.indexSelect(0, pairs), { size: [H, W], mode: 'bilinear', alignCorners: true });
      const lo = up.amin([2, 3], true), hi = up.amax([2, 3], true);
      return x.indexSelect(0, images).mul(up.sub(lo).div(hi.sub(lo).add(1e-8)));
    }, (batch) => this.model.call(batch));
    return torch.F.softmax(scores, -1);
  }
}
