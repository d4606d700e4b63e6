// tidy/keep lifetime rules and liveTensors() accounting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, ones, zeros, tensor, tidy, keep, scopeDepth, liveTensors, F } from '../src/torch/index.js';

/** Asserts that running fn changes liveTensors() by exactly delta. */
function delta<T>(expected: number, fn: () => T): T {
  const before = liveTensors();
  const r = fn();
  assert.equal(liveTensors() - before, expected, `liveTensors changed by ${liveTensors() - before}, expected ${expected}`);
  return r;
}

test('liveTensors counts creations and disposals; dispose is idempotent', () => {
  const [a, b] = delta(2, () => [ones([2]), zeros([2])]);
  const c = delta(1, () => a.add(b));
  delta(-1, () => c.dispose());
  delta(-1, () => { a.dispose(); a.dispose(); });
  assert.equal(a.isDisposed, true);
  assert.equal(b.isDisposed, false);
  delta(-1, () => b.dispose());
  // ops returning several tensors count each
  const x = ones([4, 2]);
  delta(2, () => x.max(1));
  delta(4, () => x.split(1));
});

test('tidy frees everything created inside except the returned tensor', () => {
  const outer = ones([3]);
  const r = delta(1, () => tidy(() => {
    const a = outer.mul(2);
    const b = a.add(1).exp();
    b.sum();
    return b.log();
  }));
  assert.equal(r.isDisposed, false);
  assert.equal(outer.isDisposed, false, 'tensors from outside the scope are left alone');
  assert.equal(scopeDepth(), 0);
  r.dispose(); outer.dispose();
});

test('tidy keeps arrays, nested objects and Maps of tensors; non-tensor results pass through', () => {
  const res = delta(5, () => tidy(() => {
    const t = () => ones([2]).mul(3).add(1);
    return { a: t(), list: [t(), [t()]], m: new Map([['k', t()]]), nested: { deeper: { x: t() } }, n: 42, s: 'str' };
  }));
  const deep = delta(1, () => tidy(() => {
    const cyc: any = { a: { b: [{ c: { d: [{ e: ones([1]) }] } }] } };
    cyc.self = cyc; // cycles are fine
    return cyc;
  }));
  assert.equal(deep.a.b[0].c.d[0].e.isDisposed, false, 'deeply nested results are kept');
  deep.a.b[0].c.d[0].e.dispose();
  for (const t of [res.a, res.list[0] as Tensor, (res.list[1] as Tensor[])[0], res.m.get('k')!, res.nested.deeper.x]) {
    assert.equal(t.isDisposed, false);
    assert.deepEqual(Array.from(t.toFloat64Array()), [4, 4]);
    t.dispose();
  }
  assert.equal(res.n, 42);
  assert.equal(delta(0, () => tidy(() => { ones([5]).sum(); return 7; })), 7);
  const [p, q] = delta(2, () => tidy(() => ones([2]).split(1)));
  p.dispose(); q.dispose();
});

test('nested tidy: the inner result moves to the outer scope and is freed there unless returned', () => {
  let inner: Tensor | undefined;
  let innerFreed: boolean | undefined;
  const out = delta(1, () => tidy(() => {
    inner = tidy(() => ones([2]).add(1));
    innerFreed = inner.isDisposed;
    assert.equal(scopeDepth(), 1);
    const kept = tidy(() => tidy(() => ones([2]).mul(5)));
    return kept.add(inner);
  }));
  assert.equal(innerFreed, false, 'inner result alive inside the outer scope');
  assert.equal(inner!.isDisposed, true, 'freed when the outer scope ends');
  assert.deepEqual(Array.from(out.toFloat64Array()), [7, 7]);
  out.dispose();
});

test('keep exempts a tensor from every enclosing scope', () => {
  let k: Tensor | undefined;
  delta(1, () => tidy(() => {
    tidy(() => { k = keep(ones([2]).mul(4)); ones([9]); });
    ones([3]);
  }));
  assert.equal(k!.isDisposed, false);
  assert.deepEqual(Array.from(k!.toFloat64Array()), [4, 4]);
  delta(-1, () => k!.dispose());
});

test('an exception inside tidy frees the scope and propagates; scopes unwind', () => {
  let leaked: Tensor | undefined;
  delta(0, () => assert.throws(() => tidy(() => {
    leaked = ones([4]).mul(2);
    tidy(() => { ones([2]); throw new Error('inner boom'); });
  }), /inner boom/));
  assert.equal(leaked!.isDisposed, true);
  assert.equal(scopeDepth(), 0);
  // libtorch errors too
  delta(0, () => assert.throws(() => tidy(() => ones([2, 3]).mm(ones([2, 3]))), /mat1 and mat2 shapes/));
  assert.equal(scopeDepth(), 0);
});

test('tidy refuses async functions (and frees what they created synchronously)', () => {
  delta(0, () => assert.throws(() => tidy((() => { ones([2]); return Promise.resolve(1); }) as any), /must be synchronous/));
  assert.equal(scopeDepth(), 0);
});

test('in-place ops inside tidy keep the outer tensor; views returned survive their base', () => {
  const x = ones([2, 3]);
  delta(0, () => tidy(() => { x.add_(1); x.mul_(tensor([2], { dtype: 'float32' })); }));
  assert.deepEqual(Array.from(x.toFloat64Array()), [4, 4, 4, 4, 4, 4]);
  const v = delta(1, () => tidy(() => x.add(1).view(6).slice(0, 1, 3)));
  assert.deepEqual(Array.from(v.toFloat64Array()), [5, 5]);
  v.dispose(); x.dispose();
});

test('library helpers do not leak native tensors outside tidy', () => {
  const x = ones([1, 2, 6, 6]);
  const saliency = ones([2, 10]);
  for (const [name, fn] of [
    ['gaussianBlur', () => F.gaussianBlur(x, 3, 1)],
    ['topFractionThreshold', () => F.topFractionThreshold(saliency, 0.3)],
    ['requiresGrad_', () => ones([2]).requiresGrad_()],
    ['interpolate', () => F.interpolate(x, { scaleFactor: 2, mode: 'bilinear' })],
    ['pad reflect', () => F.pad(x, [1, 1, 1, 1], 'reflect')],
    ['div floor scalar', () => x.div(2, 'floor')],
    ['float16 data()/tolist()', () => { const h = x.to('float16'); h.data(); h.tolist(); return h; }],
  ] as [string, () => Tensor][]) {
    const before = liveTensors();
    const r = fn();
    assert.equal(liveTensors() - before, 1, `${name} should create exactly its result`);
    r.dispose();
  }
  x.dispose(); saliency.dispose();
});
