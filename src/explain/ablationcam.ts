// Ablation-CAM (Desai & Ramaswamy 2020) as pytorch-grad-cam's AblationCAM (ratio_channels_to_ablate 1):
// the rest of the network after the target layer runs on A with filter k ablated, one copy per (image,
// filter); w_k = (s - s_k) / s with s the target logit and s_k the ablated one. Map = ReLU(sum_k w_k A_k).
// AblationLayer's ablated value: 0 when the image's activations have minimum 0 (the usual case after a
// ReLU), else min - 1e7. pytorch-grad-cam recomputes that minimum after each in-place ablation within a
// batch, so its later copies of a batch get min - 2e7, min - 3e7, ... (a value that depends on batch_size);
// here every copy gets min - 1e7, its first copy's value. Both agree whenever the minimum is 0.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { PerturbationCam } from './perturbation.js';

export const ABLATION_VALUE = 1e7;

export class AblationCam extends PerturbationCam {
  readonly name = 'ablationcam';

  protected weights(_x: Tensor, features: Tensor, logits: Tensor, targets: Tensor): Tensor {
    const [N, K] = features.shape as [number, number];
    const min = features.amin([1, 2, 3]);                                           // [N]
    const value = torch.where(min.eq(0), torch.zerosLike(min), min.sub(ABLATION_VALUE));
    const channels = torch.arange(0, K, 1, { dtype: 'int64', device: features.device }).unsqueeze(0);
    const ablated = this.pairScores(N, K, targets, (_pairs, images, filters) => {
      const hit = channels.eq(filters.unsqueeze(1)).unsqueeze(2).unsqueeze(3);      // [B, K, 1, 1]
      return torch.where(hit, value.indexSelect(0, images).reshape(-1, 1, 1, 1), features.indexSelect(0, images));
    }, (batch) => this.split.suffix(batch));
    const s = logits.gather(1, targets.unsqueeze(1));                                 // [N, 1]
    return s.sub(ablated).div(s);
  }
}
