// CSG-CAM: the class-specific map sum_k G[k, c] * A_k. For a CSG model G is its trained gate; for an STD
// model use FilterClassStats.assignmentGate() (0/1: each filter to the class of its highest mean activation
// over a given dataset), so both kinds of model are explained the same way.
import * as torch from '../torch/index.js';
import { Tensor } from '../torch/index.js';
import type { CsgBackbone } from '../models/types.js';
import { Explainer, type Explanation, type ExplainerOptions } from './base.js';

export class CsgCam extends Explainer {
  readonly name = 'csgcam';
  /** G [K, C], detached float32 copy. */
  readonly gate: Tensor;

  constructor(model: CsgBackbone, gate: Tensor | { weight: Tensor }, o: ExplainerOptions = {}) {
    super(model, o);
    const g = gate instanceof Tensor ? gate : gate.weight;
    if (g.ndim !== 2 || g.shape[0] !== model.numFilters || g.shape[1] !== model.numClasses) {
      throw new Error(`csgcam: the gate must be [${model.numFilters}, ${model.numClasses}] (filters x classes), got [${g.shape.join(', ')}]`);
    }
    this.gate = torch.keep(torch.noGrad(() => g.detach().to('float32').clone()));
  }

  protected compute(x: Tensor, labels: Tensor | undefined): Explanation {
    const { features, logits } = this.forward(x);
    const targets = this.targets(logits, labels);
    const w = torch.noGrad(() => this.gate.to({ dtype: features.dtype, device: features.device }).indexSelect(1, targets).t());   // [N, K]
    return { maps: this.upsample(this.weightedSum(features, w), x).squeeze(1), targets };
  }

  dispose(): void { this.gate.dispose(); }
}
