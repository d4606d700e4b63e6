#!/usr/bin/python3
"""Golden values of csgnet's torch ops, computed with PyTorch (Debian's python3-torch 1.13).

Run with Debian's own interpreter:  /usr/bin/python3 scripts/golden/ops.py
Writes test/golden/ops.json:  {"meta": ..., "families": {family: {case: {...}}}}

Each case has small seeded inputs, the op's outputs and, for differentiable cases, the gradient of
sum_i sum(output_i * weight_i) (fixed random weights, one per float output that requires grad) with
respect to every float input. Tensors are stored as {"shape", "dtype", "data"} with data a flat
row-major list (non-finite floats as the strings "nan", "inf", "-inf"). The TypeScript side
(test/ops*.test.ts) holds one function per case that mirrors the Python lambda given here.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

from build_info import build_info  # noqa: E402  (torch version, build configuration, BLAS in use)

torch.manual_seed(0)
torch.set_num_threads(1)

DT = {torch.float32: 'float32', torch.float64: 'float64', torch.int64: 'int64', torch.int32: 'int32',
      torch.int16: 'int16', torch.int8: 'int8', torch.uint8: 'uint8', torch.bool: 'bool'}
FAMILIES = {}


def enc_float(v, digits):
    if math.isnan(v):
        return 'nan'
    if math.isinf(v):
        return 'inf' if v > 0 else '-inf'
    return float(f'{v:.{digits}g}')


def ser(t):
    t = t.detach().contiguous()
    dtype = DT[t.dtype]
    flat = t.reshape(-1).tolist()
    if t.dtype == torch.float32:
        data = [enc_float(v, 9) for v in flat]
    elif t.dtype == torch.float64:
        data = [enc_float(v, 17) for v in flat]
    elif t.dtype == torch.bool:
        data = [1 if v else 0 for v in flat]
    else:
        data = [int(v) for v in flat]
    return {'shape': list(t.shape), 'dtype': dtype, 'data': data}


def case(family, name, inputs, fn, grad=True, tol=None, grad_tol=None):
    """inputs: name -> tensor. fn(**inputs) -> tensor or list of tensors.
    grad: True (every float input), False, or a list of input names."""
    fam = FAMILIES.setdefault(family, {})
    assert name not in fam, name
    ins = {}
    grad_names = []
    for k, v in inputs.items():
        c = v.clone()
        if v.is_floating_point() and (grad is True or (isinstance(grad, (list, tuple)) and k in grad)):
            c.requires_grad_(True)
            grad_names.append(k)
        ins[k] = c
    out = fn(**ins)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    weights = []
    for o in outs:
        weights.append(torch.randn(o.shape, dtype=o.dtype) if o.requires_grad and o.is_floating_point() else None)
    entry = {'inputs': {k: dict(ser(v), grad=k in grad_names) for k, v in inputs.items()},
             'outputs': [dict(ser(o), weight=None if w is None else ser(w)) for o, w in zip(outs, weights)]}
    if grad_names and any(w is not None for w in weights):
        loss = sum((o * w).sum() for o, w in zip(outs, weights) if w is not None)
        gs = torch.autograd.grad(loss, [ins[k] for k in grad_names], allow_unused=True)
        entry['grads'] = {k: None if g is None else ser(g) for k, g in zip(grad_names, gs)}
    if tol:
        entry['tol'] = tol
    if grad_tol:
        entry['gradTol'] = grad_tol
    fam[name] = entry


# ---- input helpers (global generator, seeded above; inputs are stored, so TS never regenerates them)
def rn(*shape):
    return torch.randn(*shape)


def ru(lo, hi, *shape):
    return torch.rand(*shape) * (hi - lo) + lo


def ri(lo, hi, *shape):
    return torch.randint(lo, hi, shape)


def nz(*shape):
    """Floats bounded away from zero, random sign."""
    return (torch.rand(*shape) + 0.5) * torch.where(torch.rand(*shape) < 0.5, -1.0, 1.0)


def distinct(*shape):
    """A permutation of distinct, well-separated floats (no ties for max/sort/topk/pool)."""
    n = 1
    for s in shape:
        n *= s
    return (torch.randperm(n).float() * 0.37 - n * 0.15 + torch.rand(n) * 0.1).reshape(shape)


# ================================================================================== arithmetic
A = 'arith'
case(A, 'add_bcast', {'a': rn(2, 3), 'b': rn(3)}, lambda a, b: a + b)
case(A, 'add_bcast2', {'a': rn(2, 1, 3), 'b': rn(4, 1)}, lambda a, b: torch.add(a, b))
case(A, 'add_alpha', {'a': rn(2, 3), 'b': rn(2, 3)}, lambda a, b: torch.add(a, b, alpha=2.5))
case(A, 'add_scalar', {'a': rn(2, 3)}, lambda a: a + 1.5)
case(A, 'add_scalar_alpha', {'a': rn(2, 3)}, lambda a: torch.add(a, 1.5, alpha=2))
case(A, 'sub_bcast', {'a': rn(3, 1), 'b': rn(1, 4)}, lambda a, b: a - b)
case(A, 'sub_alpha', {'a': rn(2, 3), 'b': rn(3)}, lambda a, b: torch.sub(a, b, alpha=0.5))
case(A, 'sub_scalar', {'a': rn(4)}, lambda a: a - 0.25)
case(A, 'rsub_scalar', {'a': rn(4)}, lambda a: torch.rsub(a, 2))
case(A, 'mul_bcast', {'a': rn(2, 3, 1), 'b': rn(3, 4)}, lambda a, b: a * b)
case(A, 'mul_scalar', {'a': rn(2, 3)}, lambda a: a * -3.5)
case(A, 'div_bcast', {'a': rn(2, 3), 'b': nz(3)}, lambda a, b: a / b)
case(A, 'div_scalar', {'a': rn(2, 3)}, lambda a: a / 4)
case(A, 'div_trunc', {'a': rn(2, 4) * 3, 'b': nz(2, 4)}, lambda a, b: torch.div(a, b, rounding_mode='trunc'))
case(A, 'div_floor', {'a': rn(2, 4) * 3, 'b': nz(2, 4)}, lambda a, b: torch.div(a, b, rounding_mode='floor'))
case(A, 'div_floor_scalar', {'a': rn(6) * 3}, lambda a: torch.div(a, 0.7, rounding_mode='floor'))
case(A, 'div_trunc_scalar', {'a': rn(6) * 3}, lambda a: torch.div(a, -0.7, rounding_mode='trunc'))
case(A, 'div_int_true', {'a': ri(-9, 10, 6), 'b': torch.tensor([2, -3, 4, 5, -2, 7])}, lambda a, b: a / b)
case(A, 'div_int_floor', {'a': torch.tensor([7, -7, 7, -7, 0, 9]), 'b': torch.tensor([2, 2, -2, -2, 3, 3])},
     lambda a, b: torch.div(a, b, rounding_mode='floor'))
case(A, 'div_int_trunc', {'a': torch.tensor([7, -7, 7, -7, 0, 9]), 'b': torch.tensor([2, 2, -2, -2, 3, 3])},
     lambda a, b: torch.div(a, b, rounding_mode='trunc'))
case(A, 'div_int_floor_scalar', {'a': torch.tensor([7, -7, 8, -8, 0])}, lambda a: torch.div(a, 3, rounding_mode='floor'))
case(A, 'div_int_floor_float_scalar', {'a': torch.tensor([7, -7, 8, -8, 0])}, lambda a: torch.div(a, 2.5, rounding_mode='floor'))
case(A, 'pow_scalar2', {'a': rn(5)}, lambda a: a.pow(2))
case(A, 'pow_scalar3', {'a': rn(5)}, lambda a: a ** 3)
case(A, 'pow_scalar_half', {'a': ru(0.5, 2, 5)}, lambda a: a.pow(0.5))
case(A, 'pow_scalar_neg', {'a': ru(0.5, 2, 5)}, lambda a: a.pow(-1.5))
case(A, 'pow_tensor', {'a': ru(0.5, 2, 2, 3), 'b': rn(2, 3)}, lambda a, b: a.pow(b))
case(A, 'pow_bcast', {'a': ru(0.5, 2, 2, 3), 'b': rn(3)}, lambda a, b: torch.pow(a, b))
case(A, 'neg', {'a': rn(2, 3)}, lambda a: -a)
case(A, 'remainder_tensor', {'a': rn(6) * 4, 'b': nz(6) * 1.5}, lambda a, b: torch.remainder(a, b))
case(A, 'remainder_scalar', {'a': rn(6) * 4}, lambda a: torch.remainder(a, 1.5))
case(A, 'remainder_int', {'a': torch.tensor([7, -7, 7, -7, 5]), 'b': torch.tensor([3, 3, -3, -3, 5])},
     lambda a, b: torch.remainder(a, b))
case(A, 'remainder_int_scalar', {'a': torch.tensor([7, -7, 0, 5])}, lambda a: a % 3)
case(A, 'int_add', {'a': ri(-5, 5, 4), 'b': ri(-5, 5, 4)}, lambda a, b: a + b)
case(A, 'int_mul_scalar', {'a': ri(-5, 5, 4)}, lambda a: a * 3)
case(A, 'int_float_promote', {'a': ri(-5, 5, 4), 'b': rn(4)}, lambda a, b: a + b)
case(A, 'int_div_scalar', {'a': ri(-5, 5, 4)}, lambda a: a / 2)
case(A, 'uint8_add', {'a': torch.tensor([250, 3, 7], dtype=torch.uint8), 'b': torch.tensor([10, 3, 1], dtype=torch.uint8)},
     lambda a, b: a + b)


def inplace_chain(a, b, c):
    y = a * 1  # a non-leaf, so in-place ops are recorded by autograd
    y.add_(b, alpha=2)
    y.sub_(c)
    y.mul_(b)
    y.div_(2)
    y.addcmul_(b, c, value=0.5)
    y.addcdiv_(b, c.abs() + 1, value=2)
    y.lerp_(c, 0.3)
    y.clamp_(-1, 1)
    y.add_(0.5).sub_(0.25).mul_(3).div_(1.5)
    return y


case(A, 'inplace_chain', {'a': rn(2, 3), 'b': rn(2, 3), 'c': rn(2, 3)}, inplace_chain)


def inplace_misc(a, m, i, v):
    r1 = a.clone().relu_()
    r2 = a.abs().sqrt_()
    r3 = a.clone().zero_()
    r4 = a.clone().fill_(2.5)
    r5 = torch.empty(2, 3).copy_(a)
    r6 = a.clone().masked_fill_(m, -3)
    r7 = a.clone().index_put_((i,), v)
    r8 = a.clone().index_put_((i,), v, accumulate=True)
    return [r1, r2, r3, r4, r5, r6, r7, r8]


case(A, 'inplace_misc', {'a': nz(2, 3), 'm': rn(2, 3) > 0, 'i': torch.tensor([1, 1]), 'v': rn(2, 3)}, inplace_misc)

# ================================================================================== comparison
C = 'compare'
ca, cb = ri(0, 3, 3, 4).float(), ri(0, 3, 4).float()
case(C, 'eq', {'a': ca, 'b': cb}, lambda a, b: a == b)
case(C, 'ne', {'a': ca, 'b': cb}, lambda a, b: a != b)
case(C, 'lt', {'a': ca, 'b': cb}, lambda a, b: a < b)
case(C, 'le', {'a': ca, 'b': cb}, lambda a, b: a <= b)
case(C, 'gt', {'a': ca, 'b': cb}, lambda a, b: a > b)
case(C, 'ge', {'a': ca, 'b': cb}, lambda a, b: a >= b)
case(C, 'eq_scalar', {'a': ca}, lambda a: a == 1)
case(C, 'lt_scalar', {'a': rn(5)}, lambda a: a < 0.25)
case(C, 'ge_scalar_int', {'a': ri(0, 5, 6)}, lambda a: a >= 2)
case(C, 'logical', {'a': torch.tensor([True, True, False, False]), 'b': torch.tensor([True, False, True, False])},
     lambda a, b: [torch.logical_and(a, b), torch.logical_or(a, b), torch.logical_not(a)])
case(C, 'where', {'c': rn(2, 3) > 0, 'a': rn(2, 3), 'b': rn(2, 3)}, lambda c, a, b: torch.where(c, a, b))
case(C, 'where_bcast', {'c': rn(3, 1) > 0, 'a': rn(1, 4), 'b': rn(3, 4)}, lambda c, a, b: torch.where(c, a, b))
case(C, 'clamp', {'a': rn(8)}, lambda a: a.clamp(-0.5, 0.7))
case(C, 'clamp_min', {'a': rn(8)}, lambda a: a.clamp(min=0.1))
case(C, 'clamp_max', {'a': rn(8)}, lambda a: a.clamp(max=-0.1))
case(C, 'clamp_int', {'a': ri(-10, 10, 8)}, lambda a: a.clamp(-3, 4))
case(C, 'clamp_tensor', {'a': rn(2, 4), 'lo': rn(4) - 0.5, 'hi': rn(2, 1) + 0.5},
     lambda a, lo, hi: torch.clamp(a, lo, hi), grad=['a'])
case(C, 'maximum', {'a': rn(2, 3), 'b': rn(3)}, lambda a, b: torch.maximum(a, b))
case(C, 'minimum', {'a': rn(2, 3), 'b': rn(2, 3)}, lambda a, b: torch.minimum(a, b))

# ================================================================================== unary
U = 'unary'
case(U, 'abs', {'a': nz(6)}, lambda a: a.abs())
case(U, 'exp', {'a': rn(6)}, lambda a: a.exp())
case(U, 'log', {'a': ru(0.1, 5, 6)}, lambda a: a.log())
case(U, 'log1p', {'a': ru(-0.5, 5, 6)}, lambda a: a.log1p())
case(U, 'log2', {'a': ru(0.1, 5, 6)}, lambda a: a.log2())
case(U, 'sqrt', {'a': ru(0.1, 5, 6)}, lambda a: a.sqrt())
case(U, 'rsqrt', {'a': ru(0.1, 5, 6)}, lambda a: a.rsqrt())
case(U, 'sign', {'a': torch.cat([rn(5), torch.zeros(1)])}, lambda a: a.sign())
case(U, 'square', {'a': rn(6)}, lambda a: a.square())
case(U, 'reciprocal', {'a': nz(6)}, lambda a: a.reciprocal())
case(U, 'floor', {'a': rn(6) * 3}, lambda a: a.floor())
case(U, 'ceil', {'a': rn(6) * 3}, lambda a: a.ceil())
case(U, 'round', {'a': torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5, 0.49, 2.51])}, lambda a: a.round())
case(U, 'sin', {'a': rn(6)}, lambda a: a.sin())
case(U, 'cos', {'a': rn(6)}, lambda a: a.cos())
case(U, 'erf', {'a': rn(6)}, lambda a: a.erf())
case(U, 'nan_inf', {'a': torch.tensor([0.0, -1.0, 1.0, 4.0])}, lambda a: [a.log(), a.sqrt(), 1 / a], grad=False)
case(U, 'isnan_isfinite', {'a': torch.tensor([0.0, float('nan'), float('inf'), -float('inf'), 2.0])},
     lambda a: [a.isnan(), a.isfinite()])

# ================================================================================== reductions
R = 'reduce'
x234 = distinct(2, 3, 4)
case(R, 'sum_all', {'a': rn(2, 3, 4)}, lambda a: a.sum())
case(R, 'sum_dim', {'a': rn(2, 3, 4)}, lambda a: a.sum(1))
case(R, 'sum_dims_keepdim', {'a': rn(2, 3, 4)}, lambda a: a.sum([0, 2], keepdim=True))
case(R, 'sum_neg_dim', {'a': rn(2, 3, 4)}, lambda a: a.sum(-1))
case(R, 'sum_int', {'a': ri(-5, 5, 2, 3)}, lambda a: [a.sum(), a.sum(0)])
case(R, 'sum_bool', {'a': rn(2, 3) > 0}, lambda a: a.sum())
case(R, 'sum_dtype', {'a': rn(2, 3)}, lambda a: a.sum(dtype=torch.float64))
case(R, 'mean_all', {'a': rn(2, 3, 4)}, lambda a: a.mean())
case(R, 'mean_dim', {'a': rn(2, 3, 4)}, lambda a: a.mean(2))
case(R, 'mean_dims_keepdim', {'a': rn(2, 3, 4)}, lambda a: a.mean([0, -1], keepdim=True))
case(R, 'max_all', {'a': x234}, lambda a: a.max())
case(R, 'max_dim', {'a': x234}, lambda a: list(a.max(1)))
case(R, 'max_dim_keepdim', {'a': x234}, lambda a: list(a.max(-1, keepdim=True)))
case(R, 'min_all', {'a': x234}, lambda a: a.min())
case(R, 'min_dim', {'a': x234}, lambda a: list(a.min(0)))
case(R, 'min_dim_keepdim', {'a': x234}, lambda a: list(a.min(2, keepdim=True)))
case(R, 'amax', {'a': x234}, lambda a: a.amax([0, 2]))
case(R, 'amin_keepdim', {'a': x234}, lambda a: a.amin(1, keepdim=True))
case(R, 'argmax_all', {'a': x234}, lambda a: a.argmax())
case(R, 'argmax_dim', {'a': x234}, lambda a: a.argmax(1))
case(R, 'argmax_dim_keepdim', {'a': x234}, lambda a: a.argmax(2, keepdim=True))
case(R, 'argmin_all', {'a': x234}, lambda a: a.argmin())
case(R, 'argmin_dim', {'a': x234}, lambda a: a.argmin(0))
case(R, 'topk', {'a': x234}, lambda a: list(a.topk(2)))
case(R, 'topk_smallest_dim0', {'a': x234}, lambda a: list(a.topk(1, dim=0, largest=False)))
case(R, 'topk_dim1', {'a': x234}, lambda a: list(torch.topk(a, 3, dim=1)))
case(R, 'sort', {'a': x234}, lambda a: list(a.sort()))
case(R, 'sort_desc_dim0', {'a': x234}, lambda a: list(a.sort(dim=0, descending=True)))
case(R, 'argsort', {'a': x234}, lambda a: a.argsort(dim=1, descending=True))
case(R, 'var_all', {'a': rn(3, 4)}, lambda a: a.var())
case(R, 'var_dim_biased', {'a': rn(3, 4)}, lambda a: a.var(1, unbiased=False))
case(R, 'var_dims_keepdim', {'a': rn(2, 3, 4)}, lambda a: a.var([0, 2], keepdim=True))
case(R, 'std_all', {'a': rn(3, 4)}, lambda a: a.std())
case(R, 'std_dim', {'a': rn(3, 4)}, lambda a: a.std(0))
case(R, 'std_dim_biased_keepdim', {'a': rn(3, 4)}, lambda a: a.std(-1, unbiased=False, keepdim=True))
case(R, 'norm_all', {'a': rn(3, 4)}, lambda a: a.norm())
case(R, 'norm_p1_dim', {'a': nz(3, 4)}, lambda a: a.norm(1, dim=1))
case(R, 'norm_p3_keepdim', {'a': rn(3, 4)}, lambda a: torch.norm(a, 3, dim=0, keepdim=True))
case(R, 'norm_inf_dim', {'a': x234}, lambda a: torch.norm(a, float('inf'), dim=[1, 2]))
case(R, 'norm_dims', {'a': rn(2, 3, 4)}, lambda a: torch.norm(a, 2, dim=[1, 2]))
case(R, 'prod', {'a': ru(0.5, 1.5, 5)}, lambda a: a.prod())
case(R, 'cumsum', {'a': rn(2, 4)}, lambda a: a.cumsum(1))
case(R, 'logsumexp', {'a': rn(2, 4)}, lambda a: a.logsumexp(1))
case(R, 'kthvalue', {'a': x234}, lambda a: list(a.kthvalue(2, 1)))
case(R, 'quantile_dim', {'a': rn(3, 5)}, lambda a: a.quantile(0.3, dim=1))
case(R, 'quantile_all', {'a': rn(3, 5)}, lambda a: a.quantile(0.5))
case(R, 'quantile_nearest', {'a': rn(4, 3)}, lambda a: torch.quantile(a, 0.4, dim=0, keepdim=True, interpolation='nearest'))
case(R, 'count_nonzero', {'a': torch.tensor([[0, 1.5, 0], [2, 0, 3]])},
     lambda a: [torch.count_nonzero(a), torch.count_nonzero(a, dim=1), torch.count_nonzero(a, dim=(0, 1))], grad=False)
case(R, 'any_all', {'a': torch.tensor([[True, False], [False, False]])}, lambda a: [a.any(), a.all()])

# ================================================================================== linear algebra
L = 'linalg'
case(L, 'matmul_2d', {'a': rn(3, 4), 'b': rn(4, 2)}, lambda a, b: a @ b)
case(L, 'matmul_batched_bcast', {'a': rn(2, 3, 4), 'b': rn(4, 5)}, lambda a, b: torch.matmul(a, b))
case(L, 'matmul_batched_both', {'a': rn(2, 1, 3, 4), 'b': rn(3, 4, 2)}, lambda a, b: torch.matmul(a, b))
case(L, 'matmul_1d_2d', {'a': rn(4), 'b': rn(4, 3)}, lambda a, b: a @ b)
case(L, 'matmul_2d_1d', {'a': rn(3, 4), 'b': rn(4)}, lambda a, b: a @ b)
case(L, 'matmul_dot', {'a': rn(4), 'b': rn(4)}, lambda a, b: a @ b)
case(L, 'mm', {'a': rn(2, 3), 'b': rn(3, 4)}, lambda a, b: torch.mm(a, b))
case(L, 'bmm', {'a': rn(2, 2, 3), 'b': rn(2, 3, 4)}, lambda a, b: torch.bmm(a, b))
case(L, 'mm_transposed', {'a': rn(3, 2), 'b': rn(3, 4)}, lambda a, b: a.t().mm(b))
case(L, 'outer', {'a': rn(3), 'b': rn(2)}, lambda a, b: torch.outer(a, b))
case(L, 'linear', {'x': rn(2, 3), 'w': rn(4, 3), 'b': rn(4)}, lambda x, w, b: F.linear(x, w, b))

# ================================================================================== shape
S = 'shape'
case(S, 'reshape', {'a': rn(2, 3, 4)}, lambda a: a.reshape(6, 4))
case(S, 'reshape_infer', {'a': rn(2, 3, 4)}, lambda a: a.reshape(-1, 2))
case(S, 'view', {'a': rn(2, 3, 4)}, lambda a: a.view(4, 6))
case(S, 'permute', {'a': rn(2, 3, 4)}, lambda a: a.permute(2, 0, 1))
case(S, 'permute_contiguous', {'a': rn(2, 3, 4)}, lambda a: a.permute(1, 2, 0).contiguous())
case(S, 'transpose', {'a': rn(2, 3, 4)}, lambda a: a.transpose(0, 2))
case(S, 'transpose_neg', {'a': rn(2, 3, 4)}, lambda a: a.transpose(-1, -2).contiguous().view(2, 12))
case(S, 'squeeze_all', {'a': rn(1, 3, 1, 2)}, lambda a: a.squeeze())
case(S, 'squeeze_dim', {'a': rn(1, 3, 1, 2)}, lambda a: a.squeeze(2))
case(S, 'squeeze_noop', {'a': rn(1, 3, 1, 2)}, lambda a: a.squeeze(1))
case(S, 'unsqueeze', {'a': rn(3, 2)}, lambda a: a.unsqueeze(1))
case(S, 'unsqueeze_neg', {'a': rn(3, 2)}, lambda a: a.unsqueeze(-1))
case(S, 'flatten', {'a': rn(2, 3, 4)}, lambda a: a.flatten())
case(S, 'flatten_1', {'a': rn(2, 3, 2, 2)}, lambda a: a.flatten(1))
case(S, 'flatten_range', {'a': rn(2, 3, 2, 2)}, lambda a: a.flatten(1, 2))
case(S, 'expand', {'a': rn(3, 1)}, lambda a: a.expand(3, 4))
case(S, 'expand_new_dims', {'a': rn(3, 1)}, lambda a: a.expand(2, -1, 4))
case(S, 'repeat', {'a': rn(2, 3)}, lambda a: a.repeat(2, 1, 3))
case(S, 'contiguous_strides', {'a': rn(2, 3, 4)}, lambda a: torch.tensor(a.transpose(0, 1).contiguous().stride()), grad=False)
case(S, 't', {'a': rn(2, 3)}, lambda a: a.t())
x56 = rn(5, 6)
case(S, 'slice_start', {'a': x56}, lambda a: a[:, 1:])
case(S, 'slice_neg', {'a': x56}, lambda a: a[:, -3:-1])
case(S, 'slice_step', {'a': x56}, lambda a: a[::2])
case(S, 'slice_start_step', {'a': x56}, lambda a: a[1::2, :])
case(S, 'slice_step3', {'a': x56}, lambda a: a[:, ::3])
case(S, 'slice_end_neg', {'a': x56}, lambda a: a[:, :-1])
case(S, 'slice_neg_start_step', {'a': x56}, lambda a: a[-4::2, 1:5:2])
case(S, 'slice_past_end', {'a': x56}, lambda a: a[3:100])
case(S, 'slice_empty', {'a': x56}, lambda a: a[4:2])
case(S, 'narrow', {'a': x56}, lambda a: a.narrow(1, 2, 3))
case(S, 'select', {'a': x56}, lambda a: a.select(-1, 1))
case(S, 'select_neg_index', {'a': x56}, lambda a: a[-1])
case(S, 'flip0', {'a': rn(2, 3, 4)}, lambda a: a.flip(0))
case(S, 'flip12', {'a': rn(2, 3, 4)}, lambda a: torch.flip(a, [1, 2]))
case(S, 'roll', {'a': rn(2, 5)}, lambda a: a.roll(2, 1))
case(S, 'tril_triu', {'a': rn(3, 4)}, lambda a: [a.tril(), a.triu(1)])

# ================================================================================== indexing
I = 'index'
case(I, 'index_select0', {'a': rn(4, 3), 'i': torch.tensor([2, 0, 2])}, lambda a, i: a.index_select(0, i))
case(I, 'index_select1', {'a': rn(4, 3), 'i': torch.tensor([1, 2])}, lambda a, i: torch.index_select(a, 1, i))
case(I, 'gather1', {'a': rn(3, 4), 'i': torch.tensor([[0, 3], [1, 1], [2, 0]])}, lambda a, i: a.gather(1, i))
case(I, 'gather0', {'a': rn(3, 4), 'i': torch.tensor([[0, 2, 1, 0], [2, 2, 0, 1]])}, lambda a, i: torch.gather(a, 0, i))
case(I, 'scatter_src', {'a': rn(3, 5), 'i': torch.tensor([[0, 4], [2, 1], [3, 3]]), 's': rn(3, 2)},
     lambda a, i, s: a.scatter(1, i, s))
case(I, 'scatter_value', {'a': rn(3, 5), 'i': torch.tensor([[0, 4], [2, 1], [3, 0]])}, lambda a, i: a.scatter(1, i, 2.5))
case(I, 'scatter_add', {'a': rn(2, 4), 'i': torch.tensor([[0, 0, 3], [1, 1, 1]]), 's': rn(2, 3)},
     lambda a, i, s: a.scatter_add(1, i, s))
case(I, 'masked_fill', {'a': rn(3, 4), 'm': rn(3, 4) > 0}, lambda a, m: a.masked_fill(m, -1.5))
case(I, 'masked_fill_bcast', {'a': rn(3, 4), 'm': rn(4) > 0}, lambda a, m: a.masked_fill(m, 0))
case(I, 'masked_fill_int', {'a': ri(0, 9, 5), 'm': torch.tensor([True, False, True, False, False])},
     lambda a, m: a.masked_fill(m, 7))
case(I, 'masked_select', {'a': rn(3, 4), 'm': rn(3, 4) > 0}, lambda a, m: a.masked_select(m))
case(I, 'masked_select_bcast', {'a': rn(3, 4), 'm': torch.tensor([True, False, False, True])},
     lambda a, m: torch.masked_select(a, m))
case(I, 'index_first', {'a': rn(4, 3), 'i': torch.tensor([3, 0, 0])}, lambda a, i: a[i])
case(I, 'index_second', {'a': rn(4, 3), 'i': torch.tensor([2, 0])}, lambda a, i: a[:, i])
case(I, 'index_pair', {'a': rn(4, 3), 'i': torch.tensor([0, 3, 1]), 'j': torch.tensor([2, 2, 0])}, lambda a, i, j: a[i, j])
case(I, 'index_bool', {'a': rn(4, 3), 'm': torch.tensor([True, False, True, True])}, lambda a, m: a[m])
case(I, 'index_2d_index', {'a': rn(4, 3), 'i': torch.tensor([[0, 1], [3, 3]])}, lambda a, i: a[i])
case(I, 'nonzero', {'a': torch.tensor([[0, 1.5, 0], [2, 0, -1]])}, lambda a: a.nonzero(), grad=False)
case(I, 'one_hot', {'y': torch.tensor([0, 3, 1, 1, 2])}, lambda y: F.one_hot(y, 5))
case(I, 'one_hot_infer', {'y': torch.tensor([[0, 2], [1, 2]])}, lambda y: F.one_hot(y))

# ================================================================================== join / split
J = 'join'
case(J, 'cat0', {'a': rn(2, 3), 'b': rn(1, 3)}, lambda a, b: torch.cat([a, b]))
case(J, 'cat1', {'a': rn(2, 3), 'b': rn(2, 1), 'c': rn(2, 2)}, lambda a, b, c: torch.cat([a, b, c], 1))
case(J, 'cat_neg', {'a': rn(2, 2, 3), 'b': rn(2, 2, 1)}, lambda a, b: torch.cat([a, b], -1))
case(J, 'stack0', {'a': rn(2, 3), 'b': rn(2, 3)}, lambda a, b: torch.stack([a, b]))
case(J, 'stack_last', {'a': rn(2, 3), 'b': rn(2, 3), 'c': rn(2, 3)}, lambda a, b, c: torch.stack([a, b, c], -1))
case(J, 'split_size', {'a': rn(5, 2)}, lambda a: list(a.split(2)))
case(J, 'split_sizes', {'a': rn(2, 5)}, lambda a: list(a.split([1, 3, 1], 1)))
case(J, 'chunk', {'a': rn(5, 2)}, lambda a: list(a.chunk(3)))
case(J, 'chunk_dim1', {'a': rn(2, 6)}, lambda a: list(a.chunk(4, 1)))
case(J, 'unbind', {'a': rn(3, 2)}, lambda a: list(a.unbind(1)))

# ================================================================================== padding
P = 'pad'
case(P, 'constant_1d', {'a': rn(2, 3)}, lambda a: F.pad(a, [1, 2]))
case(P, 'constant_2d_value', {'a': rn(1, 2, 3)}, lambda a: F.pad(a, [1, 1, 2, 0], value=1.5))
case(P, 'constant_negative', {'a': rn(2, 4)}, lambda a: F.pad(a, [-1, 1]))
case(P, 'constant_3dims', {'a': rn(1, 2, 2, 2)}, lambda a: F.pad(a, [0, 1, 1, 0, 1, 1]))
case(P, 'reflect_4d', {'a': rn(1, 2, 3, 4)}, lambda a: F.pad(a, [1, 2, 2, 1], mode='reflect'))
case(P, 'reflect_3d', {'a': rn(2, 3, 3)}, lambda a: F.pad(a, [2, 0, 1, 1], mode='reflect'))
case(P, 'replicate_4d', {'a': rn(1, 2, 3, 4)}, lambda a: F.pad(a, [1, 2, 2, 1], mode='replicate'))
case(P, 'replicate_3d', {'a': rn(2, 2, 3)}, lambda a: F.pad(a, [3, 0, 0, 2], mode='replicate'))

# ================================================================================== interpolate
N = 'interp'
img = rn(1, 2, 3, 4)
case(N, 'bilinear_size_ac', {'a': img}, lambda a: F.interpolate(a, size=(5, 7), mode='bilinear', align_corners=True))
case(N, 'bilinear_size', {'a': img}, lambda a: F.interpolate(a, size=(5, 7), mode='bilinear', align_corners=False))
case(N, 'bilinear_down', {'a': rn(1, 1, 6, 6)}, lambda a: F.interpolate(a, size=(4, 3), mode='bilinear', align_corners=False))
case(N, 'bilinear_down_ac', {'a': rn(1, 1, 6, 6)}, lambda a: F.interpolate(a, size=(4, 3), mode='bilinear', align_corners=True))
case(N, 'bilinear_scale2', {'a': img}, lambda a: F.interpolate(a, scale_factor=2, mode='bilinear', align_corners=False))
case(N, 'bilinear_scale15_ac', {'a': img}, lambda a: F.interpolate(a, scale_factor=1.5, mode='bilinear', align_corners=True))
case(N, 'bilinear_scale_tuple', {'a': img}, lambda a: F.interpolate(a, scale_factor=(1.5, 0.5), mode='bilinear', align_corners=False))
case(N, 'nearest_size', {'a': img}, lambda a: F.interpolate(a, size=(5, 7), mode='nearest'))
case(N, 'nearest_scale2', {'a': img}, lambda a: F.interpolate(a, scale_factor=2, mode='nearest'))
case(N, 'nearest_scale_half', {'a': rn(1, 1, 4, 6)}, lambda a: F.interpolate(a, scale_factor=0.5, mode='nearest'))
case(N, 'nearest_scale15', {'a': img}, lambda a: F.interpolate(a, scale_factor=1.5, mode='nearest'))

# ================================================================================== conv2d
V = 'conv'
CT = {'atol': 3e-5, 'rtol': 1e-4}
case(V, 'basic_bias', {'x': rn(2, 3, 5, 5), 'w': rn(4, 3, 3, 3), 'b': rn(4)}, lambda x, w, b: F.conv2d(x, w, b), tol=CT, grad_tol=CT)
case(V, 'stride_padding', {'x': rn(1, 2, 6, 5), 'w': rn(3, 2, 3, 3), 'b': rn(3)},
     lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), tol=CT, grad_tol=CT)
case(V, 'dilation', {'x': rn(1, 2, 7, 7), 'w': rn(2, 2, 3, 3)}, lambda x, w: F.conv2d(x, w, dilation=2), tol=CT, grad_tol=CT)
case(V, 'groups', {'x': rn(2, 4, 5, 5), 'w': rn(6, 2, 3, 3), 'b': rn(6)},
     lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=2), tol=CT, grad_tol=CT)
case(V, 'depthwise', {'x': rn(1, 3, 5, 5), 'w': rn(3, 1, 3, 3)}, lambda x, w: F.conv2d(x, w, groups=3), tol=CT, grad_tol=CT)
case(V, 'asym', {'x': rn(1, 2, 6, 7), 'w': rn(3, 2, 2, 3), 'b': rn(3)},
     lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2)), tol=CT, grad_tol=CT)
case(V, 'one_by_one', {'x': rn(2, 3, 3, 3), 'w': rn(5, 3, 1, 1)}, lambda x, w: F.conv2d(x, w), tol=CT, grad_tol=CT)
case(V, 'float64', {'x': rn(1, 2, 4, 4).double(), 'w': rn(2, 2, 3, 3).double()}, lambda x, w: F.conv2d(x, w, padding=1))
case(V, 'conv_transpose', {'x': rn(1, 2, 3, 3), 'w': rn(2, 3, 3, 3), 'b': rn(3)},
     lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1), tol=CT, grad_tol=CT)

# channels_last memory format
M = 'memfmt'
xcl = rn(2, 3, 4, 5)
case(M, 'channels_last_strides', {'a': xcl},
     lambda a: [torch.tensor(a.contiguous(memory_format=torch.channels_last).stride()),
                torch.tensor(a.contiguous(memory_format=torch.channels_last).is_contiguous(memory_format=torch.channels_last)),
                torch.tensor(a.contiguous(memory_format=torch.channels_last).is_contiguous())], grad=False)
case(M, 'channels_last_values', {'a': xcl}, lambda a: a.contiguous(memory_format=torch.channels_last) * 2)
wcl, bcl = rn(4, 3, 3, 3), rn(4)
case(M, 'conv_nchw', {'x': xcl, 'w': wcl, 'b': bcl}, lambda x, w, b: F.conv2d(x, w, b, padding=1), tol=CT, grad_tol=CT)
case(M, 'conv_channels_last', {'x': xcl, 'w': wcl, 'b': bcl},
     lambda x, w, b: F.conv2d(x.contiguous(memory_format=torch.channels_last), w, b, padding=1), tol=CT, grad_tol=CT)
case(M, 'conv_channels_last_out_strides', {'x': xcl, 'w': wcl},
     lambda x, w: torch.tensor(F.conv2d(x.contiguous(memory_format=torch.channels_last),
                                        w.contiguous(memory_format=torch.channels_last), padding=1).stride()), grad=False)
case(M, 'clone_channels_last', {'a': xcl},
     lambda a: [torch.tensor(a.clone(memory_format=torch.channels_last).stride()), a.clone(memory_format=torch.channels_last)])
case(M, 'to_channels_last', {'a': xcl}, lambda a: torch.tensor(a.to(memory_format=torch.channels_last).stride()), grad=False)

# ================================================================================== batch norm
B = 'bn'
BT = {'atol': 3e-5, 'rtol': 1e-4}


def bn_train(x, w, b, rm, rv):
    y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.3, eps=1e-5)
    return [y, rm, rv]


def bn_eval(x, w, b, rm, rv):
    return F.batch_norm(x, rm, rv, w, b, training=False, eps=1e-3)


rv0 = ru(0.5, 2, 3)
case(B, 'train', {'x': rn(4, 3, 2, 2) * 2 + 1, 'w': rn(3), 'b': rn(3), 'rm': rn(3), 'rv': rv0}, bn_train,
     grad=['x', 'w', 'b'], tol=BT, grad_tol=BT)
case(B, 'train_no_affine', {'x': rn(3, 2, 3, 2)},
     lambda x: F.batch_norm(x, None, None, training=True), tol=BT, grad_tol=BT)
case(B, 'train_2d_input', {'x': rn(5, 3), 'w': rn(3), 'b': rn(3), 'rm': torch.zeros(3), 'rv': torch.ones(3)}, bn_train,
     grad=['x', 'w', 'b'], tol=BT, grad_tol=BT)
case(B, 'eval', {'x': rn(2, 3, 2, 2), 'w': rn(3), 'b': rn(3), 'rm': rn(3), 'rv': rv0}, bn_eval, grad=['x', 'w', 'b'])
case(B, 'layer_norm', {'x': rn(2, 3, 4), 'w': rn(4), 'b': rn(4)}, lambda x, w, b: F.layer_norm(x, [4], w, b), tol=BT, grad_tol=BT)

# ================================================================================== pooling
O = 'pool'
p55 = distinct(1, 2, 5, 5)
case(O, 'max_k2', {'a': p55}, lambda a: F.max_pool2d(a, 2))
case(O, 'max_k3_s2_p1', {'a': p55}, lambda a: F.max_pool2d(a, 3, stride=2, padding=1))
case(O, 'max_ceil', {'a': p55}, lambda a: F.max_pool2d(a, 2, ceil_mode=True))
case(O, 'max_dilation', {'a': distinct(1, 1, 6, 6)}, lambda a: F.max_pool2d(a, 2, stride=1, dilation=2))
case(O, 'max_rect', {'a': distinct(1, 2, 4, 6)}, lambda a: F.max_pool2d(a, (2, 3), stride=(1, 2)))
case(O, 'max_with_indices', {'a': distinct(1, 1, 4, 4)}, lambda a: list(F.max_pool2d(a, 2, return_indices=True)))
case(O, 'avg_k2', {'a': rn(1, 2, 5, 5)}, lambda a: F.avg_pool2d(a, 2))
case(O, 'avg_pad_include', {'a': rn(1, 2, 5, 5)}, lambda a: F.avg_pool2d(a, 3, stride=2, padding=1, count_include_pad=True))
case(O, 'avg_pad_exclude', {'a': rn(1, 2, 5, 5)}, lambda a: F.avg_pool2d(a, 3, stride=2, padding=1, count_include_pad=False))
case(O, 'avg_ceil', {'a': rn(1, 1, 5, 5)}, lambda a: F.avg_pool2d(a, 2, ceil_mode=True))
case(O, 'avg_ceil_pad', {'a': rn(1, 1, 6, 6)}, lambda a: F.avg_pool2d(a, 3, stride=2, padding=1, ceil_mode=True))
case(O, 'avg_ceil_pad_exclude', {'a': rn(1, 1, 6, 6)},
     lambda a: F.avg_pool2d(a, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False))
case(O, 'avg_divisor', {'a': rn(1, 1, 4, 4)}, lambda a: F.avg_pool2d(a, 2, divisor_override=3))
case(O, 'adaptive_avg', {'a': rn(1, 2, 5, 7)}, lambda a: F.adaptive_avg_pool2d(a, (2, 3)))
case(O, 'adaptive_avg_1', {'a': rn(2, 3, 4, 4)}, lambda a: F.adaptive_avg_pool2d(a, 1))
case(O, 'adaptive_avg_up', {'a': rn(1, 1, 2, 3)}, lambda a: F.adaptive_avg_pool2d(a, (3, 4)))
case(O, 'adaptive_max', {'a': distinct(1, 2, 5, 5)}, lambda a: list(F.adaptive_max_pool2d(a, 2, return_indices=True)))

# ================================================================================== activations
T_ = 'act'
case(T_, 'relu', {'a': nz(2, 5)}, lambda a: F.relu(a))
case(T_, 'leaky_relu', {'a': nz(2, 5)}, lambda a: F.leaky_relu(a, 0.2))
case(T_, 'leaky_relu_default', {'a': nz(2, 5)}, lambda a: F.leaky_relu(a))
case(T_, 'sigmoid', {'a': rn(2, 5) * 3}, lambda a: torch.sigmoid(a))
case(T_, 'tanh', {'a': rn(2, 5)}, lambda a: torch.tanh(a))
case(T_, 'softmax1', {'a': rn(2, 4, 3)}, lambda a: F.softmax(a, dim=1))
case(T_, 'softmax_last', {'a': rn(2, 4) * 5}, lambda a: F.softmax(a, dim=-1))
case(T_, 'log_softmax1', {'a': rn(2, 4, 3)}, lambda a: F.log_softmax(a, dim=1))
case(T_, 'log_softmax_last', {'a': rn(2, 4) * 5}, lambda a: F.log_softmax(a, dim=-1))
case(T_, 'softmax_large', {'a': torch.tensor([[1000.0, 1001.0, 999.0]])}, lambda a: [F.softmax(a, 1), F.log_softmax(a, 1)])
case(T_, 'gelu', {'a': rn(6)}, lambda a: F.gelu(a))
case(T_, 'gelu_tanh', {'a': rn(6)}, lambda a: F.gelu(a, approximate='tanh'))
case(T_, 'silu', {'a': rn(6)}, lambda a: F.silu(a))
case(T_, 'dropout_p0_train', {'a': rn(3, 4)}, lambda a: F.dropout(a, 0.0, training=True))
case(T_, 'dropout_eval', {'a': rn(3, 4)}, lambda a: F.dropout(a, 0.5, training=False))

# ================================================================================== losses
LS = 'loss'
LT = {'atol': 2e-5, 'rtol': 1e-4}
lg, tg = rn(5, 4), torch.tensor([0, 3, 1, 1, 2])
cw = ru(0.2, 2, 4)
for red in ['none', 'sum', 'mean']:
    case(LS, f'ce_{red}', {'x': lg, 't': tg}, lambda x, t, red=red: F.cross_entropy(x, t, reduction=red), tol=LT, grad_tol=LT)
    case(LS, f'ce_weight_{red}', {'x': lg, 't': tg, 'w': cw},
         lambda x, t, w, red=red: F.cross_entropy(x, t, weight=w, reduction=red), grad=['x'], tol=LT, grad_tol=LT)
    case(LS, f'ce_smooth_{red}', {'x': lg, 't': tg},
         lambda x, t, red=red: F.cross_entropy(x, t, reduction=red, label_smoothing=0.1), tol=LT, grad_tol=LT)
    case(LS, f'ce_weight_smooth_{red}', {'x': lg, 't': tg, 'w': cw},
         lambda x, t, w, red=red: F.cross_entropy(x, t, weight=w, reduction=red, label_smoothing=0.2), grad=['x'], tol=LT, grad_tol=LT)
    case(LS, f'ce_ignore_{red}', {'x': lg, 't': torch.tensor([0, -100, 1, 1, -100])},
         lambda x, t, red=red: F.cross_entropy(x, t, reduction=red), tol=LT, grad_tol=LT)
    case(LS, f'ce_prob_{red}', {'x': lg, 'p': F.softmax(rn(5, 4), 1)},
         lambda x, p, red=red: F.cross_entropy(x, p, reduction=red), grad=['x'], tol=LT, grad_tol=LT)
    case(LS, f'nll_{red}', {'x': F.log_softmax(lg, 1), 't': tg}, lambda x, t, red=red: F.nll_loss(x, t, reduction=red), tol=LT, grad_tol=LT)
case(LS, 'ce_ignore_index2', {'x': lg, 't': tg, 'w': cw},
     lambda x, t, w: F.cross_entropy(x, t, weight=w, ignore_index=1), grad=['x'], tol=LT, grad_tol=LT)
case(LS, 'ce_ignore_smooth', {'x': lg, 't': tg}, lambda x, t: F.cross_entropy(x, t, ignore_index=1, label_smoothing=0.1),
     tol=LT, grad_tol=LT)
case(LS, 'ce_prob_smooth_weight', {'x': lg, 'p': F.softmax(rn(5, 4), 1), 'w': cw},
     lambda x, p, w: F.cross_entropy(x, p, weight=w, label_smoothing=0.1), grad=['x'], tol=LT, grad_tol=LT)
case(LS, 'ce_spatial', {'x': rn(2, 3, 2, 2), 't': ri(0, 3, 2, 2, 2)}, lambda x, t: F.cross_entropy(x, t), tol=LT, grad_tol=LT)
case(LS, 'ce_spatial_none', {'x': rn(2, 3, 2, 2), 't': ri(0, 3, 2, 2, 2)},
     lambda x, t: F.cross_entropy(x, t, reduction='none'), tol=LT, grad_tol=LT)
case(LS, 'nll_weight_ignore', {'x': F.log_softmax(lg, 1), 't': tg, 'w': cw},
     lambda x, t, w: F.nll_loss(x, t, weight=w, ignore_index=3), grad=['x'], tol=LT, grad_tol=LT)
case(LS, 'nll_spatial', {'x': F.log_softmax(rn(2, 3, 2, 2), 1), 't': ri(0, 3, 2, 2, 2)},
     lambda x, t: F.nll_loss(x, t), tol=LT, grad_tol=LT)
case(LS, 'mse', {'x': rn(2, 3), 'y': rn(2, 3)}, lambda x, y: F.mse_loss(x, y), tol=LT, grad_tol=LT)
case(LS, 'mse_sum', {'x': rn(2, 3), 'y': rn(2, 3)}, lambda x, y: F.mse_loss(x, y, reduction='sum'), tol=LT, grad_tol=LT)
case(LS, 'l1', {'x': rn(2, 3), 'y': rn(2, 3)}, lambda x, y: F.l1_loss(x, y), tol=LT, grad_tol=LT)
case(LS, 'bce_logits', {'x': rn(2, 3), 'y': torch.rand(2, 3)}, lambda x, y: F.binary_cross_entropy_with_logits(x, y),
     tol=LT, grad_tol=LT)

# ================================================================================== image helpers
G = 'image'


def gaussian_blur_tv(img, kernel_size, sigma):
    """torchvision.transforms.functional.gaussian_blur, re-written by hand (no torchvision here)."""
    half = (kernel_size - 1) * 0.5
    x = torch.linspace(-half, half, steps=kernel_size)
    pdf = torch.exp(-0.5 * (x / sigma).pow(2))
    k1 = pdf / pdf.sum()
    k2 = torch.mm(k1[:, None], k1[None, :]).to(img.dtype)
    c = img.shape[-3]
    kernel = k2.expand(c, 1, kernel_size, kernel_size)
    p = kernel_size // 2
    padded = F.pad(img, [p, p, p, p], mode='reflect')
    return F.conv2d(padded, kernel, groups=c)


case(G, 'blur3', {'x': rn(1, 2, 5, 6)}, lambda x: gaussian_blur_tv(x, 3, 1.0))
case(G, 'blur5', {'x': rn(2, 3, 6, 6)}, lambda x: gaussian_blur_tv(x, 5, 1.5))
case(G, 'blur7_small_sigma', {'x': rn(1, 1, 8, 8)}, lambda x: gaussian_blur_tv(x, 7, 0.6))


def top_fraction(x, f):
    flat = x.flatten(1)
    k = max(1, math.ceil(f * flat.shape[1]))
    return torch.topk(flat, k, dim=1).values[:, k - 1]


tf_in = distinct(3, 2, 5)
for f in [0.01, 0.25, 0.3, 0.5, 1.0]:
    case(G, f'top_fraction_{f}', {'x': tf_in}, lambda x, f=f: top_fraction(x, f))

# ================================================================================== autograd entry points
D = 'autograd'


def saliency(x, w):
    x = x.detach().requires_grad_(True)
    score = F.conv2d(x, w, padding=1).relu().mean([2, 3])[:, 1].sum()
    (g,) = torch.autograd.grad(score, [x])
    return g


case(D, 'saliency', {'x': rn(2, 3, 4, 4), 'w': rn(4, 3, 3, 3)}, saliency, grad=False)


def backward_given(x, w, g):
    x = x.detach().requires_grad_(True)
    y = x * x * w + x.sin()
    y.backward(g)
    return x.grad


case(D, 'backward_with_gradient', {'x': rn(2, 3), 'w': rn(2, 3), 'g': rn(2, 3)}, backward_given, grad=False)


def second_derivative(x):
    x = x.detach().requires_grad_(True)
    y = (x ** 3).sum() + (x.sin() * x).sum()
    (g,) = torch.autograd.grad(y, [x], create_graph=True)
    (gg,) = torch.autograd.grad(g.sum(), [x])
    return [g.detach(), gg]


case(D, 'second_derivative', {'x': rn(5)}, second_derivative, grad=False)


def grad_outputs(x):
    x = x.detach().requires_grad_(True)
    y = x.exp()
    (g,) = torch.autograd.grad([y], [x], grad_outputs=[torch.full_like(y, 0.5)])
    return g


case(D, 'grad_outputs', {'x': rn(4)}, grad_outputs, grad=False)

# ================================================================================== creation
K = 'create'
case(K, 'arange_end', {}, lambda: torch.arange(5))
case(K, 'arange_start_step', {}, lambda: torch.arange(1, 10, 3))
case(K, 'arange_negative_step', {}, lambda: torch.arange(10, 0, -3))
case(K, 'arange_float_step', {}, lambda: torch.arange(0, 1, 0.1))
case(K, 'arange_float_dtype', {}, lambda: torch.arange(0, 5, dtype=torch.float32))
case(K, 'arange_float64', {}, lambda: torch.arange(-1, 1, 0.25, dtype=torch.float64))
case(K, 'arange_int32', {}, lambda: torch.arange(2, 7, dtype=torch.int32))
case(K, 'linspace', {}, lambda: torch.linspace(0, 1, 5))
case(K, 'linspace_float64', {}, lambda: torch.linspace(-2, 3, 7, dtype=torch.float64))
case(K, 'linspace_one', {}, lambda: torch.linspace(1, 1, 1))
case(K, 'full_float', {}, lambda: torch.full((2, 3), 7.5))
case(K, 'full_int64', {}, lambda: torch.full((2,), 3, dtype=torch.int64))
case(K, 'full_bool', {}, lambda: torch.full((2,), True))
case(K, 'eye', {}, lambda: torch.eye(3))
case(K, 'eye_float64', {}, lambda: torch.eye(2, dtype=torch.float64))
case(K, 'zeros_ones', {}, lambda: [torch.zeros(2, 2), torch.ones(3, dtype=torch.int64), torch.zeros(2, dtype=torch.bool)])
case(K, 'like', {'a': rn(2, 3)}, lambda a: [torch.zeros_like(a), torch.ones_like(a), torch.full_like(a, 2.5)], grad=False)


def seeded(seed, fn):
    def run():
        torch.manual_seed(seed)
        return fn()
    return run


case(K, 'seed_randn5', {}, seeded(0, lambda: torch.randn(5)))
case(K, 'seed_randn20', {}, seeded(0, lambda: torch.randn(4, 5)))
case(K, 'seed_randn_float64', {}, seeded(0, lambda: torch.randn(3, dtype=torch.float64)))
case(K, 'seed_rand', {}, seeded(1, lambda: torch.rand(2, 3)))
case(K, 'seed_rand20', {}, seeded(1, lambda: torch.rand(20)))
case(K, 'seed_randint', {}, seeded(2, lambda: torch.randint(0, 10, (8,))))
case(K, 'seed_randperm', {}, seeded(3, lambda: torch.randperm(10)))
case(K, 'seed_sequence', {}, seeded(7, lambda: [torch.randn(3), torch.rand(3), torch.randn(17)]))
case(K, 'seed_normal_uniform_', {}, seeded(5, lambda: [torch.empty(4).normal_(1, 2), torch.empty(4).uniform_(-1, 3)]))

# ================================================================================== dtype round trips
Y = 'dtype'
case(Y, 'float32', {}, lambda: torch.tensor([[0.1, -2.5, 3.0], [1e-8, 65504.0, -0.0]], dtype=torch.float32))
case(Y, 'float64', {}, lambda: torch.tensor([0.1, -2.5, 1e-300, 1.0 / 3.0], dtype=torch.float64))
case(Y, 'int64', {}, lambda: torch.tensor([[1, -2], [2 ** 40, -(2 ** 40)]], dtype=torch.int64))
case(Y, 'int32', {}, lambda: torch.tensor([1, -2, 2 ** 31 - 1, -(2 ** 31)], dtype=torch.int32))
case(Y, 'uint8', {}, lambda: torch.tensor([0, 7, 255], dtype=torch.uint8))
case(Y, 'bool', {}, lambda: torch.tensor([[True, False], [False, True]]))
case(Y, 'bool_from_numbers', {}, lambda: torch.tensor([0, 2, -1, 0.5], dtype=torch.bool))
case(Y, 'bool_from_numbers_sum', {}, lambda: [torch.tensor([0, 2, -1, 0.5], dtype=torch.bool).sum(),
                                              torch.tensor([0, 2, -1, 0.5], dtype=torch.bool).logical_not()])
case(Y, 'float_to_int_trunc', {}, lambda: [torch.tensor([1.7, -1.7, 2.5], dtype=torch.int64),
                                           torch.tensor([1.7, -1.7, 2.5], dtype=torch.int32)])
case(Y, 'infer_int', {}, lambda: torch.tensor([1, 2, 3]))
case(Y, 'infer_float', {}, lambda: torch.tensor([1, 2.5]))
case(Y, 'infer_bool', {}, lambda: torch.tensor([True, False]))
case(Y, 'scalar', {}, lambda: torch.tensor(3.5))
case(Y, 'conversions', {'a': torch.tensor([-1.7, 0.0, 0.4, 2.6, 200.0])},
     lambda a: [a.to(torch.int32), a.to(torch.int64), a.to(torch.bool), a.to(torch.float64), a.long().float(),
                a.to(torch.bool).float(), a.double().float()], grad=False)
case(Y, 'uint8_to_float', {'a': torch.tensor([0, 128, 255], dtype=torch.uint8)}, lambda a: [a.float(), a.long(), a.bool()])
case(Y, 'float64_to_float32_rounding', {'a': torch.tensor([0.1, 1 / 3, 1e-40], dtype=torch.float64)}, lambda a: a.float())


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'golden', 'ops.json')
    out = os.path.normpath(out)
    doc = {'meta': {'torch': torch.__version__, 'script': 'scripts/golden/ops.py',
                    'note': 'grads are d/d(input) of sum_i sum(output_i * weight_i)'},
           'families': FAMILIES, '__metadata__': build_info()}
    text = json.dumps(doc, separators=(',', ':'))
    with open(out, 'w') as f:
        f.write(text)
    n = sum(len(v) for v in FAMILIES.values())
    print(f'wrote {out}: {n} cases, {len(text) / 1024:.0f} KiB', file=sys.stderr)
    assert len(text) < 1_000_000


if __name__ == '__main__':
    main()
