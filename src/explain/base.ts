// The shared base of every explainer (pytorch-grad-cam / Captum style: one small class per method).
// It runs the model's feature/head split once per batch, computes gradients through torch.grad only
// for the methods that need them, and upsamples maps to the input size (bilinear, align_corners false).
//
// Normalization: explainers return RAW maps (no per-image min-max), for every method alike. Grad-CAM
// and Grad-CAM++ keep pytorch-grad-cam's ReLU (part of their definition); CAM and CSG-CAM have none
// (method.md section 5). pytorch-grad-cam min-max normalizes each image after upsampling; metrics that
// need it (MaxBoxAccV2, PxAP) normalize themselves, and the released code's top-30 % binarization does
// not depend on it.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import type { CsgBackbone } from '../models/types.js';
import { isLastFeatureMap, splitAt, type LayerSplit } from '../models/split.js';

/** Whose class a map explains: the ground-truth label (the paper's convention, the default) or the prediction. */
export type Target = 'label' | 'prediction';
export const TARGETS: readonly Target[] = ['label', 'prediction'];

export interface ExplainerOptions {
  target?: Target;
  /**
   * The target layer (pytorch-grad-cam's target_layers[0]) by its state-dict prefix, e.g. 'layer3.1': any
   * module on the backbone's forward path (models/split.ts layerNames). Default: the last feature map.
   * CAM, CSG-CAM, ActivMap and GradMap explain the last feature map only.
   */
  layer?: string;
}

export interface Explanation {
  /** Class maps [N, H, W], or per-filter maps [N, M, H, W] (ActivMap, GradMap), at the input's size. */
  maps: Tensor;
  /** The class explained for each image, int64 [N]. */
  targets: Tensor;
  /** Per-filter methods: the filter index of each map, int64 [N, M]. */
  filters?: Tensor;
}

export abstract class Explainer {
  abstract readonly name: string;
  readonly target: Target;
  /** The model cut at the target layer: A = split.prefix(x), logits = split.suffix(A). */
  protected readonly split: LayerSplit;

  constructor(readonly model: CsgBackbone, o: ExplainerOptions = {}) {
    this.target = o.target ?? 'label';
    if (!TARGETS.includes(this.target)) throw new Error(`explainer: target must be one of ${TARGETS.join(', ')}, got '${String(o.target)}'`);
    this.split = splitAt(model, o.layer);
    if (!this.anyLayer() && !isLastFeatureMap(model, this.split)) {
      throw new Error(`layer '${o.layer}': ${this.constructor.name} explains the last feature map only (it weighs the last layer's filters)`);
    }
  }

  /** Whether the method works at any target layer (the gradient- and score-weighted CAMs) or only the last. */
  protected anyLayer(): boolean { return false; }

  /** The target layer's name ('' for the default, the last feature map). */
  get layer(): string { return this.split.layer; }

  /**
   * Maps for a batch x [N, C, H, W]; labels int64 [N] are required for target 'label'. The model must be
   * in eval mode (BatchNorm's running statistics: images don't interact, which GradMap's batching relies on).
   * Every intermediate tensor is freed; the caller owns the returned ones.
   */
  explain(x: Tensor, labels?: Tensor): Explanation {
    if (this.model.training) throw new Error(`${this.name}: the model is in training mode; call model.eval() first`);
    if (x.ndim !== 4) throw new Error(`${this.name}: x must be [N, C, H, W], got [${x.shape.join(', ')}]`);
    if (labels) {
      if (labels.dtype !== 'int64' || labels.ndim !== 1 || labels.shape[0] !== x.shape[0]) {
        throw new Error(`${this.name}: labels must be int64 [${x.shape[0]}], got ${labels.dtype} [${labels.shape.join(', ')}]`);
      }
    } else if (this.target === 'label') {
      throw new Error(`${this.name}: target 'label' needs the labels (or use target 'prediction')`);
    }
    return torch.tidy(() => this.compute(x, labels));
  }

  protected abstract compute(x: Tensor, labels: Tensor | undefined): Explanation;

  /** The split at the target layer, once, in inference mode: A [N, K, h, w] and the logits. */
  protected forward(x: Tensor): { features: Tensor; logits: Tensor } {
    return torch.noGrad(() => {
      const features = this.split.prefix(x);
      return { features, logits: this.split.suffix(features) };
    });
  }

  /** The class each image is explained for. */
  protected targets(logits: Tensor | null, labels: Tensor | undefined): Tensor {
    if (this.target === 'label') return labels!.clone();
    return torch.noGrad(() => logits!.argmax(1));
  }

  /** Logits only when the target needs them (the prediction). */
  protected targetsFor(x: Tensor, labels: Tensor | undefined): Tensor {
    return this.targets(this.target === 'prediction' ? this.forward(x).logits : null, labels);
  }

  /** [N, M, h, w] -> [N, M, H, W] at the input's size, bilinear, align_corners false. */
  protected upsample(maps: Tensor, x: Tensor): Tensor {
    return torch.noGrad(() => torch.F.interpolate(maps, { size: [x.shape[2], x.shape[3]], mode: 'bilinear', alignCorners: false }));
  }

  /** sum_k w[n, k] * A[n, k] as [N, 1, h, w] for weights w [N, K]. */
  protected weightedSum(features: Tensor, weights: Tensor): Tensor {
    return torch.noGrad(() => features.mul(weights.unsqueeze(2).unsqueeze(3)).sum(1, true));
  }
}

/**
 * d(sum_n logits[n, t_n]) / dA through what follows A only (A detached: no graph through the layers before):
 * the model's head for the last feature map, or a split's suffix for another layer.
 */
export function targetGradients(rest: CsgBackbone | ((a: Tensor) => Tensor), features: Tensor, targets: Tensor): Tensor {
  const suffix = typeof rest === 'function' ? rest : (a: Tensor) => rest.head(a);
  return torch.enableGrad(() => {
    const leaf = features.detach().requiresGrad_(true);
    const score = suffix(leaf).gather(1, targets.unsqueeze(1)).sum();
    return torch.grad(score, leaf)[0]!;
  });
}
