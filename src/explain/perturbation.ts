// The gradient-free CAMs (Score-CAM, Ablation-CAM): each filter k of the target layer is weighed by the
// target logit of a perturbed forward pass per (image, filter) pair. pytorch-grad-cam loops over the
// images and runs each image's K copies batch_size at a time; here all N x K pairs of a batch are one
// flat list, run batchSize at a time (one forward can mix images: in eval mode images do not interact),
// so a batch of small images fills the forwards. The map is ReLU(sum_k w_k A_k) (BaseCAM's ReLU; no
// min-max normalization, base.ts).
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import type { CsgBackbone } from '../models/types.js';
import { Explainer, type Explanation, type ExplainerOptions } from './base.js';

export interface PerturbationOptions extends ExplainerOptions {
  /** Perturbed copies per forward pass (pytorch-grad-cam: 16 for Score-CAM, 32 for Ablation-CAM); the maps do not depend on it. */
  batchSize?: number;
}

export abstract class PerturbationCam extends Explainer {
  readonly batchSize: number;

  constructor(model: CsgBackbone, o: PerturbationOptions = {}) {
    super(model, o);
    this.batchSize = o.batchSize ?? 64;
    if (!(Number.isInteger(this.batchSize) && this.batchSize >= 1)) throw new Error(`explainer option batchSize must be a positive integer, got ${o.batchSize}`);
  }

  protected override anyLayer(): boolean { return true; }

  /** Weights [N, K] from the input, A [N, K, h, w] at the target layer, its logits and the targets. */
  protected abstract weights(x: Tensor, features: Tensor, logits: Tensor, targets: Tensor): Tensor;

  protected compute(x: Tensor, labels: Tensor | undefined): Explanation {
    const { features, logits } = this.forward(x);
    const targets = this.targets(logits, labels);
    const cam = torch.noGrad(() => torch.F.relu(this.weightedSum(features, this.weights(x, features, logits, targets))));
    return { maps: this.upsample(cam, x).squeeze(1), targets };
  }

  /**
   * score[n, k] = logits(run(make(...)))[t_n] over the N x K pairs p = n K + k, batchSize pairs per forward:
   * make gets the pairs' flat indices, images and filters (int64 [B] each) and returns the batch to run.
   */
  protected pairScores(N: number, K: number, targets: Tensor, make: (pairs: Tensor, images: Tensor, filters: Tensor) => Tensor,
    run: (batch: Tensor) => Tensor): Tensor {
    return torch.noGrad(() => {
      const device = targets.device, scores: Tensor[] = [];
      for (let start = 0; start < N * K; start += this.batchSize) {
        scores.push(torch.keep(torch.tidy(() => {
          const pairs = torch.arange(start, Math.min(start + this.batchSize, N * K), 1, { dtype: 'int64', device });
          const images = pairs.div(K, 'floor'), filters = pairs.remainder(K);
          return run(make(pairs, images, filters)).gather(1, targets.indexSelect(0, images).unsqueeze(1)).squeeze(1);
        })));
      }
      const out = torch.cat(scores, 0).reshape(N, K);
      for (const s of scores) s.dispose();
      return out;
    });
  }
}
