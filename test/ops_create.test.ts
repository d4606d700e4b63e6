// Parity with PyTorch (golden values from scripts/golden/ops.py): creation ops (arange dtypes,
// linspace, full, eye, *_like), seeded random streams (libtorch's CPU generator reproduces
// torch.manual_seed(s); randn/rand/randint/randperm), and dtype round trips through
// tensor()/data()/tolist(). Values are exact for ints/bools, float32 atol 1e-5 / rtol 1e-4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFamily, goldenFamily } from './ops_golden.js';
import {
  tensor, arange, linspace, full, eye, zeros, ones, empty, zerosLike, onesLike, fullLike,
  rand, randn, randint, randperm, manualSeed, getRngState, setRngState, tidy, type Dtype,
} from '../src/torch/index.js';

runFamily('create', {
  arange_end: () => arange(5),
  arange_start_step: () => arange(1, 10, 3),
  arange_negative_step: () => arange(10, 0, -3),
  arange_float_step: () => arange(0, 1, 0.1),
  arange_float_dtype: () => arange(0, 5, 1, { dtype: 'float32' }),
  arange_float64: () => arange(-1, 1, 0.25, { dtype: 'float64' }),
  arange_int32: () => arange(2, 7, 1, { dtype: 'int32' }),
  linspace: () => linspace(0, 1, 5),
  linspace_float64: () => linspace(-2, 3, 7, { dtype: 'float64' }),
  linspace_one: () => linspace(1, 1, 1),
  full_float: () => full([2, 3], 7.5),
  full_int64: () => full([2], 3, { dtype: 'int64' }),
  full_bool: () => full([2], true),
  eye: () => eye(3),
  eye_float64: () => eye(2, { dtype: 'float64' }),
  zeros_ones: () => [zeros([2, 2]), ones([3], { dtype: 'int64' }), zeros([2], { dtype: 'bool' })],
  like: ({ a }) => [zerosLike(a), onesLike(a), fullLike(a, 2.5)],
  seed_randn5: () => { manualSeed(0); return randn([5]); },
  seed_randn20: () => { manualSeed(0); return randn([4, 5]); },
  seed_randn_float64: () => { manualSeed(0); return randn([3], { dtype: 'float64' }); },
  seed_rand: () => { manualSeed(1); return rand([2, 3]); },
  seed_rand20: () => { manualSeed(1); return rand([20]); },
  seed_randint: () => { manualSeed(2); return randint(0, 10, [8]); },
  seed_randperm: () => { manualSeed(3); return randperm(10); },
  seed_sequence: () => { manualSeed(7); return [randn([3]), rand([3]), randn([17])]; },
  seed_normal_uniform_: () => { manualSeed(5); return [empty([4]).normal_(1, 2), empty([4]).uniform_(-1, 3)]; },
});

const dtypeFns: Record<string, Parameters<typeof runFamily>[1][string]> = {
  float32: () => tensor([[0.1, -2.5, 3.0], [1e-8, 65504.0, -0.0]], { dtype: 'float32' }),
  float64: () => tensor([0.1, -2.5, 1e-300, 1.0 / 3.0], { dtype: 'float64' }),
  int64: () => tensor([[1, -2], [2 ** 40, -(2 ** 40)]], { dtype: 'int64' }),
  int32: () => tensor([1, -2, 2 ** 31 - 1, -(2 ** 31)], { dtype: 'int32' }),
  uint8: () => tensor([0, 7, 255], { dtype: 'uint8' }),
  bool: () => tensor([[true, false], [false, true]]),
  bool_from_numbers: () => tensor([0, 2, -1, 0.5], { dtype: 'bool' }),
  bool_from_numbers_sum: () => { const b = tensor([0, 2, -1, 0.5], { dtype: 'bool' }); return [b.sum(), b.logicalNot()]; },
  float_to_int_trunc: () => [tensor([1.7, -1.7, 2.5], { dtype: 'int64' }), tensor([1.7, -1.7, 2.5], { dtype: 'int32' })],
  infer_int: () => tensor([1, 2, 3]),
  infer_float: () => tensor([1, 2.5]),
  infer_bool: () => tensor([true, false]),
  scalar: () => tensor(3.5),
  conversions: ({ a }) => [a.to('int32'), a.to('int64'), a.to('bool'), a.to('float64'), a.long().float(), a.bool().float(), a.double().float()],
  uint8_to_float: ({ a }) => [a.float(), a.long(), a.bool()],
  float64_to_float32_rounding: ({ a }) => a.float(),
};
runFamily('dtype', dtypeFns);

test('dtype round trips: data() typed array class and tolist() nesting match PyTorch', () => {
  const cases = goldenFamily('dtype');
  const klass: Record<string, string> = {
    float32: 'Float32Array', float64: 'Float64Array', int64: 'BigInt64Array', int32: 'Int32Array', uint8: 'Uint8Array', bool: 'Uint8Array',
  };
  tidy(() => {
    for (const name of ['float32', 'float64', 'int64', 'int32', 'uint8', 'bool', 'bool_from_numbers', 'scalar']) {
      const t = dtypeFns[name]({}) as any;
      const g = cases[name].outputs[0];
      assert.equal(t.data().constructor.name, klass[g.dtype], name);
      // nested tolist from the flat golden data
      const vals = g.data.map((v) => (g.dtype === 'bool' ? v !== 0 : g.dtype === 'float32' ? Math.fround(Number(v)) : Number(v)));
      let pos = 0;
      const build = (d: number): any => d === g.shape.length ? vals[pos++] : Array.from({ length: g.shape[d] }, () => build(d + 1));
      assert.deepEqual(t.tolist(), build(0), name);
      // and back again: tensor(tolist()) reproduces the tensor
      if (g.shape.length) {
        const back = tensor(t.tolist(), { dtype: g.dtype });
        assert.ok(back.equal(t), `${name}: tensor(tolist()) round trip`);
      }
      // typed-array round trip through fromTypedArray
      assert.deepEqual(tensor(t.data(), { dtype: g.dtype }).reshape(g.shape.length ? g.shape : []).tolist(), t.tolist(), `${name}: data() round trip`);
    }
  });
});

test('tensor(): ragged nested arrays and non-numbers are rejected; half types round trip', () => {
  tidy(() => {
    assert.throws(() => tensor([[1, 2], [3]]), /ragged/);
    assert.throws(() => tensor([[1, 2], [], [3, 4, 5, 6]]), /ragged/);
    assert.throws(() => tensor([[1, 2], 3] as any), /ragged/);
    assert.throws(() => tensor(['a'] as any), /element 0 is string/);
    assert.deepEqual(tensor([]).shape, [0]);
    assert.equal(tensor([]).dtype, 'float32');
    const h = tensor([1.5, -2, 65504, 1e-8], { dtype: 'float16' });
    assert.equal(h.dtype, 'float16');
    assert.deepEqual(h.tolist(), [1.5, -2, 65504, 0]); // 1e-8 underflows in float16, as in PyTorch
    assert.deepEqual(tensor([1.5, 3.3], { dtype: 'bfloat16' }).tolist(), [1.5, 3.296875]);
  });
});

test('random factories: shapes, dtypes and ranges', () => {
  tidy(() => {
    manualSeed(42);
    const checks: [any, number[], Dtype][] = [
      [randn([2, 3]), [2, 3], 'float32'], [rand([4]), [4], 'float32'], [randn([2], { dtype: 'float64' }), [2], 'float64'],
      [randint(0, 5, [3, 2]), [3, 2], 'int64'], [randint(-3, 3, [7], { dtype: 'int32' }), [7], 'int32'],
      [randperm(6), [6], 'int64'], [randperm(5, { dtype: 'int32' }), [5], 'int32'],
    ];
    for (const [t, shape, dtype] of checks) { assert.deepEqual(t.shape, shape); assert.equal(t.dtype, dtype); }
    const u = rand([10000]).toFloat64Array();
    assert.ok(u.every((v) => v >= 0 && v < 1));
    const r = randint(-3, 3, [10000]).toFloat64Array();
    assert.ok(r.every((v) => Number.isInteger(v) && v >= -3 && v < 3));
    assert.deepEqual([...new Set(r)].sort((a, b) => a - b), [-3, -2, -1, 0, 1, 2]);
    assert.deepEqual([...randperm(50).toFloat64Array()].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
    const n = randn([20000]);
    assert.ok(Math.abs(n.mean().item()) < 0.05 && Math.abs(n.std().item() - 1) < 0.05);
  });
});

test('RNG state save/restore reproduces the stream', () => {
  tidy(() => {
    manualSeed(9);
    randn([3]);
    const state = getRngState();
    const a = randn([5]).toFloat64Array();
    setRngState(state);
    const b = randn([5]).toFloat64Array();
    assert.deepEqual(b, a);
  });
});
