// Autograd semantics over libtorch's engine: requiresGrad, backward (with a gradient, retainGraph),
// .grad accumulation and reset, detach, noGrad/enableGrad scopes, grad() with allowUnused,
// gradOutputs and createGraph (second derivatives). Float tolerance 1e-6 (values are O(1)).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  F, Tensor, tensor, ones, zeros, randn, grad, backward, noGrad, enableGrad, isGradEnabled, tidy, manualSeed,
} from '../src/torch/index.js';
import { assertClose } from './helpers.js';

const vals = (t: Tensor | null) => Array.from(t!.toFloat64Array());

test('requiresGrad: defaults, setter, requiresGrad_, leaves and non-leaves', () => {
  tidy(() => {
    const x = tensor([1, 2, 3], { dtype: 'float32' });
    assert.equal(x.requiresGrad, false);
    assert.equal(x.isLeaf, true);
    x.requiresGrad = true;
    assert.equal(x.requiresGrad, true);
    x.requiresGrad = false;
    assert.equal(x.requiresGrad, false);
    assert.equal(x.requiresGrad_(), x, 'requiresGrad_ returns this');
    const y = x.mul(2);
    assert.equal(y.requiresGrad, true);
    assert.equal(y.isLeaf, false);
    assert.equal(x.add(zeros([3])).requiresGrad, true);
    assert.equal(zeros([3]).add(1).requiresGrad, false);
    const z = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    assert.equal(z.requiresGrad, true);
    assert.equal(z.grad, null, 'no grad before backward');
  });
});

test('backward on a scalar fills .grad of leaves (d/dx sum(x^2 * 3) = 6x)', () => {
  tidy(() => {
    const x = tensor([1, -2, 0.5], { dtype: 'float32', requiresGrad: true });
    x.pow(2).mul(3).sum().backward();
    assertClose(x.grad!.toFloat64Array(), [6, -12, 3], 1e-6);
    // non-leaf tensors do not keep .grad
    const w = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    const h = w.mul(2);
    h.sum().backward();
    assert.equal(h.grad, null);
  });
});

test('backward with a given gradient (vector-Jacobian product)', () => {
  tidy(() => {
    const x = tensor([[1, 2], [3, 4]], { dtype: 'float32', requiresGrad: true });
    const y = x.mul(x); // dy/dx = 2x
    y.backward(tensor([[1, 0.5], [-1, 2]]));
    assertClose(x.grad!.toFloat64Array(), [2, 2, -6, 16], 1e-6);
    // torch.autograd.backward over several roots
    const a = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    backward([a.mul(3).sum(), a.mul(a)], [null, tensor([1, 1])]);
    assertClose(a.grad!.toFloat64Array(), [3 + 2, 3 + 4], 1e-6);
  });
});

test('.grad accumulates across backward calls; setting it to null resets; setting a tensor replaces', () => {
  tidy(() => {
    const x = tensor([1, 2, 3], { dtype: 'float32', requiresGrad: true });
    x.mul(2).sum().backward();
    x.mul(2).sum().backward();
    assert.deepEqual(vals(x.grad), [4, 4, 4]);
    x.grad = null;
    assert.equal(x.grad, null);
    x.mul(5).sum().backward();
    assert.deepEqual(vals(x.grad), [5, 5, 5]);
    x.grad = tensor([1, 1, 1], { dtype: 'float32' });
    x.sum().backward();
    assert.deepEqual(vals(x.grad), [2, 2, 2]);
    // the setter validates like PyTorch's (a mis-shaped grad would otherwise broadcast on accumulation)
    assert.throws(() => { x.grad = tensor([1], { dtype: 'float32' }); }, /assigned grad has data of a different size/);
    assert.throws(() => { x.grad = tensor([1, 1, 1], { dtype: 'float64' }); }, /assigned grad has data of a different type/);
    assert.throws(() => { x.grad = x; }, /can't assign Variable as its own grad/);
    assert.deepEqual(vals(x.grad), [2, 2, 2]);
    // the same leaf used twice in one graph: contributions add up
    const w = tensor([2], { dtype: 'float32', requiresGrad: true });
    w.mul(w).add(w.mul(3)).sum().backward(); // d/dw (w^2 + 3w) = 2w + 3
    assert.deepEqual(vals(w.grad), [7]);
  });
});

test('retainGraph: a second backward needs it; without it libtorch refuses with its message', () => {
  tidy(() => {
    const x = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    const y = x.exp().sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    assertClose(x.grad!.toFloat64Array(), [2 * Math.E, 2 * Math.exp(2)], 1e-5, 1e-6);
    assert.throws(() => y.backward(), /Trying to backward through the graph a second time/);
    assert.throws(() => x.mul(2).backward(), /grad can be implicitly created only for scalar outputs/);
  });
});

test('detach: same values, no grad, cut from the graph', () => {
  tidy(() => {
    const x = tensor([1, 2, 3], { dtype: 'float32', requiresGrad: true });
    const d = x.mul(2).detach();
    assert.equal(d.requiresGrad, false);
    assert.equal(d.isLeaf, true);
    assert.deepEqual(vals(d), [2, 4, 6]);
    const y = x.mul(d).sum(); // d is a constant
    y.backward();
    assert.deepEqual(vals(x.grad), [2, 4, 6]);
  });
});

test('noGrad: no graph recorded, mode restored (also after a throw); enableGrad nests inside', () => {
  tidy(() => {
    const x = tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    assert.equal(isGradEnabled(), true);
    const y = noGrad(() => {
      assert.equal(isGradEnabled(), false);
      const inner = enableGrad(() => { assert.equal(isGradEnabled(), true); return x.mul(2); });
      assert.equal(inner.requiresGrad, true);
      return x.mul(2).add(1);
    });
    assert.equal(isGradEnabled(), true);
    assert.equal(y.requiresGrad, false);
    assert.equal(y.isLeaf, true);
    assert.throws(() => y.sum().backward(), /does not require grad/);
    assert.throws(() => noGrad(() => { throw new Error('boom'); }), /boom/);
    assert.equal(isGradEnabled(), true);
    // in-place parameter update under noGrad (what optimizers do) is allowed on a leaf
    noGrad(() => x.sub_(tensor([0.5, 0.5])));
    assert.deepEqual(vals(x), [0.5, 1.5]);
    assert.throws(() => x.add_(1), /a leaf Variable that requires grad is being used in an in-place operation/);
  });
});

test('grad(): inputs gradients, allowUnused -> null, unused without it throws', () => {
  tidy(() => {
    const x = tensor([1, 2, 3], { dtype: 'float32', requiresGrad: true });
    const u = tensor([4], { dtype: 'float32', requiresGrad: true });
    const y = x.mul(x).sum();
    const [gx, gu] = grad(y, [x, u], { allowUnused: true, retainGraph: true });
    assert.deepEqual(vals(gx), [2, 4, 6]);
    assert.equal(gu, null);
    assert.equal(x.grad, null, 'grad() does not touch .grad');
    // 1.13: "One of the differentiated Tensors ..."; 2.x names the input: "element 1of the differentiated Tensors ...".
    assert.throws(() => grad(y, [x, u]), /of the differentiated Tensors appears to not have been used in the graph/);
    // gradOutputs for a non-scalar output
    const [g] = grad(x.mul(3), x, { gradOutputs: [tensor([1, 0, 2], { dtype: 'float32' })] });
    assert.deepEqual(vals(g), [3, 0, 6]);
    // several outputs
    const [g2] = grad([x.sum(), x.mul(2).sum()], [x]);
    assert.deepEqual(vals(g2), [3, 3, 3]);
  });
});

test('grad(): createGraph gives differentiable gradients (second and third derivatives)', () => {
  tidy(() => {
    const x = tensor([0.5, -1, 2], { dtype: 'float64', requiresGrad: true });
    const y = x.pow(3).sum();
    const [g1] = grad(y, x, { createGraph: true });
    assert.equal(g1!.requiresGrad, true);
    assertClose(g1!.toFloat64Array(), [0.75, 3, 12], 1e-12);
    const [g2] = grad(g1!.sum(), x, { createGraph: true });
    assertClose(g2!.toFloat64Array(), [3, -6, 12], 1e-12);
    const [g3] = grad(g2!.sum(), x);
    assertClose(g3!.toFloat64Array(), [6, 6, 6], 1e-12);
    // without createGraph the gradient is a constant
    const [c] = grad(x.pow(3).sum(), x);
    assert.equal(c!.requiresGrad, false);
    // backward with createGraph: .grad itself is differentiable
    const z = tensor([3], { dtype: 'float64', requiresGrad: true });
    z.pow(2).sum().backward(undefined, { createGraph: true });
    const [gg] = grad(z.grad!.sum(), z);
    assert.deepEqual(vals(gg), [2]);
  });
});

test('gradient check of a small network against finite differences (float64)', () => {
  tidy(() => {
    manualSeed(0);
    const w = randn([3, 4], { dtype: 'float64' });
    const x = randn([2, 4], { dtype: 'float64', requiresGrad: true });
    const f = (xi: Tensor) => F.tanh(xi.matmul(w.t())).pow(2).sum().add(xi.exp().mean());
    const [g] = grad(f(x), x);
    const base = x.detach();
    const eps = 1e-6, n = 8;
    const gv = g!.toFloat64Array();
    for (let i = 0; i < n; i++) {
      const d = tensor(Array.from({ length: n }, (_, j) => (j === i ? eps : 0)), { dtype: 'float64' }).reshape(2, 4);
      const fd = (f(base.add(d)).item() - f(base.sub(d)).item()) / (2 * eps);
      assert.ok(Math.abs(fd - gv[i]) < 1e-6, `element ${i}: analytic ${gv[i]} vs numeric ${fd}`);
    }
  });
});

test('integer tensors cannot require grad (libtorch message)', () => {
  tidy(() => {
    // as in PyTorch, all-integer data infers int64, which cannot require grad: pass dtype 'float32'
    assert.throws(() => tensor([1, 2, 3], { requiresGrad: true }), /Only Tensors of floating point/);
    assert.throws(() => tensor([1, 2, 3]).requiresGrad_(), /Only Tensors of floating point (and complex )?dtype can require gradients/i);
    const o = ones([2], { requiresGrad: true });
    assert.equal(o.requiresGrad, true);
  });
});
