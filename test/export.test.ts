// ONNX export against csgnet's own forward, run by ONNX Runtime (onnxruntime-node) in this process:
// every model family with random weights and randomized BatchNorm statistics (so that BN matters) on
// 100 images (the ImageNet ResNets at 32x32), logits / features / maps elementwise within 1e-4 and the same
// argmax, batch 1, 7 and 100 on one file; a trained CSG run through `csgnet export` with the
// normalization in the graph, against the model's forward on the run's test images; every layer emitter
// on a registered custom backbone; metadata; errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import * as torch from '../src/torch/index.js';
import type { Tensor } from '../src/torch/index.js';
import { AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, Dropout, Identity, LeakyReLU, Linear, MaxPool2d, Module, ReLU, Sequential } from '../src/torch/nn/index.js';
import { createModel, GapBackbone, LeNet, type CsgBackbone } from '../src/models/index.js';
import { exportOnnx, readOnnxMetadata, registerBackbone, UnsupportedModuleError, type OnnxOutput } from '../src/export/index.js';
import { openRun, runDataset } from '../src/csg/run.js';
import { BatchLoader } from '../src/data/index.js';
import { runCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-export-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const ALL: OnnxOutput[] = ['logits', 'features', 'maps'];
const TOL = 1e-4;

async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

/** Random BN affine parameters and running statistics (fresh ones are 0/1, which would hide a wrong BN export). */
function randomizeBatchNorm(model: Module): void {
  torch.noGrad(() => {
    for (const m of model.modules()) {
      if (!(m instanceof BatchNorm2d)) continue;
      const c = m.numFeatures;
      torch.tidy(() => {
        m.weight?.copy_(torch.rand([c]).mul(0.6).add(0.7));
        m.bias?.copy_(torch.randn([c]).mul(0.1));
        m.runningMean!.copy_(torch.randn([c]).mul(0.2));
        m.runningVar!.copy_(torch.rand([c]).mul(1.5).add(0.5));
      });
    }
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!)); return m; };

function argmaxRows(a: ArrayLike<number>, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < a.length / cols; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (a[r * cols + c]! > a[r * cols + best]!) best = c;
    out.push(best);
  }
  return out;
}

/** csgnet's eval-mode forward: { logits [N, C], features [N, K] (GAP), maps [N, K, h, w] } as flat arrays. */
function reference(model: CsgBackbone, x: Tensor): Record<OnnxOutput, { data: Float32Array; shape: number[] }> {
  return torch.tidy(() => torch.noGrad(() => {
    const maps = model.features(x);
    const pack = (t: Tensor) => ({ data: t.contiguous().data() as Float32Array, shape: t.shape });
    return { maps: pack(maps), features: pack(maps.mean([2, 3])), logits: pack(model.head(maps)) };
  }));
}

async function runOrt(s: ort.InferenceSession, x: Float32Array, shape: number[]): Promise<Record<string, ort.Tensor>> {
  return s.run({ input: new ort.Tensor('float32', x, shape) });
}

/** Compares every output of one ORT run with csgnet's forward on the same batch. */
function compare(what: string, got: Record<string, ort.Tensor>, ref: ReturnType<typeof reference>, outputs: OnnxOutput[]): Record<string, number> {
  const diffs: Record<string, number> = {};
  for (const o of outputs) {
    assert.deepEqual(got[o]!.dims.map(Number), ref[o].shape, `${what} ${o}: shape`);
    const d = maxAbsDiff(got[o]!.data as Float32Array, ref[o].data);
    diffs[o] = d;
    assert.ok(d <= TOL, `${what} ${o}: max |diff| ${d} > ${TOL} (max |value| ${maxAbs(ref[o].data)})`);
  }
  if (outputs.includes('logits')) {
    const c = ref.logits.shape[1]!;
    assert.deepEqual(argmaxRows(got.logits!.data as Float32Array, c), argmaxRows(ref.logits.data, c), `${what}: argmax`);
  }
  return diffs;
}

const FAMILIES: { name: string; input: [number, number, number]; images: number }[] = [
  { name: 'resnet20', input: [1, 28, 28], images: 100 },
  { name: 'resnet18', input: [3, 32, 32], images: 100 },
  { name: 'resnet50', input: [3, 32, 32], images: 100 },
  { name: 'vgg11_bn', input: [3, 32, 32], images: 100 },
  { name: 'lenet', input: [1, 28, 28], images: 100 },
];

for (const f of FAMILIES) {
  test(`${f.name}: ONNX Runtime matches csgnet's forward (logits, features, maps; batch 1, 7 and ${f.images})`, async () => {
    torch.manualSeed(13);
    const model = createModel(f.name, { inChannels: f.input[0], numClasses: 10 });
    randomizeBatchNorm(model);
    model.eval();
    const s = await session(exportOnnx(model, { inputShape: f.input, outputs: ALL, modelName: f.name }));
    assert.deepEqual(s.outputNames, ALL);
    const x = torch.keep(torch.randn([f.images, ...f.input]));
    try {
      const xs = x.data() as Float32Array;
      const ref = reference(model, x);
      const diffs = compare(`${f.name} batch ${f.images}`, await runOrt(s, xs, [f.images, ...f.input]), ref, ALL);
      // The logits are not tiny (the tolerance means something) and the predictions are not all alike.
      assert.ok(maxAbs(ref.logits.data) > 0.05, `${f.name}: logits too small to test (${maxAbs(ref.logits.data)})`);
      const per = f.input.reduce((a, b) => a * b, 1);
      for (const n of [1, 7]) {
        const sub = torch.tidy(() => torch.keep(x.narrow(0, 0, n).contiguous()));
        try {
          compare(`${f.name} batch ${n}`, await runOrt(s, xs.slice(0, n * per), [n, ...f.input]), reference(model, sub), ALL);
        } finally { sub.dispose(); }
      }
      console.log(`# ${f.name} ${f.images} images: max |diff| ${JSON.stringify(diffs)}, max |logit| ${maxAbs(ref.logits.data).toFixed(3)}`);
    } finally {
      x.dispose();
      model.dispose();
      await s.release();
    }
  });
}

/** A backbone made of the layers no csgnet model uses (grouped, dilated, strided convs; pools with padding and ceil mode; ...). */
class OddNet extends GapBackbone {
  readonly body: Sequential;
  readonly avgpool = new AdaptiveAvgPool2d(1);
  readonly fc: Linear;
  readonly numFilters = 8;
  readonly numClasses = 5;
  constructor() {
    super();
    this.body = this.registerModule('body', new Sequential(
      new Conv2d(2, 6, 3, { stride: 2, padding: 2, dilation: 2, groups: 2 }), new BatchNorm2d(6, { affine: false }), new LeakyReLU(0.2),
      new MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }), new Dropout(0.5), new Identity(),
      new Conv2d(6, 8, [3, 1], { padding: [1, 0] }), new ReLU(), new AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true }),
      new AdaptiveAvgPool2d([2, 2])));
    this.registerModule('avgpool', this.avgpool);
    this.fc = this.registerModule('fc', new Linear(8, 5));
  }
  features(x: Tensor): Tensor { return this.body.call(x); }
}

test('every layer emitter (grouped/dilated conv, BN without affine, LeakyReLU, pools with padding and ceil mode, ...) matches csgnet, via registerBackbone', async () => {
  registerBackbone(OddNet, (ctx, m, x) => ctx.emit(m.body, 'body', x));
  torch.manualSeed(5);
  const model = new OddNet();
  randomizeBatchNorm(model);
  model.eval();
  const input: [number, number, number] = [2, 35, 35]; // both ceil-mode pools end in a partial window
  const s = await session(exportOnnx(model, { inputShape: input, outputs: ALL }));
  const x = torch.keep(torch.randn([16, ...input]));
  try {
    const diffs = compare('OddNet', await runOrt(s, x.data() as Float32Array, [16, ...input]), reference(model, x), ALL);
    console.log(`# OddNet: max |diff| ${JSON.stringify(diffs)}`);
  } finally { x.dispose(); model.dispose(); await s.release(); }
});

test('a trained CSG run through `csgnet export --include-normalization`: pixels in [0,1] in, eval\'s predictions out; metadata', async () => {
  const run = join(tmp, 'run'), out = join(tmp, 'out', 'model.onnx');
  const train = runCli(['train', '--dataset', 'fashion-mnist', '--model', 'resnet20', '--strategy', 'csg', '--epochs', '1', '--limit', '256',
    '--val-limit', '32', '--period', '1', '--phase-min', '0', '--threads', '1', '--progress', 'none', '--out', run], { env: { ...process.env, OMP_NUM_THREADS: '1' } });
  assert.equal(train.status, 0, train.stderr);
  const exp = runCli(['export', '--run', run, '--format', 'onnx', '--outputs', 'logits,maps', '--include-normalization', '--out', out, '--json', '--threads', '1'],
    { env: { ...process.env, OMP_NUM_THREADS: '1' } });
  assert.equal(exp.status, 0, exp.stderr);
  const summary = JSON.parse(exp.stdout);
  assert.equal(summary.input, 'unit');
  assert.deepEqual(summary.outputs, ['logits', 'maps']);

  const bytes = readFileSync(out);
  const info = readOnnxMetadata(bytes);
  const opened = openRun(run, 'last');
  const ds = await runDataset(opened, 'test');
  try {
    assert.deepEqual(info.classNames, opened.dataset.classes);
    assert.deepEqual([info.mean, info.std], [ds.mean, ds.std]);
    assert.deepEqual(info.inputShape, [1, 28, 28]);
    assert.equal(info.includeNormalization, true);
    assert.equal(info.model, 'resnet20');
    assert.equal(info.props['csgnet.strategy'], 'csg');
    assert.deepEqual(info.gate, opened.gate!.toArray(), 'gate in the metadata: G itself');
    assert.equal(info.gate!.length, 64);

    // 100 test images: raw pixels / 255 into the graph, the loader's normalized batch into csgnet.
    const n = 100;
    const s = await session(bytes);
    const loader = new BatchLoader(ds, { batchSize: n, shuffle: false, limit: n });
    const [b] = [...loader.epoch(0)];
    const unit = Float32Array.from(ds.images.subarray(0, n * 28 * 28), (v) => v / 255);
    const x = torch.keep(torch.fromTypedArray(b!.x, b!.shape));
    try {
      const ref = reference(opened.model, x);
      const diffs = compare('trained resnet20 (normalization in the graph)', await runOrt(s, unit, [n, 1, 28, 28]), ref, ['logits', 'maps']);
      console.log(`# trained CSG resnet20, ${n} Fashion-MNIST test images, --include-normalization: max |diff| ${JSON.stringify(diffs)}`);
    } finally { x.dispose(); await s.release(); }
  } finally { opened.model.dispose(); }

  // The same run without --include-normalization takes the normalized tensor (checked on the file the app writes).
  const { exportRunOnnx } = await import('../src/app/export.js');
  const plain = await exportRunOnnx({ run, outputs: ['features'] });
  try {
    assert.equal(plain.info.input, 'normalized');
    const s = await session(plain.bytes);
    const loader = new BatchLoader(await runDataset(plain.run, 'test'), { batchSize: 32, shuffle: false, limit: 32 });
    const [b] = [...loader.epoch(0)];
    const x = torch.keep(torch.fromTypedArray(b!.x, b!.shape));
    try {
      compare('trained resnet20 (normalized input)', await runOrt(s, b!.x, b!.shape), reference(plain.run.model, x), ['features']);
    } finally { x.dispose(); await s.release(); }
  } finally { plain.run.model.dispose(); }

  // Bad flags and a missing run are refused by name.
  const bad = runCli(['export', '--run', run, '--outputs', 'logits,probs', '--out', join(tmp, 'x.onnx')]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--outputs <list>' argument 'logits,probs' is invalid\. unknown output\(s\) probs; choose from logits, features, maps/);
  const fmt = runCli(['export', '--run', run, '--format', 'tflite', '--out', join(tmp, 'x.onnx')]);
  assert.notEqual(fmt.status, 0);
  assert.match(fmt.stderr, /tflite/);
  const missing = runCli(['export', '--run', join(tmp, 'nope'), '--out', join(tmp, 'x.onnx')]);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /nope is not a csgnet run folder/);
  assert.ok(!existsSync(join(tmp, 'x.onnx')), 'nothing written on error');
});

test('the python3-onnx checker accepts an export', (t) => {
  const dpkg = spawnSync('dpkg-query', ['-W', '-f=${Status}', 'python3-onnx'], { encoding: 'utf8' });
  if (dpkg.status !== 0 || !dpkg.stdout.includes('install ok installed')) {
    t.skip('python3-onnx is not installed (apt-get install python3-onnx to run the ONNX checker)');
    return;
  }
  torch.manualSeed(1);
  const model = createModel('resnet20', { inChannels: 1, numClasses: 10 });
  model.eval();
  const file = join(tmp, 'checked.onnx');
  writeFileSync(file, exportOnnx(model, { inputShape: [1, 28, 28], outputs: ALL, includeNormalization: true, normalization: { mean: [0.286], std: [0.353] } }));
  model.dispose();
  const r = spawnSync('/usr/bin/python3', ['-c', 'import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print(m.opset_import[0].version)', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '17');
});

class Swish extends Module {
  forward(x: Tensor): Tensor { return x.mul(x.clamp(0, 1)); }
}

test('an unsupported module, model class or stray tensor is an error naming it', () => {
  const shape: [number, number, number] = [1, 28, 28];
  const a = new LeNet();
  a.registerModule('relu1', new Swish());
  assert.throws(() => exportOnnx(a, { inputShape: shape }), (e: Error) => e instanceof UnsupportedModuleError && /cannot export relu1 \(Swish\) to ONNX: no emitter for Swish; supported modules: .*Conv2d/.test(e.message));
  a.dispose();

  class MyLeNet extends LeNet {}
  const b = new MyLeNet();
  assert.throws(() => exportOnnx(b, { inputShape: shape }), /cannot export MyLeNet to ONNX: no features graph registered for this model class; supported models: CifarResNet, LeNet, (OddNet, )?ResNet, VGG/);
  b.dispose();

  const c = new LeNet();
  c.registerBuffer('temperature', torch.ones([1]));
  assert.throws(() => exportOnnx(c, { inputShape: shape }), /LeNet: these tensors never reached the ONNX graph \(an emitter skips a module\): temperature/);
  c.dispose();

  // A subclass of a supported layer may change its forward: it is not exported as its parent.
  class ClippedReLU extends ReLU { override forward(x: Tensor): Tensor { return x.clamp(0, 6); } }
  const d = new LeNet();
  d.registerModule('relu2', new ClippedReLU());
  assert.throws(() => exportOnnx(d, { inputShape: shape }), /cannot export relu2 \(ClippedReLU\)/);
  d.dispose();

  const bn = new BatchNorm2d(16, { trackRunningStats: false });
  const e = createModel('resnet20', { inChannels: 1 });
  e.registerModule('bn1', bn);
  assert.throws(() => exportOnnx(e, { inputShape: shape }), /cannot export bn1 \(BatchNorm2d with track_running_stats=False\)/);
  e.dispose();
});

test('bad options are refused with the problem named', () => {
  const m = new LeNet();
  const ok = { inputShape: [1, 28, 28] as [number, number, number] };
  assert.throws(() => exportOnnx(m, { inputShape: [28, 28] as any }), /inputShape must be \[C, H, W\] of positive integers, got \[28,28\]/);
  assert.throws(() => exportOnnx(m, { ...ok, inputShape: [3, 28, 28] }), /conv1 \(Conv2d\): expected 1 input channels, got \[N, 3, 28, 28\]/);
  assert.throws(() => exportOnnx(m, { ...ok, inputShape: [1, 2, 2] }), /pool2: input size 1 is too small for kernel 2/);
  assert.throws(() => exportOnnx(m, { ...ok, outputs: ['probs' as OnnxOutput] }), /unknown output 'probs'; known outputs: logits, features, maps/);
  assert.throws(() => exportOnnx(m, { ...ok, outputs: ['maps', 'maps'] }), /name one twice/);
  assert.throws(() => exportOnnx(m, { ...ok, includeNormalization: true }), /includeNormalization needs normalization/);
  assert.throws(() => exportOnnx(m, { ...ok, normalization: { mean: [0.1, 0.2], std: [1, 1] } }), /needs 1 mean and std entries/);
  assert.throws(() => exportOnnx(m, { ...ok, classNames: ['a', 'b'] }), /2 class names for a model with 10 classes/);
  assert.throws(() => exportOnnx(m, { ...ok, gate: [[1, 2]] }), /the gate must be \[64 filters, 10 classes\], got \[1, 2\]/);
  assert.throws(() => exportOnnx(m, { ...ok, metadata: { 'csgnet.mean': 'x' } }), /metadata key 'csgnet.mean' is written by csgnet itself/);
  assert.throws(() => readOnnxMetadata(new Uint8Array([8, 8])), /not a csgnet export/);
  m.dispose();
});

test('only the requested outputs are in the graph, and exporting leaves no live tensors behind', async () => {
  torch.manualSeed(2);
  const m = createModel('lenet', { inChannels: 1 });
  m.eval();
  const opts = { inputShape: [1, 28, 28] as [number, number, number], outputs: ['maps'] as OnnxOutput[] };
  const bytes = exportOnnx(m, opts);
  const s = await session(bytes);
  assert.deepEqual(s.outputNames, ['maps']);
  await s.release();
  // The head (avgpool + fc) is pruned: the file holds conv weights only, fewer bytes than with logits.
  assert.ok(bytes.length < exportOnnx(m, { ...opts, outputs: ['logits'] }).length);
  const gate = torch.keep(torch.rand([64, 10]));
  const live = torch.liveTensors();
  for (let i = 0; i < 5; i++) exportOnnx(m, { ...opts, outputs: ALL, gate });
  assert.equal(torch.liveTensors(), live);
  gate.dispose();
  m.dispose();
});
