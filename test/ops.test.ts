// Parity with PyTorch (golden values from scripts/golden/ops.py): arithmetic with broadcasting,
// comparisons, where, clamp, unary math, reductions and linear algebra — forward and backward.
// Tolerances: see test/ops_golden.ts (float32 atol 1e-5 / rtol 1e-4; ints and bools exact).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFamily } from './ops_golden.js';
import { F, where, empty, OPS, opSchema } from '../src/torch/index.js';

test('every op registry entry resolves to a dispatcher schema', () => {
  const bad: string[] = [];
  for (const key of Object.keys(OPS) as (keyof typeof OPS)[]) {
    try { assert.match(opSchema(key), /^aten::/); } catch (e) { bad.push(`${key}: ${(e as Error).message}`); }
  }
  assert.deepEqual(bad, []);
});

runFamily('arith', {
  add_bcast: ({ a, b }) => a.add(b),
  add_bcast2: ({ a, b }) => a.add(b),
  add_alpha: ({ a, b }) => a.add(b, 2.5),
  add_scalar: ({ a }) => a.add(1.5),
  add_scalar_alpha: ({ a }) => a.add(1.5, 2),
  sub_bcast: ({ a, b }) => a.sub(b),
  sub_alpha: ({ a, b }) => a.sub(b, 0.5),
  sub_scalar: ({ a }) => a.sub(0.25),
  rsub_scalar: ({ a }) => a.rsub(2),
  mul_bcast: ({ a, b }) => a.mul(b),
  mul_scalar: ({ a }) => a.mul(-3.5),
  div_bcast: ({ a, b }) => a.div(b),
  div_scalar: ({ a }) => a.div(4),
  div_trunc: ({ a, b }) => a.div(b, 'trunc'),
  div_floor: ({ a, b }) => a.div(b, 'floor'),
  div_floor_scalar: ({ a }) => a.div(0.7, 'floor'),
  div_trunc_scalar: ({ a }) => a.div(-0.7, 'trunc'),
  div_int_true: ({ a, b }) => a.div(b),
  div_int_floor: ({ a, b }) => a.div(b, 'floor'),
  div_int_trunc: ({ a, b }) => a.div(b, 'trunc'),
  div_int_floor_scalar: ({ a }) => a.div(3, 'floor'),
  div_int_floor_float_scalar: ({ a }) => a.div(2.5, 'floor'),
  pow_scalar2: ({ a }) => a.pow(2),
  pow_scalar3: ({ a }) => a.pow(3),
  pow_scalar_half: ({ a }) => a.pow(0.5),
  pow_scalar_neg: ({ a }) => a.pow(-1.5),
  pow_tensor: ({ a, b }) => a.pow(b),
  pow_bcast: ({ a, b }) => a.pow(b),
  neg: ({ a }) => a.neg(),
  remainder_tensor: ({ a, b }) => a.remainder(b),
  remainder_scalar: ({ a }) => a.remainder(1.5),
  remainder_int: ({ a, b }) => a.remainder(b),
  remainder_int_scalar: ({ a }) => a.remainder(3),
  int_add: ({ a, b }) => a.add(b),
  int_mul_scalar: ({ a }) => a.mul(3),
  int_float_promote: ({ a, b }) => a.add(b),
  int_div_scalar: ({ a }) => a.div(2),
  uint8_add: ({ a, b }) => a.add(b),
  inplace_chain: ({ a, b, c }) => {
    const y = a.mul(1);
    y.add_(b, 2).sub_(c).mul_(b).div_(2).addcmul_(b, c, 0.5).addcdiv_(b, c.abs().add(1), 2).lerp_(c, 0.3).clamp_(-1, 1);
    return y.add_(0.5).sub_(0.25).mul_(3).div_(1.5);
  },
  inplace_misc: ({ a, m, i, v }) => [
    a.clone().relu_(), a.abs().sqrt_(), a.clone().zero_(), a.clone().fill_(2.5), empty([2, 3]).copy_(a),
    a.clone().maskedFill_(m, -3), a.clone().indexPut_([i], v), a.clone().indexPut_([i], v, true),
  ],
});

runFamily('compare', {
  eq: ({ a, b }) => a.eq(b),
  ne: ({ a, b }) => a.ne(b),
  lt: ({ a, b }) => a.lt(b),
  le: ({ a, b }) => a.le(b),
  gt: ({ a, b }) => a.gt(b),
  ge: ({ a, b }) => a.ge(b),
  eq_scalar: ({ a }) => a.eq(1),
  lt_scalar: ({ a }) => a.lt(0.25),
  ge_scalar_int: ({ a }) => a.ge(2),
  logical: ({ a, b }) => [a.logicalAnd(b), a.logicalOr(b), a.logicalNot()],
  where: ({ c, a, b }) => where(c, a, b),
  where_bcast: ({ c, a, b }) => a.where(c, b),
  clamp: ({ a }) => a.clamp(-0.5, 0.7),
  clamp_min: ({ a }) => a.clampMin(0.1),
  clamp_max: ({ a }) => a.clamp(null, -0.1),
  clamp_int: ({ a }) => a.clamp(-3, 4),
  clamp_tensor: ({ a, lo, hi }) => a.clamp(lo, hi),
  maximum: ({ a, b }) => a.maximum(b),
  minimum: ({ a, b }) => a.minimum(b),
});

runFamily('unary', {
  abs: ({ a }) => a.abs(),
  exp: ({ a }) => a.exp(),
  log: ({ a }) => a.log(),
  log1p: ({ a }) => a.log1p(),
  log2: ({ a }) => a.log2(),
  sqrt: ({ a }) => a.sqrt(),
  rsqrt: ({ a }) => a.rsqrt(),
  sign: ({ a }) => a.sign(),
  square: ({ a }) => a.square(),
  reciprocal: ({ a }) => a.reciprocal(),
  floor: ({ a }) => a.floor(),
  ceil: ({ a }) => a.ceil(),
  round: ({ a }) => a.round(),
  sin: ({ a }) => a.sin(),
  cos: ({ a }) => a.cos(),
  erf: ({ a }) => a.erf(),
  nan_inf: ({ a }) => [a.log(), a.sqrt(), a.reciprocal()],
  isnan_isfinite: ({ a }) => [a.isnan(), a.isfinite()],
});

runFamily('reduce', {
  sum_all: ({ a }) => a.sum(),
  sum_dim: ({ a }) => a.sum(1),
  sum_dims_keepdim: ({ a }) => a.sum([0, 2], true),
  sum_neg_dim: ({ a }) => a.sum(-1),
  sum_int: ({ a }) => [a.sum(), a.sum(0)],
  sum_bool: ({ a }) => a.sum(),
  sum_dtype: ({ a }) => a.sum(undefined, false, 'float64'),
  mean_all: ({ a }) => a.mean(),
  mean_dim: ({ a }) => a.mean(2),
  mean_dims_keepdim: ({ a }) => a.mean([0, -1], true),
  max_all: ({ a }) => a.max(),
  max_dim: ({ a }) => a.max(1),
  max_dim_keepdim: ({ a }) => a.max(-1, true),
  min_all: ({ a }) => a.min(),
  min_dim: ({ a }) => a.min(0),
  min_dim_keepdim: ({ a }) => a.min(2, true),
  amax: ({ a }) => a.amax([0, 2]),
  amin_keepdim: ({ a }) => a.amin(1, true),
  argmax_all: ({ a }) => a.argmax(),
  argmax_dim: ({ a }) => a.argmax(1),
  argmax_dim_keepdim: ({ a }) => a.argmax(2, true),
  argmin_all: ({ a }) => a.argmin(),
  argmin_dim: ({ a }) => a.argmin(0),
  topk: ({ a }) => a.topk(2),
  topk_smallest_dim0: ({ a }) => a.topk(1, 0, false),
  topk_dim1: ({ a }) => a.topk(3, 1),
  sort: ({ a }) => a.sort(),
  sort_desc_dim0: ({ a }) => a.sort(0, true),
  argsort: ({ a }) => a.argsort(1, true),
  var_all: ({ a }) => a.var(),
  var_dim_biased: ({ a }) => a.var(1, false),
  var_dims_keepdim: ({ a }) => a.var([0, 2], true, true),
  std_all: ({ a }) => a.std(),
  std_dim: ({ a }) => a.std(0),
  std_dim_biased_keepdim: ({ a }) => a.std(-1, false, true),
  norm_all: ({ a }) => a.norm(),
  norm_p1_dim: ({ a }) => a.norm(1, 1),
  norm_p3_keepdim: ({ a }) => a.norm(3, 0, true),
  norm_inf_dim: ({ a }) => a.norm(Infinity, [1, 2]),
  norm_dims: ({ a }) => a.norm(2, [1, 2]),
  prod: ({ a }) => a.prod(),
  cumsum: ({ a }) => a.cumsum(1),
  logsumexp: ({ a }) => a.logsumexp(1),
  kthvalue: ({ a }) => a.kthvalue(2, 1),
  quantile_dim: ({ a }) => a.quantile(0.3, 1),
  quantile_all: ({ a }) => a.quantile(0.5),
  quantile_nearest: ({ a }) => a.quantile(0.4, 0, true, 'nearest'),
  count_nonzero: ({ a }) => [a.countNonzero(), a.countNonzero(1), a.countNonzero([0, 1])],
  any_all: ({ a }) => [a.any(), a.all()],
});

runFamily('linalg', {
  matmul_2d: ({ a, b }) => a.matmul(b),
  matmul_batched_bcast: ({ a, b }) => a.matmul(b),
  matmul_batched_both: ({ a, b }) => a.matmul(b),
  matmul_1d_2d: ({ a, b }) => a.matmul(b),
  matmul_2d_1d: ({ a, b }) => a.matmul(b),
  matmul_dot: ({ a, b }) => a.matmul(b),
  mm: ({ a, b }) => a.mm(b),
  bmm: ({ a, b }) => a.bmm(b),
  mm_transposed: ({ a, b }) => a.t().mm(b),
  outer: ({ a, b }) => a.outer(b),
  linear: ({ x, w, b }) => F.linear(x, w, b),
});
