// EigenCAM (Muhammad & Yeasin 2020) as pytorch-grad-cam's get_2d_projection: per image, the activations as
// an [h w, K] matrix X (NaN -> 0), centred over positions, projected on their first principal direction:
// map = ReLU(X v1) (the ReLU is BaseCAM's). Gradient- and class-free (the targets are only reported).
//
// libtorch's SVD is not wrapped: v1 comes from the symmetric eigendecomposition (float64) of the smaller
// Gram matrix, X^T X [K, K] or X X^T [hw, hw] (then v1 = X^T u1 / |X^T u1|), batched in torch and solved
// per image (no batched eigensolver). A singular vector's sign is arbitrary (pytorch-grad-cam keeps whatever
// LAPACK returns, so its maps can flip between numpy builds); csgnet fixes it: sum_k v1[k] >= 0, i.e. the
// projection correlates non-negatively with the centred sum over filters (X^T X v1 = lambda v1, so
// <X v1, X 1> = lambda <v1, 1>).
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { symmetricEigen } from '../detect/linalg.js';
import { Explainer, type Explanation } from './base.js';

export class EigenCam extends Explainer {
  readonly name = 'eigencam';

  protected override anyLayer(): boolean { return true; }

  protected compute(x: Tensor, labels: Tensor | undefined): Explanation {
    const { features, logits } = this.forward(x);
    const targets = this.targets(logits, labels);
    const cam = torch.noGrad(() => torch.F.relu(this.projection(features)));
    return { maps: this.upsample(cam, x).squeeze(1), targets };
  }

  /** X v1 as [N, 1, h, w] for A [N, K, h, w]. */
  private projection(features: Tensor): Tensor {
    const [N, K, h, w] = features.shape as [number, number, number, number];
    const a = features.to('float64').flatten(2).transpose(1, 2);                       // [N, hw, K]
    const clean = torch.where(a.isnan(), torch.zerosLike(a), a);
    const X = clean.sub(clean.mean(1, true));
    const byFilters = K <= h * w;
    const gram = byFilters ? X.transpose(1, 2).bmm(X) : X.bmm(X.transpose(1, 2));   // [N, n, n]
    const n = byFilters ? K : h * w;
    const g = gram.contiguous().toFloat64Array();
    const top = new Float64Array(N * n);
    for (let i = 0; i < N; i++) {
      const { values, vectors } = symmetricEigen(g.subarray(i * n * n, (i + 1) * n * n), n);
      let j = 0;
      for (let c = 1; c < n; c++) if (values[c]! > values[j]!) j = c;
      for (let r = 0; r < n; r++) top[i * n + r] = vectors[r * n + j]!;
    }
    let v = torch.fromTypedArray(top, [N, n, 1]).to({ device: features.device });
    if (!byFilters) {
      const xu = X.transpose(1, 2).bmm(v);                                             // [N, K, 1]
      v = xu.div(xu.norm(2, 1, true).clampMin(1e-300));
    }
    const sign = v.sum(1, true).lt(0).to('float64').mul(-2).add(1);                   // -1 where sum_k v1[k] < 0
    return X.bmm(v.mul(sign)).reshape(N, 1, h, w).to(features.dtype);
  }
}
