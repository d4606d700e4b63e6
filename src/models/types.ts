// The interface every csgnet backbone implements, so the CSG method can gate its last conv layer.
import type { Tensor } from '../torch/tensor.js';
import { Module, chain, type AdaptiveAvgPool2d, type Linear } from '../torch/nn/index.js';

/**
 * A CNN split at its last convolutional feature map:
 * forward(x) = head(features(x)), head = global average pooling + the single linear layer `fc`.
 */
export interface CsgBackbone extends Module {
  /** The last conv feature map [N, K, H, W], after the final ReLU. */
  features(x: Tensor): Tensor;
  /** Global average pooling + fc: [N, K, H, W] -> logits [N, numClasses]. */
  head(features: Tensor): Tensor;
  forward(x: Tensor): Tensor;
  /** K, the number of filters of the feature map. */
  readonly numFilters: number;
  readonly numClasses: number;
  readonly fc: Linear;
  /** Top-level child module names in forward order (recipes freeze "all but the top N children"). */
  topChildren(): string[];
  /** [name, module] of the stages features(x) runs one after another (explainers cut the model there: split.ts). */
  featureStages(): [string, Module][];
}

/**
 * The shared tail of every csgnet model: subclasses register their layers, then `avgpool` and
 * `fc` last (torchvision's order), and implement features(); the head and forward are the same for all.
 */
export abstract class GapBackbone extends Module implements CsgBackbone {
  abstract readonly avgpool: AdaptiveAvgPool2d;
  abstract readonly fc: Linear;
  abstract readonly numFilters: number;
  abstract readonly numClasses: number;
  abstract features(x: Tensor): Tensor;

  head(features: Tensor): Tensor {
    return chain(features, [(t) => this.avgpool.call(t), (t) => t.flatten(1), (t) => this.fc.call(t)]);
  }

  forward(x: Tensor): Tensor {
    const f = this.features(x);
    const out = this.head(f);
    f.dispose();
    return out;
  }

  topChildren(): string[] { return [...this.namedChildren()].map(([n]) => n); }

  /** Every top-level child before the head: each model's features() chains exactly these (test/explain_cam.test.ts checks). */
  featureStages(): [string, Module][] { return this.namedChildren().filter(([, m]) => m !== this.avgpool && m !== this.fc); }
}

/** Whether a dotted parameter name lies inside one of the given top-level children. */
export function inChildren(name: string, children: string[]): boolean {
  return children.some((c) => name === c || name.startsWith(c + '.'));
}

/**
 * Freezes every parameter outside the last `n` top-level children (and unfreezes those inside),
 * like the VOC-part recipe. Returns the names of the children left trainable.
 */
export function freezeAllButTopChildren(model: CsgBackbone, n: number): string[] {
  const names = model.topChildren();
  if (!Number.isInteger(n) || n < 0 || n > names.length) throw new Error(`freezeAllButTopChildren: n must be an integer in [0, ${names.length}], got ${n}`);
  const top = names.slice(names.length - n);
  for (const [name, p] of model.namedParameters()) p.requiresGrad_(inChildren(name, top));
  return top;
}

export { Module };
