// What every faithfulness metric shares: the classifier it probes, input checks, the target class's softmax
// probability (pytorch-grad-cam's ClassifierOutputSoftmaxTarget, RISE's model + Softmax) and the per-image
// min-max scaling pytorch-grad-cam applies to its CAMs.
import * as torch from '../../torch/index.js';
import type { Tensor } from '../../torch/index.js';

/** The model under test: images [N, C, H, W] -> logits [N, classes] (e.g. a CsgBackbone's call, in eval mode). */
export type Classifier = (x: Tensor) => Tensor;

/** Throws unless x is [N, C, H, W] float, maps [N, H, W] at x's size and targets int64 [N]. */
export function checkInputs(metric: string, x: Tensor, maps: Tensor, targets: Tensor): void {
  const [n, , h, w] = x.shape;
  if (x.ndim !== 4 || !x.isFloatingPoint()) throw new Error(`${metric}: x must be float [N, C, H, W], got ${x.dtype} [${x.shape.join(', ')}]`);
  if (maps.ndim !== 3 || maps.shape[0] !== n || maps.shape[1] !== h || maps.shape[2] !== w) {
    throw new Error(`${metric}: maps must be [${n}, ${h}, ${w}] (one class map per image at the input's size), got [${maps.shape.join(', ')}]`);
  }
  if (targets.dtype !== 'int64' || targets.ndim !== 1 || targets.shape[0] !== n) {
    throw new Error(`${metric}: targets must be int64 [${n}], got ${targets.dtype} [${targets.shape.join(', ')}]`);
  }
  const bad = torch.tidy(() => maps.isfinite().logicalNot().any().item());
  if (bad) throw new Error(`${metric}: maps hold NaN or infinite values`);
}

/** softmax(model(x))[n, targets[n]] as float32 [N], no gradients. */
export function targetProbs(model: Classifier, x: Tensor, targets: Tensor): Tensor {
  return torch.tidy(() => torch.noGrad(() => torch.F.softmax(model(x), 1).gather(1, targets.unsqueeze(1)).squeeze(1)));
}

/** pytorch-grad-cam's scale_cam_image per image: (m - min) / (1e-7 + max(m - min)), in the maps' dtype. */
export function minMaxScale(maps: Tensor): Tensor {
  return torch.tidy(() => {
    const shifted = maps.sub(maps.amin([1, 2], true));
    return shifted.div(shifted.amax([1, 2], true).add(1e-7));
  });
}

/** Host copy of a tensor as float64 (for per-image results). */
export const host = (t: Tensor): Float64Array => t.toFloat64Array();
