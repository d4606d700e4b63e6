// The class-specific gate G [K filters, C classes] of method.md section 1-2.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { gateAssignment } from '../metrics/analysis.js';

export class ClassSpecificGate {
  /** G, a leaf tensor with requiresGrad, values in [0, 1]. */
  readonly weight: Tensor;

  constructor(readonly numFilters: number, readonly numClasses: number, init = 0.5, dtype: 'float32' | 'float64' = 'float32') {
    this.weight = torch.keep(torch.full([numFilters, numClasses], init, { dtype, requiresGrad: true }));
  }

  /**
   * CSG path: scales each sample's filter maps by its class's column, a * G[:, y] (features
   * [N, K, H, W], labels int64 [N]). Works on pooled features [N, K] as well.
   */
  apply(features: Tensor, labels: Tensor): Tensor {
    return torch.tidy(() => {
      const cols = this.weight.indexSelect(1, labels).t(); // [N, K]
      const shaped = features.ndim === 4 ? cols.unsqueeze(2).unsqueeze(3) : cols;
      return features.mul(shaped);
    });
  }

  /** Gate density sum|G| / (K*C). */
  density(): number {
    return torch.tidy(() => torch.noGrad(() => this.weight.abs().mean().item()));
  }

  /**
   * Row-max projection after every CSG optimizer step: G[k,:] /= max_c G[k,c], then clamp to [0,1].
   * Guard: a row whose maximum is <= 0 (possible only after a large negative step) is reopened to
   * all ones, so that every filter keeps at least one fully open class (the released code divides
   * by clamp_min(1e-12), which would close such a filter for every class instead).
   */
  project_(): void {
    torch.tidy(() => torch.noGrad(() => {
      const rowMax = this.weight.amax(1, true);
      const dead = rowMax.le(0);
      const safe = rowMax.where(dead.logicalNot(), torch.onesLike(rowMax));
      const projected = this.weight.div(safe).clamp(0, 1).maskedFill(dead.expandAs(this.weight), 1);
      this.weight.copy_(projected);
    }));
  }

  /** assignment[k] = argmax_c G[k, c]: the class each filter serves (metrics/analysis.ts's rule: ties to the lowest class, NaN ignored). */
  assignment(): number[] {
    const g = torch.tidy(() => this.weight.detach().toFloat64Array());
    return Array.from(gateAssignment(g, this.numFilters, this.numClasses));
  }

  /** G as nested arrays [K][C]. */
  toArray(): number[][] {
    return torch.tidy(() => this.weight.detach().tolist());
  }
}
