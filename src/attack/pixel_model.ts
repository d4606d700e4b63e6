// A classifier seen in pixel space: attacks and detectors work on [0, 1] images, and the dataset's
// normalization lives inside the model (so eps is in pixel units, as torchattacks and Foolbox assume).
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import type { CsgBackbone } from '../models/types.js';

export class PixelModel {
  private readonly meanT: Tensor;
  private readonly stdT: Tensor;

  /** mean/std per channel in [0, 1] units (the dataset's); the backbone must be in eval mode when attacked. */
  constructor(readonly backbone: CsgBackbone, readonly mean: number[], readonly std: number[]) {
    if (mean.length !== std.length || mean.length === 0) throw new Error(`PixelModel: mean and std need one entry per channel (got ${mean.length} and ${std.length})`);
    for (const s of std) if (!(s > 0)) throw new Error(`PixelModel: std entries must be > 0, got ${s}`);
    const c = mean.length;
    const dev = backbone.fc.weight.device;
    this.meanT = torch.keep(torch.tensor(mean, { dtype: 'float32' }).reshape([1, c, 1, 1]).to({ device: dev }));
    this.stdT = torch.keep(torch.tensor(std, { dtype: 'float32' }).reshape([1, c, 1, 1]).to({ device: dev }));
  }

  get channels(): number { return this.mean.length; }

  /** (x - mean) / std for x [N, C, H, W] in [0, 1]; differentiable. */
  normalize(x01: Tensor): Tensor {
    if (x01.ndim !== 4 || x01.shape[1] !== this.channels) throw new Error(`PixelModel: x must be [N, ${this.channels}, H, W], got [${x01.shape.join(', ')}]`);
    return torch.tidy(() => x01.sub(this.meanT).div(this.stdT));
  }

  /** The last conv feature map [N, K, h, w] (after the final ReLU); differentiable. */
  features(x01: Tensor): Tensor { return torch.tidy(() => this.backbone.features(this.normalize(x01))); }

  /** Logits [N, classes]; differentiable. */
  logits(x01: Tensor): Tensor { return torch.tidy(() => this.backbone.forward(this.normalize(x01))); }

  /** Logits and the global-average-pooled features a_k [N, K] from one forward; differentiable. */
  forward(x01: Tensor): { logits: Tensor; gap: Tensor } {
    return torch.tidy(() => {
      const f = this.backbone.features(this.normalize(x01));
      return { logits: this.backbone.head(f), gap: f.mean([2, 3]) };
    });
  }

  /** The predicted class, int64 [N], without autograd. */
  predict(x01: Tensor): Tensor { return torch.noGrad(() => torch.tidy(() => this.logits(x01).argmax(1))); }

  dispose(): void { this.meanT.dispose(); this.stdT.dispose(); }
}
