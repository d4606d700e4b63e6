// Saliency (Simonyan et al. 2014) as Captum's Saliency(abs=True): |d logit_t / dx|, reduced to one map per
// image by the maximum over colour channels (the paper's and the usual image convention).
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import type { Explanation } from './base.js';
import { InputAttribution } from './attribution.js';

export class Saliency extends InputAttribution {
  readonly name = 'saliency';
  protected compute(x: Tensor, labels: Tensor | undefined): Explanation {
    const targets = this.targetsFor(x, labels);
    const parts = this.gradientChunks(x.shape[0]!, targets, (s, n) => x.narrow(0, s, n), (g) => g.abs().amax(1));
    return { maps: parts.length === 1 ? parts[0]! : torch.cat(parts, 0), targets };
  }
}
