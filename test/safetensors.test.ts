// safetensors I/O: a file written by scripts/golden/nn_models.py (PyTorch tensors of every supported
// dtype + a tiny model's state dict, laid out as the reference implementation does) loads with the
// right names, dtypes, shapes, values and metadata; csgnet's writer reproduces it byte for byte;
// Module save/load round trips; broken files give clear errors; saving is atomic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goldenPath, loadGolden, assertClose } from './helpers.js';
import { Tensor, tensor, randn, tidy, noGrad, fromTypedArray } from '../src/torch/index.js';
import { saveSafetensors, loadSafetensors, readSafetensorsHeader } from '../src/torch/io/safetensors.js';
import { Sequential, Conv2d, BatchNorm2d, ReLU, Flatten, Linear, saveStateDict, loadStateDictFile } from '../src/torch/nn/index.js';
import { createModel } from '../src/models/index.js';

const GOLD = goldenPath('tiny_state.safetensors');
const EXPECT = loadGolden('tiny_state.json');
const tmp = mkdtempSync(join(tmpdir(), 'csgnet-st-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function values(t: Tensor): number[] | boolean[] {
  if (t.dtype === 'bool') return Array.from(t.data() as Uint8Array, (v) => v !== 0);
  if (t.dtype === 'float16' || t.dtype === 'bfloat16') {
    const f = noGrad(() => t.to('float64'));
    const v = Array.from(f.data() as Float64Array);
    f.dispose();
    return v;
  }
  return Array.from(t.toFloat64Array());
}

const tinyModel = () => new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2), new ReLU(), new Flatten(), new Linear(8, 3));

test('loads a PyTorch-written file: names, dtypes, shapes, values (every dtype), metadata', () => {
  const { tensors, metadata } = loadSafetensors(GOLD);
  assert.deepEqual(metadata, EXPECT.metadata);
  assert.deepEqual(Object.keys(tensors).sort(), Object.keys(EXPECT.tensors).sort());
  for (const [k, e] of Object.entries<any>(EXPECT.tensors)) {
    const t = tensors[k];
    assert.equal(t.dtype, e.dtype, `${k} dtype`);
    assert.deepEqual(t.shape, e.shape, `${k} shape`);
    const v = values(t);
    if (e.dtype === 'bool') assert.deepEqual(v, e.data, k);
    else if (e.dtype === 'int64') assert.deepEqual(Array.from(t.data() as BigInt64Array), e.data.map((x: number) => BigInt(x)), k);
    else assertClose(v as number[], e.data, 0, 0, k);
  }
  for (const t of Object.values(tensors)) t.dispose();
});

test('csgnet writes the same bytes as the reference layout (dtype-then-name order, space-padded header)', () => {
  const { tensors, metadata } = loadSafetensors(GOLD);
  const out = join(tmp, 'resave.safetensors');
  saveSafetensors(out, tensors, metadata);
  assert.ok(readFileSync(out).equals(readFileSync(GOLD)), 'byte-identical');
  const { header } = readSafetensorsHeader(out);
  const n = Number(readFileSync(out).readBigUInt64LE(0));
  assert.equal(n % 8, 0, 'header length is a multiple of 8');
  assert.deepEqual(header['extra.i64'].dtype, 'I64');
  for (const t of Object.values(tensors)) t.dispose();
});

test('a PyTorch state dict loads into the csgnet module (strict=false reports the extras) and computes the same output', () => {
  const m = tinyModel();
  const r = loadStateDictFile(m, GOLD, { strict: false });
  assert.deepEqual(r.missingKeys, []);
  assert.deepEqual(r.unexpectedKeys.sort(), Object.keys(EXPECT.tensors).filter((k) => k.startsWith('extra.')).sort());
  assert.throws(() => m.load(GOLD), /Unexpected key\(s\) in state_dict: .*"extra\./);
  m.eval();
  tidy(() => noGrad(() => {
    const x = fromTypedArray(Float32Array.from(EXPECT.x), EXPECT.xShape);
    const y = m.call(x);
    assert.deepEqual(y.shape, EXPECT.yShape);
    assertClose(Array.from(y.toFloat64Array()), EXPECT.y, 1e-5, 1e-5, 'tiny model output');
  }));
  assert.equal(m.stateDict()['1.num_batches_tracked'].item(), 4);
  m.dispose();
});

test('Module save/load round trip (ResNet-20) keeps every value, including int64 num_batches_tracked', () => {
  const a = createModel('resnet20', { inChannels: 1, numClasses: 10 });
  tidy(() => { a.call(randn([2, 1, 8, 8])); }); // updates running stats and num_batches_tracked
  const path = join(tmp, 'r20.safetensors');
  a.save(path, { epoch: '3' });
  const b = createModel('resnet20', { inChannels: 1, numClasses: 10 });
  b.load(path);
  const sa = a.stateDict(), sb = b.stateDict();
  for (const k of Object.keys(sa)) {
    assert.equal(sb[k].dtype, sa[k].dtype, k);
    assert.ok(sa[k].equal(sb[k]), k);
  }
  assert.equal(sb['bn1.num_batches_tracked'].item(), 1);
  assert.deepEqual(loadSafetensors(path).metadata, { epoch: '3' });
  saveStateDict(b, join(tmp, 'r20b.safetensors'));
  assert.ok(readFileSync(join(tmp, 'r20b.safetensors')).subarray(8).toString('latin1').startsWith('{"bn1.num_batches_tracked"'),
    'I64 tensors first, no metadata entry when none given');
  a.dispose(); b.dispose();
});

test('round trip of every dtype, scalars and empty tensors', () => {
  tidy(() => {
    const ts: Record<string, Tensor> = {
      f32: randn([2, 3]), f64: randn([3], { dtype: 'float64' }), f16: randn([4]).to('float16'), bf16: randn([4]).to('bfloat16'),
      i64: tensor([1, -2, 3]), i32: tensor([1, 2], { dtype: 'int32' }), i16: tensor([-5], { dtype: 'int16' }),
      i8: tensor([-1, 1], { dtype: 'int8' }), u8: tensor([255], { dtype: 'uint8' }), b: tensor([true, false]),
      scalar: tensor(2.5), empty: randn([0, 4]), 'strided.t': randn([3, 5]).t(),
    };
    const p = join(tmp, 'all.safetensors');
    saveSafetensors(p, ts);
    const back = loadSafetensors(p).tensors;
    assert.deepEqual(Object.keys(back).sort(), Object.keys(ts).sort());
    for (const [k, t] of Object.entries(ts)) {
      assert.equal(back[k].dtype, t.dtype, k);
      assert.deepEqual(back[k].shape, t.shape, k);
      assert.deepEqual(values(back[k]), values(t), k);
    }
  });
});

test('clear errors: missing file, truncated file, bad JSON, offsets out of range, unknown dtype, bad sizes', () => {
  assert.throws(() => loadSafetensors(join(tmp, 'nope.safetensors')), /no such file: .*nope\.safetensors/);
  const good = readFileSync(GOLD);
  const write = (name: string, b: Buffer) => { const p = join(tmp, name); writeFileSync(p, b); return p; };
  assert.throws(() => loadSafetensors(write('short.st', good.subarray(0, 5))), /truncated.*8-byte header length/);
  assert.throws(() => loadSafetensors(write('cut-header.st', good.subarray(0, 40))), /truncated \(header says \d+ bytes of JSON/);
  assert.throws(() => loadSafetensors(write('cut-data.st', good.subarray(0, good.length - 10))), /out of range.*truncated file\?/);
  const mk = (header: string, data = Buffer.alloc(16)) => {
    const h = Buffer.from(header);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    return Buffer.concat([len, h, data]);
  };
  assert.throws(() => loadSafetensors(write('badjson.st', mk('{"a": {'))), /bad header JSON/);
  assert.throws(() => loadSafetensors(write('array.st', mk('[1,2]'))), /bad header JSON \(not an object\)/);
  assert.throws(() => loadSafetensors(write('range.st', mk('{"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}'))),
    /tensor 'a' data_offsets \[0,32\] are out of range \(the data section has 16 bytes/);
  assert.throws(() => loadSafetensors(write('dtype.st', mk('{"a":{"dtype":"Q7","shape":[4],"data_offsets":[0,16]}}'))),
    /tensor 'a' has unknown dtype "Q7"/);
  assert.throws(() => loadSafetensors(write('f8.st', mk('{"a":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}}'))),
    /not supported by csgnet dtype "F8_E4M3"/);
  assert.throws(() => loadSafetensors(write('size.st', mk('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}'))),
    /spans 16 bytes but F32 \[3\] needs 12/);
  const huge = Buffer.alloc(16);
  huge.writeBigUInt64LE(1n << 40n);
  assert.throws(() => loadSafetensors(write('huge.st', huge)), /header length \d+ is larger than/);
});

test('saving is atomic: no temp files left, a failed save leaves the old file intact', () => {
  const dir = mkdtempSync(join(tmp, 'atomic-'));
  const p = join(dir, 'x.safetensors');
  tidy(() => {
    saveSafetensors(p, { a: tensor([1, 2, 3]) });
    saveSafetensors(p, { a: tensor([4, 5]) });
    assert.deepEqual(readdirSync(dir), ['x.safetensors']);
    const before = readFileSync(p);
    assert.throws(() => saveSafetensors(p, { a: tensor([1]), __metadata__: tensor([2]) }), /reserved/);
    assert.throws(() => saveSafetensors(join(dir, 'missing-dir', 'y.safetensors'), { a: tensor([1]) }), /ENOENT/);
    assert.ok(readFileSync(p).equals(before));
    assert.deepEqual(readdirSync(dir), ['x.safetensors']);
  });
});

test('hostile headers: unsafe shapes, inherited dtype names, holes, trailing data, bad booleans, __proto__', () => {
  const write = (name: string, header: string, data = Buffer.alloc(0)) => {
    const h = Buffer.from(header);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    const p = join(tmp, name);
    writeFileSync(p, Buffer.concat([len, h, data]));
    return p;
  };
  const refuses = (p: string, re: RegExp) =>
    assert.throws(() => loadSafetensors(p), (e: Error) => e instanceof Error && e.message.includes(p) && re.test(e.message), re.source);
  // 1e300 is an integer to JavaScript but no tensor dimension; with a 0 the float product was 0.
  refuses(write('unsafe.st', '{"a":{"dtype":"F32","shape":[1e300,0],"data_offsets":[0,0]}}'), /tensor 'a' has a bad shape \[1e\+300,0\]/);
  refuses(write('proto-dtype.st', '{"a":{"dtype":"toString","shape":[1],"data_offsets":[0,4]}}', Buffer.alloc(4)), /tensor 'a' has unknown dtype "toString"/);
  refuses(write('hole.st', '{"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}', Buffer.alloc(4)), /tensor 'a' starts at byte 2 .*expected 0 \(a hole before it\)/);
  refuses(write('overlap.st', '{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}', Buffer.alloc(4)),
    /overlaps another tensor/);
  refuses(write('trailing.st', '{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}', Buffer.alloc(5)), /cover 2 bytes but the data section has 5/);
  refuses(write('bool.st', '{"a":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}}', Buffer.from([1, 0, 2])), /tensor 'a' is BOOL but its byte 2 is 2/);
  refuses(write('proto.st', '{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', Buffer.alloc(1)), /cannot be named '__proto__'/);
  refuses(write('dims.st', `{"a":{"dtype":"U8","shape":[${new Array(65).fill(1)}],"data_offsets":[0,1]}}`, Buffer.alloc(1)), /bad shape/);
  assert.throws(() => loadSafetensors(tmp), (e: Error) => e.message.includes(tmp) && /not a regular file/.test(e.message));
  // Still fine: zero-sized tensors between others, every byte covered.
  const ok = loadSafetensors(write('zero.st', '{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"z":{"dtype":"F32","shape":[0,3],"data_offsets":[2,2]},"b":{"dtype":"BOOL","shape":[1],"data_offsets":[2,3]}}', Buffer.from([7, 8, 1])));
  assert.deepEqual(Object.fromEntries(Object.entries(ok.tensors).map(([k, t]) => [k, t.shape])), { a: [2], z: [0, 3], b: [1] });
  for (const t of Object.values(ok.tensors)) t.dispose();
});
