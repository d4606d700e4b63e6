// torch.nn.functional, with PyTorch's argument names and defaults (options objects for the optional ones).
import { Tensor, op, REDUCTION, type Reduction, type Dtype } from './tensor.js';
import { tensor } from './creation.js';
import { tidy } from './scope.js';

type Pair = number | [number, number];

export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor { return op('linear', x, weight, bias ?? null); }

export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null,
  o: { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number } = {}): Tensor {
  return op('conv2d', x, weight, bias ?? null, o.stride ?? 1, o.padding ?? 0, o.dilation ?? 1, o.groups ?? 1);
}

export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null,
  o: { stride?: Pair; padding?: Pair; outputPadding?: Pair; groups?: number; dilation?: Pair } = {}): Tensor {
  return op('convTranspose2d', x, weight, bias ?? null, o.stride ?? 1, o.padding ?? 0, o.outputPadding ?? 0, o.groups ?? 1, o.dilation ?? 1);
}

/** Batch norm; in training mode it updates runningMean/runningVar in place, as PyTorch does. */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null,
  o: { weight?: Tensor | null; bias?: Tensor | null; training?: boolean; momentum?: number; eps?: number } = {}): Tensor {
  return op('batchNorm', x, o.weight ?? null, o.bias ?? null, runningMean, runningVar, o.training ?? false, o.momentum ?? 0.1, o.eps ?? 1e-5, true);
}

export function layerNorm(x: Tensor, normalizedShape: number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  return op('layerNorm', x, normalizedShape, weight ?? null, bias ?? null, eps, true);
}

export function maxPool2d(x: Tensor, kernelSize: Pair, o: { stride?: Pair; padding?: Pair; dilation?: Pair; ceilMode?: boolean } = {}): Tensor {
  return op('maxPool2d', x, kernelSize, o.stride ?? kernelSize, o.padding ?? 0, o.dilation ?? 1, o.ceilMode ?? false);
}

/** max_pool2d with return_indices: [values, flat indices into each H*W plane]. */
export function maxPool2dWithIndices(x: Tensor, kernelSize: Pair, o: { stride?: Pair; padding?: Pair; dilation?: Pair; ceilMode?: boolean } = {}): [Tensor, Tensor] {
  return op('maxPool2dWithIndices', x, kernelSize, o.stride ?? kernelSize, o.padding ?? 0, o.dilation ?? 1, o.ceilMode ?? false);
}

export function avgPool2d(x: Tensor, kernelSize: Pair,
  o: { stride?: Pair; padding?: Pair; ceilMode?: boolean; countIncludePad?: boolean; divisorOverride?: number } = {}): Tensor {
  return op('avgPool2d', x, kernelSize, o.stride ?? kernelSize, o.padding ?? 0, o.ceilMode ?? false, o.countIncludePad ?? true, o.divisorOverride ?? null);
}

export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor { return op('adaptiveAvgPool2d', x, outputSize); }
export function adaptiveMaxPool2d(x: Tensor, outputSize: Pair): [Tensor, Tensor] { return op('adaptiveMaxPool2d', x, outputSize); }

export function relu(x: Tensor): Tensor { return op('relu', x); }
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor { return op('leakyRelu', x, negativeSlope); }
export function sigmoid(x: Tensor): Tensor { return op('sigmoid', x); }
export function tanh(x: Tensor): Tensor { return op('tanh', x); }
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor { return op('gelu', x, approximate); }
export function silu(x: Tensor): Tensor { return op('silu', x); }
export function softmax(x: Tensor, dim: number, dtype?: Dtype): Tensor { return op('softmax', x, dim, dtype); }
export function logSoftmax(x: Tensor, dim: number, dtype?: Dtype): Tensor { return op('logSoftmax', x, dim, dtype); }
export function dropout(x: Tensor, p = 0.5, training = true): Tensor { return op('dropout', x, p, training); }

export interface CrossEntropyOptions { weight?: Tensor | null; reduction?: Reduction; ignoreIndex?: number; labelSmoothing?: number }

/** Cross-entropy from logits and class indices (int64) or class probabilities (float). */
export function crossEntropy(logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  return op('crossEntropy', logits, target, o.weight ?? null, REDUCTION[o.reduction ?? 'mean'], o.ignoreIndex ?? -100, o.labelSmoothing ?? 0);
}

export function nllLoss(logProbs: Tensor, target: Tensor, o: { weight?: Tensor | null; reduction?: Reduction; ignoreIndex?: number } = {}): Tensor {
  return op('nllLoss', logProbs, target, o.weight ?? null, REDUCTION[o.reduction ?? 'mean'], o.ignoreIndex ?? -100);
}

export function mseLoss(x: Tensor, y: Tensor, reduction: Reduction = 'mean'): Tensor { return op('mseLoss', x, y, REDUCTION[reduction]); }
export function l1Loss(x: Tensor, y: Tensor, reduction: Reduction = 'mean'): Tensor { return op('l1Loss', x, y, REDUCTION[reduction]); }
export function binaryCrossEntropyWithLogits(x: Tensor, y: Tensor, reduction: Reduction = 'mean'): Tensor {
  return op('bceWithLogits', x, y, null, null, REDUCTION[reduction]);
}

export function oneHot(labels: Tensor, numClasses = -1): Tensor { return op('oneHot', labels, numClasses); }

/** F.pad: pad is [left, right, top, bottom, ...] from the last dim backwards. */
export function pad(x: Tensor, padding: number[], mode: 'constant' | 'reflect' | 'replicate' = 'constant', value = 0): Tensor {
  if (mode === 'constant') return op('pad', x, padding, value);
  if (padding.length !== 4) throw new Error(`pad: mode '${mode}' supports 4 padding values (2-D), got ${padding.length}`);
  return op(mode === 'reflect' ? 'reflectionPad2d' : 'replicationPad2d', x, padding);
}

/** F.interpolate for 4-D input: bilinear (alignCorners) or nearest, to a size or by a scale factor. */
export function interpolate(x: Tensor, o: { size?: Pair; scaleFactor?: number | [number, number]; mode?: 'bilinear' | 'nearest'; alignCorners?: boolean }): Tensor {
  const size = o.size === undefined ? null : typeof o.size === 'number' ? [o.size, o.size] : o.size;
  const scale = o.scaleFactor === undefined ? null : typeof o.scaleFactor === 'number' ? [o.scaleFactor, o.scaleFactor] : o.scaleFactor;
  if (!size && !scale) throw new Error('interpolate: give size or scaleFactor');
  if ((o.mode ?? 'nearest') === 'bilinear') return op('upsampleBilinear2d', x, size, o.alignCorners ?? false, size ? null : scale);
  if (o.alignCorners) throw new Error('interpolate: alignCorners only applies to bilinear mode');
  return op('upsampleNearest2d', x, size, size ? null : scale);
}

/**
 * A normalized 1-D Gaussian kernel (as torchvision's gaussian_blur builds it: in the dtype asked for,
 * float64 weights for float64, float32 otherwise), created on `device` (default the CPU).
 */
export function gaussianKernel1d(kernelSize: number, sigma: number, o: { dtype?: Dtype; device?: string } = {}): Tensor {
  const half = (kernelSize - 1) / 2;
  const w = o.dtype === 'float64' ? new Float64Array(kernelSize) : new Float32Array(kernelSize);
  let s = 0;
  for (let i = 0; i < kernelSize; i++) { const x = (i - half) / sigma; w[i] = Math.exp(-0.5 * x * x); s += w[i]; }
  for (let i = 0; i < kernelSize; i++) w[i] /= s;
  return tensor(w, { dtype: o.dtype ?? 'float32', device: o.device });
}

/** Gaussian blur of [N, C, H, W] by a separable depthwise convolution with reflect padding (torchvision's choice). */
export function gaussianBlur(x: Tensor, kernelSize: number, sigma: number): Tensor {
  if (kernelSize % 2 !== 1) throw new Error(`gaussianBlur: kernelSize must be odd, got ${kernelSize}`);
  // tidy frees the kernel, its reshapes and the intermediates (the explicit disposes missed some)
  return tidy(() => {
    const c = x.shape[1];
    const k = gaussianKernel1d(kernelSize, sigma, { dtype: x.dtype, device: x.device });   // on x's device: no host kernel on CUDA
    const kh = k.reshape(1, 1, kernelSize, 1).repeat(c, 1, 1, 1);
    const kw = k.reshape(1, 1, 1, kernelSize).repeat(c, 1, 1, 1);
    const r = (kernelSize - 1) / 2;
    const padded = pad(x, [r, r, r, r], 'reflect');
    return conv2d(conv2d(padded, kh, null, { groups: c }), kw, null, { groups: c });
  });
}

/**
 * Per-row threshold keeping the top `fraction` of values: for x [N, ...] returns [N] thresholds t
 * such that x >= t selects the ceil(fraction * M) largest entries of each row (M = entries per row).
 */
export function topFractionThreshold(x: Tensor, fraction: number): Tensor {
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`topFractionThreshold: fraction must be in (0, 1], got ${fraction}`);
  const flat = x.flatten(1);
  const k = Math.max(1, Math.ceil(fraction * flat.shape[1]));
  const [vals, idx] = flat.topk(k, 1, true, true);
  const t = vals.select(1, k - 1);
  flat.dispose(); vals.dispose(); idx.dispose();
  return t;
}
