// Harness for the PyTorch golden cases in test/golden/ops.json (written by scripts/golden/ops.py).
// Each test file registers one function per case (mirroring the Python lambda); runFamily checks the
// outputs (dtype, shape, values) and the gradients of sum_i sum(out_i * weight_i) w.r.t. the inputs.
//
// Tolerances (|actual - expected| <= atol + rtol * |expected|):
//   float32 outputs and gradients: atol 1e-5, rtol 1e-4 unless the case stores its own (`tol`, `gradTol`:
//     conv2d / batch norm / losses use atol 2e-5..3e-5 because they sum many float32 products);
//   float64: atol 1e-12, rtol 1e-10; integer and bool outputs: exact. NaN matches NaN, ±inf matches itself.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { loadGolden } from './helpers.js';
import { Tensor, fromTypedArray, grad, tidy, liveTensors, type Dtype, type TypedArray } from '../src/torch/index.js';

export interface Spec { shape: number[]; dtype: Dtype; data: (number | string)[] }
interface InputSpec extends Spec { grad: boolean }
interface OutputSpec extends Spec { weight: Spec | null }
interface Tol { atol: number; rtol: number }
export interface GoldenCase {
  inputs: Record<string, InputSpec>;
  outputs: OutputSpec[];
  grads?: Record<string, Spec | null>;
  tol?: Tol;
  gradTol?: Tol;
}
export type CaseFn = (x: Record<string, Tensor>) => Tensor | Tensor[];

export const F32_TOL: Tol = { atol: 1e-5, rtol: 1e-4 };
export const F64_TOL: Tol = { atol: 1e-12, rtol: 1e-10 };

let golden: { families: Record<string, Record<string, GoldenCase>> } | undefined;
export function goldenFamily(family: string): Record<string, GoldenCase> {
  golden ??= loadGolden('ops.json');
  const f = golden!.families[family];
  if (!f) throw new Error(`golden family '${family}' missing from test/golden/ops.json (rerun scripts/golden/ops.py)`);
  return f;
}

function decode(v: number | string): number {
  if (typeof v === 'number') return v;
  if (v === 'nan') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  throw new Error(`bad golden value ${v}`);
}

/** A tensor from a golden spec (exact: float32 values are stored with 9 significant digits). */
export function fromSpec(s: Spec): Tensor {
  const n = s.data.length;
  let arr: TypedArray;
  switch (s.dtype) {
    case 'float32': arr = Float32Array.from(s.data, decode); break;
    case 'float64': arr = Float64Array.from(s.data, decode); break;
    case 'int64': arr = BigInt64Array.from(s.data as number[], (x) => BigInt(x)); break;
    case 'int32': arr = Int32Array.from(s.data as number[]); break;
    case 'int16': arr = Int16Array.from(s.data as number[]); break;
    case 'int8': arr = Int8Array.from(s.data as number[]); break;
    case 'uint8': case 'bool': arr = Uint8Array.from(s.data as number[]); break;
    default: throw new Error(`unsupported golden dtype ${s.dtype}`);
  }
  assert.equal(arr.length, n);
  return fromTypedArray(arr, s.shape, { dtype: s.dtype });
}

/** Compares a tensor with a golden spec: dtype, shape, then values within tol (exact for ints/bools). */
export function assertMatches(actual: Tensor, expected: Spec, tol: Tol, what: string): void {
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.toFloat64Array();
  const e = expected.data.map(decode);
  const float = expected.dtype === 'float32' || expected.dtype === 'float64';
  const t = !float ? { atol: 0, rtol: 0 } : expected.dtype === 'float64' ? { atol: Math.max(tol.atol * 1e-7, F64_TOL.atol), rtol: F64_TOL.rtol } : tol;
  assert.equal(a.length, e.length, `${what}: numel`);
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = e[i];
    if (Number.isNaN(y)) { assert.ok(Number.isNaN(x), `${what}[${i}]: ${x}, expected NaN`); continue; }
    if (!Number.isFinite(y)) { assert.equal(x, y, `${what}[${i}]`); continue; }
    if (!(Math.abs(x - y) <= t.atol + t.rtol * Math.abs(y))) {
      assert.fail(`${what}[${i}] = ${x}, expected ${y} (atol ${t.atol}, rtol ${t.rtol})`);
    }
  }
}

/** Runs one golden case through fn: forward comparison, then gradients where the case has them. */
export function runCase(name: string, c: GoldenCase, fn: CaseFn): void {
  const before = liveTensors();
  tidy(() => {
    const inputs: Record<string, Tensor> = {};
    const gradNames: string[] = [];
    for (const [k, spec] of Object.entries(c.inputs)) {
      inputs[k] = fromSpec(spec);
      if (spec.grad) { inputs[k].requiresGrad_(true); gradNames.push(k); }
    }
    const out = fn(inputs);
    const outs = Array.isArray(out) ? out : [out];
    assert.equal(outs.length, c.outputs.length, `${name}: number of outputs`);
    const tol = c.tol ?? F32_TOL;
    outs.forEach((o, i) => assertMatches(o, c.outputs[i], tol, `${name} output ${i}`));
    if (!c.grads) return;
    let loss: Tensor | null = null;
    for (let i = 0; i < outs.length; i++) {
      const w = c.outputs[i].weight;
      if (!w) continue;
      assert.ok(outs[i].requiresGrad, `${name} output ${i} should require grad`);
      const term = outs[i].mul(fromSpec(w)).sum();
      loss = loss ? loss.add(term) : term;
    }
    if (!loss) assert.fail(`${name}: no differentiable output`);
    const gs = grad(loss, gradNames.map((k) => inputs[k]), { allowUnused: true });
    gradNames.forEach((k, i) => {
      const e = c.grads![k];
      if (e === null) assert.equal(gs[i], null, `${name}: grad of ${k} should be unused (null)`);
      else { assert.ok(gs[i], `${name}: grad of ${k} is null`); assertMatches(gs[i]!, e, c.gradTol ?? tol, `${name} grad ${k}`); }
    });
  });
  assert.equal(liveTensors(), before, `${name}: native tensors leaked`);
}

/** Registers one test per golden case of the family; every case must have a function and vice versa. */
export function runFamily(family: string, fns: Record<string, CaseFn>): void {
  const cases = goldenFamily(family);
  describe(`golden ${family}`, () => {
    test('every golden case has a TypeScript mirror and vice versa', () => {
      assert.deepEqual(Object.keys(fns).filter((k) => !(k in cases)), [], 'cases without golden values');
      assert.deepEqual(Object.keys(cases).filter((k) => !(k in fns)), [], 'golden cases without a TS function');
    });
    for (const [name, c] of Object.entries(cases)) {
      if (!fns[name]) continue;
      test(name, () => runCase(`${family}/${name}`, c, fns[name]));
    }
  });
}
