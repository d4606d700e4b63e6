// Errors from libtorch and from argument conversion surface as thrown JS Errors carrying libtorch's
// own message (prefixed with the op name); none aborts the process (checked in a child process too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { F, tensor, ones, zeros, randn, grad, cat, tidy, liveTensors, TorchError, type Dtype } from '../src/torch/index.js';
import { callOpRaw } from '../src/torch/ops.js';

/** Asserts fn throws an Error whose message matches re (and has no C++ backtrace). */
function throwsLibtorch(fn: () => unknown, re: RegExp): Error {
  let caught: unknown;
  try { fn(); } catch (e) { caught = e; }
  assert.ok(caught instanceof Error, `expected an Error to be thrown, got ${String(caught)}`);
  assert.match(caught.message, re);
  assert.doesNotMatch(caught.message, /Exception raised from/, 'message should not carry the C++ backtrace');
  return caught;
}

test('bad shapes: libtorch messages', () => {
  tidy(() => {
    const e = throwsLibtorch(() => ones([2, 3]).mm(ones([2, 3])), /mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)/);
    assert.match(e.message, /^aten::mm: /, 'op name prefix');
    assert.ok(e instanceof TorchError, 'a typed TorchError');
    assert.equal((e as TorchError).op, 'aten::mm');
    assert.match((e as TorchError).schema, /^aten::mm\(Tensor self, Tensor mat2\) -> Tensor$/);
    assert.match((e as TorchError).libtorchMessage, /^mat1 and mat2 shapes cannot be multiplied/);
    throwsLibtorch(() => ones([2, 3]).add(ones([2, 4])), /The size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 1/);
    throwsLibtorch(() => ones([2, 3]).view(5), /shape '\[5\]' is invalid for input of size 6/);
    throwsLibtorch(() => F.conv2d(ones([1, 2, 5, 5]), ones([4, 3, 3, 3])),
      /Given groups=1, weight of size \[4, 3, 3, 3\], expected input\[1, 2, 5, 5\] to have 3 channels, but got 2 channels instead/);
    throwsLibtorch(() => cat([ones([2, 3]), ones([2, 4])]), /Sizes of tensors must match except in dimension 0/);
    throwsLibtorch(() => ones([3]).expand(2, 4), /The expanded size of the tensor \(4\) must match the existing size \(3\)/);
    throwsLibtorch(() => ones([2, 3]).sum(5), /Dimension out of range \(expected to be in range of \[-2, 1\], but got 5\)/);
    throwsLibtorch(() => F.maxPool2d(ones([1, 1, 2, 2]), 3), /Output size is too small/);
    throwsLibtorch(() => ones([2, 3]).gather(1, tensor([[5]])), /index 5 is out of bounds for dimension 1 with size 3/);
    throwsLibtorch(() => F.crossEntropy(ones([3, 4]), tensor([0, 1, 5])), /Target 5 is out of bounds/);
    throwsLibtorch(() => ones([4]).bmm(ones([4])), /batch1 must be a 3D tensor/);
  });
});

test('wrong dtypes: libtorch messages', () => {
  tidy(() => {
    throwsLibtorch(() => ones([3]).indexSelect(0, tensor([0.0, 1.5])), /index_select\(\): Expected dtype int32 or int64 for index/);
    // The meaning, not one release's wording: 1.13 says "expected scalar type Float but found Double",
    // 2.x "expected m1 and m2 to have the same dtype, but got: float != double".
    const mixed = throwsLibtorch(() => ones([2, 2]).mm(ones([2, 2], { dtype: 'float64' })), /\bfloat\b.*\bdouble\b/i);
    assert.ok(mixed instanceof TorchError && mixed.op === 'aten::mm', 'a TorchError of aten::mm');
    assert.match(mixed.message, /scalar type|dtype/i);
    throwsLibtorch(() => ones([2, 3]).where(ones([2, 3]), ones([2, 3])), /where expected condition to be a boolean tensor/);
    throwsLibtorch(() => F.crossEntropy(ones([3, 4]), tensor([0, 1, 2], { dtype: 'int32' })), /(scalar type|dtype).*\blong\b.*\bint\b/i);
    throwsLibtorch(() => tensor([1, 2]).requiresGrad_(), /Only Tensors of floating point (and complex )?dtype can require gradients/i);
    throwsLibtorch(() => ones([2]).to('float99' as Dtype), /device string|Expected one of/);
    throwsLibtorch(() => zeros([2], { dtype: 'float99' as Dtype }), /unknown dtype 'float99'/);
  });
});

test('disposed tensors: every use throws "tensor was disposed"', () => {
  const x = ones([2]);
  const y = ones([2]);
  x.dispose();
  x.dispose(); // idempotent
  assert.equal(x.isDisposed, true);
  throwsLibtorch(() => x.add(y), /tensor was disposed/);
  throwsLibtorch(() => y.add(x), /tensor was disposed/);
  throwsLibtorch(() => x.shape, /tensor was disposed/);
  throwsLibtorch(() => x.data(), /tensor was disposed/);
  throwsLibtorch(() => cat([y, x]), /tensor was disposed/);
  throwsLibtorch(() => grad(y.sum(), x), /tensor was disposed/);
  y.dispose();
});

test('wrong argument types and counts: thrown TypeErrors naming the argument', () => {
  tidy(() => {
    const x = ones([2, 3]);
    throwsLibtorch(() => x.add('a' as any), /expected a number/);
    throwsLibtorch(() => callOpRaw('mm', [x, 3]), /argument 'mat2' must be a tensor/);
    throwsLibtorch(() => x.sum(1.5), /expected an integer, got 1\.5/);
    throwsLibtorch(() => x.transpose('a' as any, 1), /expected an integer/);
    throwsLibtorch(() => F.softmax(x, 1, 'int99' as Dtype), /unknown dtype 'int99'/);
    throwsLibtorch(() => F.dropout(x, 0.5, 'yes' as any), /argument 'train' must be a boolean/);
    throwsLibtorch(() => F.leakyRelu(x, 'a' as any), /negative_slope.*expected a number|expected a number/);
    throwsLibtorch(() => F.conv2d(ones([1, 1, 3, 3]), ones([1, 1, 1, 1]), null, { stride: 'x' as any }), /expected an array of integers|expected an integer/);
    throwsLibtorch(() => cat([x, 5 as any]), /expected a native tensor handle/);
    throwsLibtorch(() => cat(x as any), /must be an array of tensors/);
    const tooMany = throwsLibtorch(() => callOpRaw('add', [x, x, 1, 2, 3]), /too many arguments \(5\)/);
    assert.ok(tooMany instanceof TypeError);
    throwsLibtorch(() => callOpRaw('mm', [x]), /missing argument 'mat2'/);
    throwsLibtorch(() => ones([3]).item(), /a Tensor with 3 elements cannot be converted to Scalar/);
  });
});

test('autograd errors carry libtorch messages', () => {
  tidy(() => {
    const x = ones([3], { requiresGrad: true });
    throwsLibtorch(() => x.mul(2).backward(), /grad can be implicitly created only for scalar outputs/);
    throwsLibtorch(() => x.mul(2).backward(ones([4])), /invalid gradient at index 0 - got \[4\] but expected shape compatible with \[3\]/);
    throwsLibtorch(() => grad(x.mul(2).sum(), [x, ones([2], { requiresGrad: true })]), /appears to not have been used in the graph/);
    throwsLibtorch(() => grad(x.mul(2).sum(), ones([2])), /does not require grad/);
  });
});

test('after errors, nothing leaked and the library keeps working', () => {
  const before = liveTensors();
  for (let i = 0; i < 50; i++) {
    try { tidy(() => ones([2, 3]).mm(ones([2, 3]))); } catch { /* expected */ }
  }
  assert.equal(liveTensors(), before);
  tidy(() => assert.equal(randn([4, 4]).mm(ones([4, 1])).shape.join(','), '4,1'));
});

test('errors never abort the process (child process runs a gauntlet and exits 0)', () => {
  const torchIndex = fileURLToPath(new URL('../src/torch/index.js', import.meta.url));
  const script = `
    import * as T from ${JSON.stringify(torchIndex)};
    const { F, ones, tensor } = T;
    const attempts = [
      () => ones([2, 3]).mm(ones([2, 3])), () => F.conv2d(ones([1, 2, 5, 5]), ones([4, 3, 3, 3])),
      () => ones([3]).indexSelect(0, tensor([7])), () => ones([2]).view(3), () => { const x = ones([1]); x.dispose(); x.add(1); },
      () => F.crossEntropy(ones([2, 3]), tensor([0, 9])), () => ones([3]).item(), () => ones([2, 2]).backward(),
      () => ones([2]).index([tensor([5])]), () => ones([2]).maskedFill(tensor([true]).expand(3), 1), () => ones([2]).reshape(-1, -1),
    ];
    let n = 0;
    for (const f of attempts) { try { f(); } catch (e) { if (e instanceof Error) n++; } }
    console.log('threw ' + n + ' of ' + attempts.length);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, `child exited ${r.status} (signal ${r.signal}): ${r.stderr}`);
  assert.match(r.stdout, /threw 11 of 11/);
});
