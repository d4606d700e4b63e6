// The explainers and GradMap's blur create their tensors on the input's device and in its dtype (issue 10:
// GradMap on CUDA). There is no GPU here, so: the blur kernel is built in the input's dtype through the
// same options that carry its device (a float64 blur matches a float64 reference to 1e-12, which a float32
// kernel cast to float64 cannot), a float64 model and input give float64 maps from every explainer, and a
// code-level check that every tensor factory call in src/explain and in the blur names a device (or says
// why it stays on the host). The localization metrics are torch-free: nothing of theirs to place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { goldenPath } from './helpers.js';
import * as torch from '../src/torch/index.js';
import type { Tensor } from '../src/torch/index.js';
import { loadSafetensors } from '../src/torch/io/safetensors.js';
import { createModel } from '../src/models/index.js';
import { packageRoot } from '../src/util/paths.js';
import { ActivMap, Cam, CsgCam, FilterClassStats, GradCam, GradCamPlusPlus, GradMap, type Explainer } from '../src/explain/index.js';

/** torch's reflect padding index (the edge pixel is not repeated). */
const reflect = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);

/** Separable Gaussian blur of one H x W plane in float64 (torchvision's kernel, reflect padding). */
function blurReference(x: Float64Array, H: number, W: number, k: number, sigma: number): Float64Array {
  const half = (k - 1) / 2, w = Float64Array.from({ length: k }, (_, i) => Math.exp(-0.5 * ((i - half) / sigma) ** 2));
  const s = w.reduce((a, b) => a + b, 0);
  for (let i = 0; i < k; i++) w[i]! /= s;
  const v = new Float64Array(H * W), out = new Float64Array(H * W);
  for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) { let a = 0; for (let i = 0; i < k; i++) a += w[i]! * x[reflect(y + i - half, H) * W + xx]!; v[y * W + xx] = a; }
  for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) { let a = 0; for (let i = 0; i < k; i++) a += w[i]! * v[y * W + reflect(xx + i - half, W)]!; out[y * W + xx] = a; }
  return out;
}

test('gaussianBlur builds its kernel in the input\'s dtype: float64 in, float64 out, at a float64 reference', () => {
  const H = 12, W = 9, k = 7, sigma = 1.7;
  const data = Float64Array.from({ length: H * W }, (_, i) => Math.sin(i * 0.37) * 3 + (i % 5));
  const x = torch.fromTypedArray(data, [1, 1, H, W]);
  const y = torch.F.gaussianBlur(x, k, sigma);
  assert.equal(y.dtype, 'float64');
  assert.equal(y.device, x.device);
  const ref = blurReference(data, H, W, k, sigma), got = y.toFloat64Array();
  let err = 0;
  for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(got[i]! - ref[i]!));
  assert.ok(err < 1e-12, `float64 blur differs from the reference by ${err} (a float32 kernel gives ~1e-7)`);
  const k64 = torch.F.gaussianKernel1d(k, sigma, { dtype: 'float64' }), k32 = torch.F.gaussianKernel1d(k, sigma);
  assert.deepEqual([k64.dtype, k32.dtype, k64.device], ['float64', 'float32', 'cpu']);
  for (const t of [x, y, k64, k32]) t.dispose();
});

test('a float64 model and input: every explainer returns float64 maps, with targets and filters on the input\'s device', () => {
  const { tensors: T, metadata } = loadSafetensors(goldenPath('explain.safetensors'));
  const weights = readFileSync(goldenPath(metadata.weights_file!));
  assert.equal(createHash('sha256').update(weights).digest('hex'), metadata.weights_sha256);
  const w: Record<string, Tensor> = {};
  for (const [key, v] of Object.entries(loadSafetensors(goldenPath(metadata.weights_file!)).tensors)) if (key.startsWith('w.')) w[key.slice(2)] = v;
  const model = createModel('resnet20', { inChannels: 1, numClasses: 10 });
  model.loadStateDict(w);
  model.to('float64');
  model.eval();
  const x = T.x!.to('float64'), labels = T.labels!;
  const stats = FilterClassStats.of(model, [{ x, labels }]);
  const cases: [Explainer, string | null][] = [[new Cam(model), 'cam'], [new GradCam(model), 'gradcam'], [new GradCamPlusPlus(model), 'gradcampp'],
    [new CsgCam(model, T.G!), 'csgcam'], [new GradMap(model, stats.topFilters(30)), 'gradmap'], [new ActivMap(model), null]];
  for (const [e, key] of cases) {
    const r = e.explain(x, labels);
    assert.equal(r.maps.dtype, 'float64', `${e.name}: maps dtype`);
    for (const t of [r.maps, r.targets, r.filters].filter((t): t is Tensor => !!t)) assert.equal(t.device, x.device, `${e.name}: device`);
    if (key) {
      // The float32 goldens, within the float32-vs-float64 gap PyTorch itself shows (<= 1e-6 of the map's maximum).
      const a = r.maps.toFloat64Array(), b = T[key]!.toFloat64Array();
      const scale = Math.max(...Array.from(b, Math.abs));
      let err = 0;
      for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i]! - b[i]!));
      assert.ok(err <= 1e-5 * scale, `${key}: float64 maps differ from the golden by ${err} (max ${scale})`);
    }
    r.maps.dispose(); r.targets.dispose(); r.filters?.dispose();
  }
});

test('code-level: every tensor factory call in src/explain and in the blur names a device or says why it stays on the host', () => {
  const src = join(packageRoot(), 'src');
  const factory = /\btorch\.(tensor|fromTypedArray|zeros|ones|full|empty|arange|linspace|eye|rand|randn|randint|randperm)\(/;
  const bad: string[] = [];
  const check = (file: string, lines: string[], re: RegExp) => lines.forEach((l, i) => {
    if (re.test(l) && !/device/.test(l) && !/\/\/ host: /.test(l)) bad.push(`${file}:${i + 1}: ${l.trim()}`);
  });
  let calls = 0;
  for (const f of readdirSync(join(src, 'explain')).filter((f) => f.endsWith('.ts'))) {
    const lines = readFileSync(join(src, 'explain', f), 'utf8').split('\n');
    calls += lines.filter((l) => factory.test(l)).length;
    check(`src/explain/${f}`, lines, factory);
  }
  assert.ok(calls >= 5, `the check sees the factory calls (${calls})`);
  const fn = readFileSync(join(src, 'torch', 'functional.ts'), 'utf8');
  const blur = fn.slice(fn.indexOf('export function gaussianKernel1d'), fn.indexOf('export function topFractionThreshold'));
  assert.match(blur, /gaussianKernel1d\(kernelSize, sigma, \{ dtype: x\.dtype, device: x\.device \}\)/, 'the blur asks for its kernel on x\'s device');
  check('src/torch/functional.ts (blur)', blur.split('\n'), /\b(tensor|fromTypedArray|zeros|ones|full|arange)\(/);
  assert.deepEqual(bad, []);
  for (const f of readdirSync(join(src, 'metrics', 'localization'))) {
    assert.doesNotMatch(readFileSync(join(src, 'metrics', 'localization', f), 'utf8'), /from '\.\.\/\.\.\/torch/, `${f} is torch-free`);
  }
});
