// GradMap (method.md section 5): for an image of class y and each of class y's top filters (the 30 of
// highest mean activation on y, FilterClassStats.topFilters), the gradient of the filter's spatial mean
// activation w.r.t. the input; L2 norm over colour channels; divided by its RMS over pixels (a map that is
// all zero, e.g. of a dead filter, stays zero); Gaussian blur (sigma 30 px and kernel 61 at 128 px, both
// scaled with the image size: gradMapBlur). Binarizing at > 1 is the metric's job.
//
// Batched: per batch, one forward and one backward per filter for each class group of images (compute()).
// In eval mode images do not interact, so d(sum_n mean_hw A[n, k]) / dx[n] is image n's own gradient.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import type { CsgBackbone } from '../models/types.js';
import { Explainer, type Explanation, type ExplainerOptions } from './base.js';

/** The blur at an image size: sigma = 30 s, kernel = 2 floor(30 s + 0.5) + 1 with s = min(H, W) / 128 (61 at 128 px). */
export function gradMapBlur(height: number, width: number): { kernelSize: number; sigma: number } {
  const s = Math.min(height, width) / 128;
  return { kernelSize: 2 * Math.floor(30 * s + 0.5) + 1, sigma: 30 * s };
}

export class GradMap extends Explainer {
  readonly name = 'gradmap';

  /** topFilters[c]: class c's filters, best first, all of one length (FilterClassStats.topFilters(30)). */
  constructor(model: CsgBackbone, readonly topFilters: number[][], o: ExplainerOptions = {}) {
    super(model, o);
    if (topFilters.length !== model.numClasses) throw new Error(`gradmap: topFilters needs one list per class (${model.numClasses}), got ${topFilters.length}`);
    const m = topFilters[0]!.length;
    for (const [c, f] of topFilters.entries()) {
      if (f.length !== m || m === 0) throw new Error(`gradmap: every class needs the same non-zero number of filters (class 0: ${m}, class ${c}: ${f.length})`);
      for (const k of f) if (!(Number.isInteger(k) && k >= 0 && k < model.numFilters)) throw new Error(`gradmap: filter ${k} of class ${c} out of range [0, ${model.numFilters})`);
    }
  }

  protected compute(x: Tensor, labels: Tensor | undefined): Explanation {
    const targets = this.targetsFor(x, labels);
    const t = Array.from(targets.toFloat64Array());
    const [N, , H, W] = x.shape;
    const M = this.topFilters[0]!.length;
    const blur = gradMapBlur(H!, W!);
    // Images grouped by class: every image of a group needs the same M filters, so each backward serves
    // the whole group (a batch-wide backward per filter would also differentiate the images that don't
    // need that filter: with 10 classes, K = 64 and 30 filters per class about twice the work).
    const order: number[] = [];
    const blocks: Tensor[] = [];
    for (const c of [...new Set(t)].sort((a, b) => a - b)) {
      const rows = t.flatMap((v, n) => (v === c ? [n] : []));
      order.push(...rows);
      blocks.push(this.classMaps(x.indexSelect(0, torch.tensor(rows, { dtype: 'int64', device: x.device })), this.topFilters[c]!, blur));
    }
    const inverse = new Array<number>(N!);
    order.forEach((n, i) => { inverse[n] = i; });
    const maps = torch.cat(blocks, 0).indexSelect(0, torch.tensor(inverse, { dtype: 'int64', device: x.device }));
    const filters = torch.tensor(t.map((c) => this.topFilters[c]!).flat(), { dtype: 'int64', device: x.device }).reshape(N!, M);
    return { maps, targets, filters };
  }

  /** [n, M, H, W] for images xs of one class: one forward, one backward per filter. */
  private classMaps(xs: Tensor, filters: number[], blur: { kernelSize: number; sigma: number }): Tensor {
    return torch.tidy(() => {
      const xin = xs.detach().requiresGrad_(true);
      const means = torch.enableGrad(() => this.model.features(xin).mean([2, 3]));   // [n, K]
      const per = filters.map((k, j) => {
        const g = torch.grad(means.select(1, k).sum(), xin, { retainGraph: j < filters.length - 1 })[0]!;   // [n, C, H, W]
        return torch.noGrad(() => {
          const norm = g.square().sum(1, true).sqrt();                    // L2 over colour channels [n, 1, H, W]
          const rms = norm.square().mean([1, 2, 3], true).sqrt();
          const unit = norm.div(rms).where(rms.gt(0), torch.zerosLike(norm));
          return torch.F.gaussianBlur(unit, blur.kernelSize, blur.sigma);
        });
      });
      return torch.cat(per, 1);
    });
  }
}
