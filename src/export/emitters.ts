// One ONNX emitter per module kind, keyed by the exact constructor (a subclass that overrides forward
// is not exported as its parent): each writes the nodes of its module's evaluation-mode forward and
// returns the output value with its shape. A module kind without an emitter is an error naming the
// module's path and class, and exportOnnx checks afterwards that every parameter and buffer of the
// model reached the graph, so a composite emitter that skips a child cannot pass silently either.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import {
  AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Identity, LeakyReLU, Linear, MaxPool2d, Module, ReLU, Sequential,
  type Pair,
} from '../torch/nn/index.js';
import { BasicBlock, Bottleneck, ResNet } from '../models/resnet.js';
import { CifarResNet } from '../models/resnet_cifar.js';
import { VGG } from '../models/vgg.js';
import { LeNet } from '../models/lenet.js';
import type { CsgBackbone } from '../models/types.js';
import type { OnnxGraph, Value } from './graph.js';

export class UnsupportedModuleError extends Error {}

/** What an emitter gets: the graph, its module's dotted path, and a way to emit its children. */
export class EmitContext {
  /** Every parameter and buffer written as an initializer (exportOnnx checks none is left out). */
  readonly exported = new Set<Tensor>();
  constructor(readonly graph: OnnxGraph) {}

  /** Emits module m (found at `path`) on input x with the emitter registered for its class. */
  emit(m: Module, path: string, x: Value): Value {
    const emitter = EMITTERS.get(m.constructor);
    if (!emitter) {
      throw new UnsupportedModuleError(`cannot export ${path || 'the model'} (${m.constructor.name}) to ONNX: no emitter for ${m.constructor.name}; ` +
        `supported modules: ${supportedModules().join(', ')}`);
    }
    return emitter(this, m, path, x);
  }

  /** Emits a named child of the module at `path`. */
  child(parent: Module, path: string, name: string, x: Value): Value {
    const c = parent.getModule(name);
    if (!c) throw new Error(`${path || 'model'}: no child module '${name}'`);
    return this.emit(c, join(path, name), x);
  }

  /** A module tensor (parameter or buffer) as a float32 initializer, in contiguous (NCHW) order. */
  weight(t: Tensor, hint: string, dims = t.shape): string {
    this.exported.add(t);
    const data = torch.tidy(() => torch.noGrad(() => t.detach().contiguous().to('float32').data() as Float32Array));
    return this.graph.initializer(hint, data, dims);
  }

  constant(hint: string, values: number[], dims = [values.length]): string {
    return this.graph.initializer(hint, Float32Array.from(values), dims);
  }

  /** One node with one output of the given shape. */
  op(opType: string, inputs: string[], path: string, shape: number[], attributes: Record<string, number | number[] | string> = {}): Value {
    const [name] = this.graph.node(opType, inputs, [`${path || opType}.out`], attributes, path || opType);
    return { name, shape };
  }
}

export type Emitter<M extends Module = Module> = (ctx: EmitContext, m: M, path: string, x: Value) => Value;
// eslint-disable-next-line @typescript-eslint/ban-types
const EMITTERS = new Map<Function, Emitter<any>>();

/** Registers how modules of exactly this class are written to ONNX (replaces an earlier one). */
export function registerEmitter<M extends Module>(cls: abstract new (...args: any[]) => M, emitter: Emitter<M>): void {
  EMITTERS.set(cls, emitter);
}

/** The class names of the modules exportOnnx can write. */
export function supportedModules(): string[] { return [...EMITTERS.keys()].map((c) => c.name).sort(); }

const join = (prefix: string, name: string) => (prefix ? `${prefix}.${name}` : name);
const pair = (p: Pair): [number, number] => (typeof p === 'number' ? [p, p] : [p[0], p[1]]);
const fmtShape = (s: number[]) => `[${s.map((d) => (d < 0 ? 'N' : d)).join(', ')}]`;

function expect4d(m: Module, path: string, x: Value, channels?: number): [number, number, number, number] {
  if (x.shape.length !== 4) throw new Error(`${path} (${m.constructor.name}): expected a 4D input [N, C, H, W], got ${fmtShape(x.shape)}`);
  if (channels !== undefined && x.shape[1] !== channels) throw new Error(`${path} (${m.constructor.name}): expected ${channels} input channels, got ${fmtShape(x.shape)}`);
  return x.shape as [number, number, number, number];
}

/** Output length of a convolution or pooling window along one axis (PyTorch's formula, with its ceil_mode rule). */
function windowOut(size: number, k: number, s: number, p: number, d: number, ceil: boolean, path: string): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= size + p) out--;
  if (out < 1) throw new Error(`${path}: input size ${size} is too small for kernel ${k} (stride ${s}, padding ${p}, dilation ${d})`);
  return out;
}

// ---- torch.nn layers ------------------------------------------------------------------------------

registerEmitter(Conv2d, (ctx, m, path, x) => {
  const [n, , h, w] = expect4d(m, path, x, m.inChannels);
  const inputs = [x.name, ctx.weight(m.weight, `${path}.weight`)];
  if (m.bias) inputs.push(ctx.weight(m.bias, `${path}.bias`));
  const [kh, kw] = m.kernelSize, [sh, sw] = m.stride, [ph, pw] = m.padding, [dh, dw] = m.dilation;
  const shape = [n, m.outChannels, windowOut(h, kh, sh, ph, dh, false, path), windowOut(w, kw, sw, pw, dw, false, path)];
  return ctx.op('Conv', inputs, path, shape, { kernel_shape: [kh, kw], strides: [sh, sw], pads: [ph, pw, ph, pw], dilations: [dh, dw], group: m.groups });
});

// Eval-mode BatchNorm: a BatchNormalization node with the running statistics (ONNX Runtime folds it
// into the preceding Conv when it optimizes the session).
registerEmitter(BatchNorm2d, (ctx, m, path, x) => {
  expect4d(m, path, x, m.numFeatures);
  if (!m.runningMean || !m.runningVar) throw new UnsupportedModuleError(`cannot export ${path} (BatchNorm2d with track_running_stats=False): its eval mode uses batch statistics`);
  const c = m.numFeatures;
  const scale = m.weight ? ctx.weight(m.weight, `${path}.weight`) : ctx.constant(`${path}.weight`, new Array(c).fill(1));
  const bias = m.bias ? ctx.weight(m.bias, `${path}.bias`) : ctx.constant(`${path}.bias`, new Array(c).fill(0));
  const inputs = [x.name, scale, bias, ctx.weight(m.runningMean, `${path}.running_mean`), ctx.weight(m.runningVar, `${path}.running_var`)];
  if (m.numBatchesTracked) ctx.exported.add(m.numBatchesTracked); // a training counter: nothing to export
  return ctx.op('BatchNormalization', inputs, path, x.shape, { epsilon: m.eps });
});

registerEmitter(ReLU, (ctx, _m, path, x) => ctx.op('Relu', [x.name], path, x.shape));
registerEmitter(LeakyReLU, (ctx, m, path, x) => ctx.op('LeakyRelu', [x.name], path, x.shape, { alpha: m.negativeSlope }));

registerEmitter(MaxPool2d, (ctx, m, path, x) => {
  const [n, c, h, w] = expect4d(m, path, x);
  const [kh, kw] = pair(m.kernelSize), [sh, sw] = pair(m.stride), [ph, pw] = pair(m.o.padding ?? 0), [dh, dw] = pair(m.o.dilation ?? 1);
  const ceil = !!m.o.ceilMode;
  const shape = [n, c, windowOut(h, kh, sh, ph, dh, ceil, path), windowOut(w, kw, sw, pw, dw, ceil, path)];
  return ctx.op('MaxPool', [x.name], path, shape, { kernel_shape: [kh, kw], strides: [sh, sw], pads: [ph, pw, ph, pw], dilations: [dh, dw], ceil_mode: ceil ? 1 : 0 });
});

registerEmitter(AvgPool2d, (ctx, m, path, x) => {
  const [n, c, h, w] = expect4d(m, path, x);
  if (m.o.divisorOverride !== undefined) throw new UnsupportedModuleError(`cannot export ${path} (AvgPool2d with divisor_override): ONNX AveragePool has no such attribute`);
  const [kh, kw] = pair(m.kernelSize), [sh, sw] = pair(m.stride), [ph, pw] = pair(m.o.padding ?? 0);
  const ceil = !!m.o.ceilMode;
  const shape = [n, c, windowOut(h, kh, sh, ph, 1, ceil, path), windowOut(w, kw, sw, pw, 1, ceil, path)];
  return ctx.op('AveragePool', [x.name], path, shape, {
    kernel_shape: [kh, kw], strides: [sh, sw], pads: [ph, pw, ph, pw], ceil_mode: ceil ? 1 : 0, count_include_pad: (m.o.countIncludePad ?? true) ? 1 : 0,
  });
});

registerEmitter(AdaptiveAvgPool2d, (ctx, m, path, x) => {
  const [n, c, h, w] = expect4d(m, path, x);
  const [oh, ow] = pair(m.outputSize);
  if (oh === 1 && ow === 1) return ctx.op('GlobalAveragePool', [x.name], path, [n, c, 1, 1]);
  // Equal windows only when the output divides the input; PyTorch's uneven windows have no ONNX op.
  if (h % oh || w % ow) throw new UnsupportedModuleError(`cannot export ${path} (AdaptiveAvgPool2d to ${oh}x${ow} of a ${h}x${w} map): only outputs that divide the input`);
  return ctx.op('AveragePool', [x.name], path, [n, c, oh, ow], { kernel_shape: [h / oh, w / ow], strides: [h / oh, w / ow] });
});

registerEmitter(Linear, (ctx, m, path, x) => {
  if (x.shape.length !== 2 || x.shape[1] !== m.inFeatures) throw new Error(`${path} (Linear): expected input [N, ${m.inFeatures}], got ${fmtShape(x.shape)}`);
  const inputs = [x.name, ctx.weight(m.weight, `${path}.weight`)];
  if (m.bias) inputs.push(ctx.weight(m.bias, `${path}.bias`));
  return ctx.op('Gemm', inputs, path, [x.shape[0], m.outFeatures], { transB: 1 });
});

registerEmitter(Flatten, (ctx, m, path, x) => {
  if (m.startDim !== 1 || (m.endDim !== -1 && m.endDim !== x.shape.length - 1)) {
    throw new UnsupportedModuleError(`cannot export ${path} (Flatten(${m.startDim}, ${m.endDim})): only Flatten(1, -1)`);
  }
  return ctx.op('Flatten', [x.name], path, [x.shape[0], x.shape.slice(1).reduce((a, b) => a * b, 1)], { axis: 1 });
});

registerEmitter(Identity, (_ctx, _m, _path, x) => x);
registerEmitter(Dropout, (_ctx, _m, _path, x) => x); // the identity in eval mode
registerEmitter(Sequential, (ctx, m, path, x) => {
  let cur = x;
  for (const [name, c] of m.namedChildren()) cur = ctx.emit(c, join(path, name), cur);
  return cur;
});

// ---- residual blocks: relu(main(x) + shortcut(x)) as residualTail in src/models/resnet.ts -------

function residual(ctx: EmitContext, m: BasicBlock | Bottleneck, path: string, x: Value, main: string[]): Value {
  let out = x;
  for (const name of main) out = ctx.child(m, path, name, out);
  const shortcut = m.downsample ? ctx.emit(m.downsample, join(path, 'downsample'), x) : x;
  if (shortcut.shape.join() !== out.shape.join()) throw new Error(`${path}: residual shapes differ: ${fmtShape(out.shape)} + ${fmtShape(shortcut.shape)}`);
  const sum = ctx.op('Add', [out.name, shortcut.name], `${path}.add`, out.shape);
  return ctx.child(m, path, 'relu', sum);
}
registerEmitter(BasicBlock, (ctx, m, path, x) => residual(ctx, m, path, x, ['conv1', 'bn1', 'relu', 'conv2', 'bn2']));
registerEmitter(Bottleneck, (ctx, m, path, x) => residual(ctx, m, path, x, ['conv1', 'bn1', 'relu', 'conv2', 'bn2', 'relu', 'conv3', 'bn3']));

// ---- backbones: features(x) of each family ---------------------------------------------------------

/** How a backbone family's features(x) (the last conv map) is built from its children. */
export type FeaturesEmitter<M extends CsgBackbone = CsgBackbone> = (ctx: EmitContext, m: M, x: Value) => Value;
// eslint-disable-next-line @typescript-eslint/ban-types
const FEATURES = new Map<Function, FeaturesEmitter<any>>();

export function registerBackbone<M extends CsgBackbone>(cls: abstract new (...args: any[]) => M, features: FeaturesEmitter<M>): void {
  FEATURES.set(cls, features);
}

/** Every family's features() runs its top-level children in registration order, up to the GAP head. */
const childrenBeforeHead: FeaturesEmitter = (ctx, m, x) => {
  let cur = x;
  for (const [name, c] of m.namedChildren()) {
    if (name === 'avgpool' || name === 'fc') continue;
    cur = ctx.emit(c, name, cur);
  }
  return cur;
};
registerBackbone(CifarResNet, childrenBeforeHead);
registerBackbone(ResNet, childrenBeforeHead);
registerBackbone(VGG, childrenBeforeHead);
registerBackbone(LeNet, childrenBeforeHead);

/** The last conv map of a registered backbone family. */
export function emitFeatures(ctx: EmitContext, model: CsgBackbone, x: Value): Value {
  const features = FEATURES.get(model.constructor);
  if (!features) {
    throw new UnsupportedModuleError(`cannot export ${model.constructor.name} to ONNX: no features graph registered for this model class; ` +
      `supported models: ${[...FEATURES.keys()].map((c) => c.name).sort().join(', ')}`);
  }
  return features(ctx, model, x);
}

/** GapBackbone.head: avgpool, flatten(1), fc; returns the pooled features [N, K] and the logits. */
export function emitHead(ctx: EmitContext, model: CsgBackbone, maps: Value): { features: Value; logits: Value } {
  const pooled = ctx.child(model, '', 'avgpool', maps);
  const features = ctx.op('Flatten', [pooled.name], 'flatten', [pooled.shape[0], pooled.shape.slice(1).reduce((a, b) => a * b, 1)], { axis: 1 });
  return { features, logits: ctx.child(model, '', 'fc', features) };
}
