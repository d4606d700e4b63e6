// Confidence change when the image is multiplied by its (min-max scaled) map: pytorch-grad-cam's
// cam_mult_image.py (DropInConfidence, IncreaseInConfidence) and Chattopadhyay et al. 2018 (Grad-CAM++):
//   Y = softmax(model(x))[target], O = softmax(model(x * map))[target], map scaled to [0, 1] per image;
//   drop_in_confidence = max(Y - O, 0)          (pytorch-grad-cam, absolute)
//   average_drop       = max(Y - O, 0) / Y      (Chattopadhyay's Average Drop, as a fraction; lower = better)
//   increase           = 1 if O > Y else 0      (Increase in Confidence, as a fraction; higher = better)
import * as torch from '../../torch/index.js';
import type { Tensor } from '../../torch/index.js';
import { checkInputs, minMaxScale, targetProbs, type Classifier } from './common.js';

export interface ConfidenceResult {
  /** Per image. */
  drop: Float64Array;
  averageDrop: Float64Array;
  increase: Float64Array;
  /** Per image: Y and O. */
  before: Float64Array;
  after: Float64Array;
}

export function confidenceChange(model: Classifier, x: Tensor, maps: Tensor, targets: Tensor): ConfidenceResult {
  checkInputs('confidence', x, maps, targets);
  const [before, after] = torch.tidy(() => {
    const scaled = minMaxScale(maps.to(x.dtype)).unsqueeze(1);
    return [targetProbs(model, x, targets), targetProbs(model, x.mul(scaled), targets)].map((t) => t.toFloat64Array());
  }) as unknown as [Float64Array, Float64Array];
  // float32 differences, as the reference subtracts float32 scores
  const diff = before.map((y, i) => Math.fround(after[i]! - y));
  return {
    before, after,
    drop: diff.map((d) => Math.max(-d, 0)),
    averageDrop: diff.map((d, i) => Math.max(-d, 0) / before[i]!),
    increase: diff.map((d) => (d > 0 ? 1 : 0)),
  };
}
