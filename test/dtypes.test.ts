// The one dtype table (util/dtypes.ts) agrees with the addon's own (native/src/convert.cc) and drives
// tensors, .npy and safetensors alike: every dtype round-trips through each format that can hold it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as torch from '../src/torch/index.js';
import { native } from '../src/torch/native.js';
import { DTYPES, DTYPE_NAMES, dtypeOfArray, dtypeWhere } from '../src/util/dtypes.js';
import { readNpy, writeNpy } from '../src/io/npy.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-dtypes-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('the addon knows every dtype of the table, with its element size and typed array', () => {
  for (const d of DTYPE_NAMES) {
    const t = torch.zeros([3], { dtype: d });
    assert.equal(t.dtype, d);
    assert.equal(native.toBuffer(t.h).byteLength, 3 * DTYPES[d].itemSize, `${d} item size`);
    const data = t.data();
    assert.ok(data instanceof (DTYPES[d].array ?? Float32Array), `${d} data() holder`);
    if (DTYPES[d].array) assert.equal(DTYPES[d].array!.BYTES_PER_ELEMENT, DTYPES[d].itemSize);
    t.dispose();
  }
  assert.deepEqual(DTYPE_NAMES.filter((d) => torch.isDtype(d)), DTYPE_NAMES);
  assert.equal(torch.isDtype('toString'), false);
  assert.equal(dtypeOfArray(new Int8Array(1)), 'int8');
  assert.equal(dtypeOfArray(new Uint8Array(1)), 'uint8');
  assert.equal(dtypeWhere('safetensors', 'BF16'), 'bfloat16');
  assert.equal(dtypeWhere('npy', '__proto__'), undefined);
});

test('every dtype round-trips through safetensors, and every JS-held one through .npy', () => {
  const tensors: Record<string, torch.Tensor> = {};
  for (const d of DTYPE_NAMES) tensors[d] = torch.tensor([[0, 1], [1, 0]]).to(d);
  const file = join(tmp, 'all.safetensors');
  torch.saveSafetensors(file, tensors);
  const back = torch.loadSafetensors(file).tensors;
  for (const d of DTYPE_NAMES) {
    assert.equal(back[d].dtype, d);
    assert.ok(back[d].equal(tensors[d]), `${d} safetensors round trip`);
    const info = DTYPES[d];
    if (!info.npy || !info.array) continue;
    const npy = join(tmp, `${d}.npy`);
    writeNpy(npy, tensors[d].data(), [2, 2], d === 'bool' ? { dtype: '|b1' } : {});
    const r = readNpy(npy);
    assert.equal(r.dtype, info.npy, `${d} npy descriptor`);
    assert.ok(r.data instanceof info.array, `${d} npy typed array`);
    assert.deepEqual(Array.from(r.data as ArrayLike<number | bigint>, Number), [0, 1, 1, 0]);
  }
});
