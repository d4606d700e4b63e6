// Parity with PyTorch (golden values from scripts/golden/ops.py): interpolate, conv2d (incl. on
// channels_last input), batch norm (train with running stats, eval), pooling, activations, dropout,
// losses, gaussian blur (vs torchvision's algorithm written out in the script), topFractionThreshold
// (vs torch.topk) and the autograd entry points (saliency via grad(), backward with a gradient).
// Tolerances: see test/ops_golden.ts (float32 atol 1e-5 / rtol 1e-4; conv/bn/loss cases store
// atol 2e-5..3e-5; ints and bools exact). Dropout in training mode is checked statistically here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFamily } from './ops_golden.js';
import { F, Tensor, grad, tensor, ones, tidy, manualSeed, type Reduction } from '../src/torch/index.js';

runFamily('interp', {
  bilinear_size_ac: ({ a }) => F.interpolate(a, { size: [5, 7], mode: 'bilinear', alignCorners: true }),
  bilinear_size: ({ a }) => F.interpolate(a, { size: [5, 7], mode: 'bilinear', alignCorners: false }),
  bilinear_down: ({ a }) => F.interpolate(a, { size: [4, 3], mode: 'bilinear' }),
  bilinear_down_ac: ({ a }) => F.interpolate(a, { size: [4, 3], mode: 'bilinear', alignCorners: true }),
  bilinear_scale2: ({ a }) => F.interpolate(a, { scaleFactor: 2, mode: 'bilinear' }),
  bilinear_scale15_ac: ({ a }) => F.interpolate(a, { scaleFactor: 1.5, mode: 'bilinear', alignCorners: true }),
  bilinear_scale_tuple: ({ a }) => F.interpolate(a, { scaleFactor: [1.5, 0.5], mode: 'bilinear' }),
  nearest_size: ({ a }) => F.interpolate(a, { size: [5, 7] }),
  nearest_scale2: ({ a }) => F.interpolate(a, { scaleFactor: 2, mode: 'nearest' }),
  nearest_scale_half: ({ a }) => F.interpolate(a, { scaleFactor: 0.5 }),
  nearest_scale15: ({ a }) => F.interpolate(a, { scaleFactor: 1.5, mode: 'nearest' }),
});

runFamily('conv', {
  basic_bias: ({ x, w, b }) => F.conv2d(x, w, b),
  stride_padding: ({ x, w, b }) => F.conv2d(x, w, b, { stride: 2, padding: 1 }),
  dilation: ({ x, w }) => F.conv2d(x, w, null, { dilation: 2 }),
  groups: ({ x, w, b }) => F.conv2d(x, w, b, { padding: 1, groups: 2 }),
  depthwise: ({ x, w }) => F.conv2d(x, w, undefined, { groups: 3 }),
  asym: ({ x, w, b }) => F.conv2d(x, w, b, { stride: [2, 1], padding: [1, 2], dilation: [1, 2] }),
  one_by_one: ({ x, w }) => F.conv2d(x, w),
  float64: ({ x, w }) => F.conv2d(x, w, null, { padding: 1 }),
  conv_transpose: ({ x, w, b }) => F.convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1 }),
});

runFamily('memfmt', {
  channels_last_strides: ({ a }) => {
    const cl = a.contiguous('channels_last');
    return [tensor(cl.stride()), tensor(cl.isContiguous('channels_last')), tensor(cl.isContiguous())];
  },
  channels_last_values: ({ a }) => a.contiguous('channels_last').mul(2),
  conv_nchw: ({ x, w, b }) => F.conv2d(x, w, b, { padding: 1 }),
  conv_channels_last: ({ x, w, b }) => F.conv2d(x.contiguous('channels_last'), w, b, { padding: 1 }),
  conv_channels_last_out_strides: ({ x, w }) =>
    tensor(F.conv2d(x.contiguous('channels_last'), w.contiguous('channels_last'), null, { padding: 1 }).stride()),
  clone_channels_last: ({ a }) => { const c = a.clone('channels_last'); return [tensor(c.stride()), c]; },
  to_channels_last: ({ a }) => tensor(a.to({ memoryFormat: 'channels_last' }).stride()),
});

runFamily('bn', {
  train: ({ x, w, b, rm, rv }) => [F.batchNorm(x, rm, rv, { weight: w, bias: b, training: true, momentum: 0.3, eps: 1e-5 }), rm, rv],
  train_no_affine: ({ x }) => F.batchNorm(x, null, null, { training: true }),
  train_2d_input: ({ x, w, b, rm, rv }) => [F.batchNorm(x, rm, rv, { weight: w, bias: b, training: true, momentum: 0.3 }), rm, rv],
  eval: ({ x, w, b, rm, rv }) => F.batchNorm(x, rm, rv, { weight: w, bias: b, training: false, eps: 1e-3 }),
  layer_norm: ({ x, w, b }) => F.layerNorm(x, [4], w, b),
});

runFamily('pool', {
  max_k2: ({ a }) => F.maxPool2d(a, 2),
  max_k3_s2_p1: ({ a }) => F.maxPool2d(a, 3, { stride: 2, padding: 1 }),
  max_ceil: ({ a }) => F.maxPool2d(a, 2, { ceilMode: true }),
  max_dilation: ({ a }) => F.maxPool2d(a, 2, { stride: 1, dilation: 2 }),
  max_rect: ({ a }) => F.maxPool2d(a, [2, 3], { stride: [1, 2] }),
  max_with_indices: ({ a }) => F.maxPool2dWithIndices(a, 2),
  avg_k2: ({ a }) => F.avgPool2d(a, 2),
  avg_pad_include: ({ a }) => F.avgPool2d(a, 3, { stride: 2, padding: 1, countIncludePad: true }),
  avg_pad_exclude: ({ a }) => F.avgPool2d(a, 3, { stride: 2, padding: 1, countIncludePad: false }),
  avg_ceil: ({ a }) => F.avgPool2d(a, 2, { ceilMode: true }),
  avg_ceil_pad: ({ a }) => F.avgPool2d(a, 3, { stride: 2, padding: 1, ceilMode: true }),
  avg_ceil_pad_exclude: ({ a }) => F.avgPool2d(a, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
  avg_divisor: ({ a }) => F.avgPool2d(a, 2, { divisorOverride: 3 }),
  adaptive_avg: ({ a }) => F.adaptiveAvgPool2d(a, [2, 3]),
  adaptive_avg_1: ({ a }) => F.adaptiveAvgPool2d(a, 1),
  adaptive_avg_up: ({ a }) => F.adaptiveAvgPool2d(a, [3, 4]),
  adaptive_max: ({ a }) => F.adaptiveMaxPool2d(a, 2),
});

runFamily('act', {
  relu: ({ a }) => F.relu(a),
  leaky_relu: ({ a }) => F.leakyRelu(a, 0.2),
  leaky_relu_default: ({ a }) => F.leakyRelu(a),
  sigmoid: ({ a }) => F.sigmoid(a),
  tanh: ({ a }) => F.tanh(a),
  softmax1: ({ a }) => F.softmax(a, 1),
  softmax_last: ({ a }) => F.softmax(a, -1),
  log_softmax1: ({ a }) => F.logSoftmax(a, 1),
  log_softmax_last: ({ a }) => F.logSoftmax(a, -1),
  softmax_large: ({ a }) => [F.softmax(a, 1), F.logSoftmax(a, 1)],
  gelu: ({ a }) => F.gelu(a),
  gelu_tanh: ({ a }) => F.gelu(a, 'tanh'),
  silu: ({ a }) => F.silu(a),
  dropout_p0_train: ({ a }) => F.dropout(a, 0, true),
  dropout_eval: ({ a }) => F.dropout(a, 0.5, false),
});

const lossCases: Record<string, (x: Record<string, Tensor>) => Tensor | Tensor[]> = {};
for (const red of ['none', 'sum', 'mean'] as Reduction[]) {
  lossCases[`ce_${red}`] = ({ x, t }) => F.crossEntropy(x, t, { reduction: red });
  lossCases[`ce_weight_${red}`] = ({ x, t, w }) => F.crossEntropy(x, t, { weight: w, reduction: red });
  lossCases[`ce_smooth_${red}`] = ({ x, t }) => F.crossEntropy(x, t, { reduction: red, labelSmoothing: 0.1 });
  lossCases[`ce_weight_smooth_${red}`] = ({ x, t, w }) => F.crossEntropy(x, t, { weight: w, reduction: red, labelSmoothing: 0.2 });
  lossCases[`ce_ignore_${red}`] = ({ x, t }) => F.crossEntropy(x, t, { reduction: red });
  lossCases[`ce_prob_${red}`] = ({ x, p }) => F.crossEntropy(x, p, { reduction: red });
  lossCases[`nll_${red}`] = ({ x, t }) => F.nllLoss(x, t, { reduction: red });
}
runFamily('loss', {
  ...lossCases,
  ce_ignore_index2: ({ x, t, w }) => F.crossEntropy(x, t, { weight: w, ignoreIndex: 1 }),
  ce_ignore_smooth: ({ x, t }) => F.crossEntropy(x, t, { ignoreIndex: 1, labelSmoothing: 0.1 }),
  ce_prob_smooth_weight: ({ x, p, w }) => F.crossEntropy(x, p, { weight: w, labelSmoothing: 0.1 }),
  ce_spatial: ({ x, t }) => F.crossEntropy(x, t),
  ce_spatial_none: ({ x, t }) => F.crossEntropy(x, t, { reduction: 'none' }),
  nll_weight_ignore: ({ x, t, w }) => F.nllLoss(x, t, { weight: w, ignoreIndex: 3 }),
  nll_spatial: ({ x, t }) => F.nllLoss(x, t),
  mse: ({ x, y }) => F.mseLoss(x, y),
  mse_sum: ({ x, y }) => F.mseLoss(x, y, 'sum'),
  l1: ({ x, y }) => F.l1Loss(x, y),
  bce_logits: ({ x, y }) => F.binaryCrossEntropyWithLogits(x, y),
});

const imageCases: Record<string, (x: Record<string, Tensor>) => Tensor | Tensor[]> = {
  blur3: ({ x }) => F.gaussianBlur(x, 3, 1.0),
  blur5: ({ x }) => F.gaussianBlur(x, 5, 1.5),
  blur7_small_sigma: ({ x }) => F.gaussianBlur(x, 7, 0.6),
};
for (const f of [0.01, 0.25, 0.3, 0.5, 1.0]) {
  // Python writes 1.0 as "1.0" in the case name
  imageCases[`top_fraction_${Number.isInteger(f) ? f.toFixed(1) : f}`] = ({ x }) => F.topFractionThreshold(x, f);
}
runFamily('image', imageCases);

runFamily('autograd', {
  saliency: ({ x, w }) => {
    const xi = x.detach().requiresGrad_(true);
    const score = F.relu(F.conv2d(xi, w, null, { padding: 1 })).mean([2, 3]).select(1, 1).sum();
    return grad(score, xi)[0]!;
  },
  backward_with_gradient: ({ x, w, g }) => {
    const xi = x.detach().requiresGrad_(true);
    xi.mul(xi).mul(w).add(xi.sin()).backward(g);
    return xi.grad!;
  },
  second_derivative: ({ x }) => {
    const xi = x.detach().requiresGrad_(true);
    const y = xi.pow(3).sum().add(xi.sin().mul(xi).sum());
    const [g] = grad(y, xi, { createGraph: true });
    const [gg] = grad(g!.sum(), xi);
    return [g!.detach(), gg!];
  },
  grad_outputs: ({ x }) => {
    const xi = x.detach().requiresGrad_(true);
    const y = xi.exp();
    return grad([y], [xi], { gradOutputs: [y.mul(0).add(0.5)] })[0]!;
  },
});

test('dropout (training): kept entries scaled by 1/(1-p), zero fraction ~ p', () => {
  tidy(() => {
    manualSeed(123);
    const n = 200_000;
    for (const p of [0.2, 0.5, 0.9]) {
      const x = ones([n]).mul(3);
      const y = F.dropout(x, p, true).toFloat64Array();
      let zeros = 0;
      for (const v of y) {
        if (v === 0) zeros++;
        else assert.ok(Math.abs(v - 3 / (1 - p)) < 1e-5, `kept value ${v}, expected ${3 / (1 - p)}`);
      }
      const frac = zeros / n, sd = Math.sqrt(p * (1 - p) / n);
      assert.ok(Math.abs(frac - p) < 6 * sd, `p=${p}: zero fraction ${frac}`);
    }
    // the gradient is the same mask, scaled
    const x = ones([1000]).requiresGrad_(true);
    const y = F.dropout(x, 0.5, true);
    const [g] = grad(y.sum(), x);
    const yv = y.toFloat64Array(), gv = g!.toFloat64Array();
    for (let i = 0; i < yv.length; i++) assert.equal(gv[i], yv[i]);
    // p = 1 drops everything
    assert.equal(F.dropout(ones([10]), 1, true).abs().sum().item(), 0);
  });
});
