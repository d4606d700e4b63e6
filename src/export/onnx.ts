// ONNX export of a csgnet backbone's evaluation (STD) path: opset 17, dynamic batch, outputs
// logits [N, C], features (GAP of the last conv map) [N, K] and maps (the last conv map) [N, K, h, w]
// as requested. The graph's input is the normalized tensor csgnet's own forward takes, or, with
// includeNormalization, pixels in [0, 1] (v/255) normalized inside the graph. Class names,
// normalization, the gate G [K, C] and the input convention are written to metadata_props (keys
// below), which readOnnxMetadata parses back (for the browser explorer and for tests).
import type { Tensor } from '../torch/index.js';
import * as torch from '../torch/index.js';
import type { CsgBackbone } from '../models/types.js';
import { OnnxGraph, onnx, type Value } from './graph.js';
import { EmitContext, emitFeatures, emitHead } from './emitters.js';

export const ONNX_OPSET = 17;
export const ONNX_OUTPUTS = ['logits', 'features', 'maps'] as const;
export type OnnxOutput = typeof ONNX_OUTPUTS[number];
export const ONNX_INPUT_NAME = 'input';
/** Bumped when the meaning of the metadata keys changes. */
export const ONNX_METADATA_VERSION = 1;

export interface OnnxExportOptions {
  /** [C, H, W] of one image (the batch dimension is dynamic). */
  inputShape: [number, number, number];
  /** The graph outputs, in this order (default ['logits']). */
  outputs?: readonly OnnxOutput[];
  /** Put (x - mean) / std inside the graph: the input is then v/255 in [0, 1]. Needs normalization. */
  includeNormalization?: boolean;
  /** Per-channel mean and std in [0, 1] units (recorded in the metadata; required with includeNormalization). */
  normalization?: { mean: number[]; std: number[] };
  classNames?: string[];
  /** The class-specific gate G [K filters, C classes] (a tensor or nested arrays), or null for an STD model. */
  gate?: Tensor | number[][] | null;
  /** The registered model name (e.g. 'resnet20'), recorded in the metadata. */
  modelName?: string;
  /** More metadata_props (string values), e.g. the run folder and checkpoint. */
  metadata?: Record<string, string>;
}

/** The metadata exportOnnx writes, parsed back. */
export interface OnnxModelInfo {
  version: number;
  model: string | null;
  inputName: string;
  inputShape: [number, number, number];
  /** 'normalized': the input is (v/255 - mean) / std; 'unit': the input is v/255 and the graph normalizes. */
  input: 'normalized' | 'unit';
  includeNormalization: boolean;
  mean: number[] | null;
  std: number[] | null;
  outputs: OnnxOutput[];
  classNames: string[] | null;
  numFilters: number;
  numClasses: number;
  /** G [K][C] or null (an STD model). */
  gate: number[][] | null;
  /** Every metadata_props entry as written. */
  props: Record<string, string>;
}

function checkOptions(model: CsgBackbone, o: OnnxExportOptions): { outputs: OnnxOutput[]; gate: number[][] | null } {
  const shape = o.inputShape;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`exportOnnx: inputShape must be [C, H, W] of positive integers, got ${JSON.stringify(shape)}`);
  }
  const outputs = [...(o.outputs ?? ['logits'])];
  if (outputs.length === 0) throw new Error(`exportOnnx: outputs must name at least one of ${ONNX_OUTPUTS.join(', ')}`);
  for (const out of outputs) if (!ONNX_OUTPUTS.includes(out)) throw new Error(`exportOnnx: unknown output '${out}'; known outputs: ${ONNX_OUTPUTS.join(', ')}`);
  if (new Set(outputs).size !== outputs.length) throw new Error(`exportOnnx: outputs [${outputs.join(', ')}] name one twice`);
  const norm = o.normalization;
  if (o.includeNormalization && !norm) throw new Error('exportOnnx: includeNormalization needs normalization { mean, std }');
  if (norm) {
    const c = shape[0];
    if (norm.mean.length !== c || norm.std.length !== c) throw new Error(`exportOnnx: normalization needs ${c} mean and std entries (one per channel), got ${norm.mean.length}/${norm.std.length}`);
    for (const s of norm.std) if (!(s > 0)) throw new Error(`exportOnnx: normalization std entries must be > 0, got ${s}`);
  }
  if (o.classNames && o.classNames.length !== model.numClasses) {
    throw new Error(`exportOnnx: ${o.classNames.length} class names for a model with ${model.numClasses} classes`);
  }
  let gate: number[][] | null = null;
  if (o.gate) {
    gate = Array.isArray(o.gate) ? o.gate : torch.tidy(() => (o.gate as Tensor).detach().tolist() as number[][]);
    if (gate.length !== model.numFilters || gate.some((row) => row.length !== model.numClasses)) {
      throw new Error(`exportOnnx: the gate must be [${model.numFilters} filters, ${model.numClasses} classes], got [${gate.length}, ${gate[0]?.length ?? 0}]`);
    }
  }
  return { outputs, gate };
}

/**
 * Writes the model's evaluation-mode STD path as an ONNX ModelProto (opset 17) and returns its bytes.
 * Throws, naming the module, when a module kind has no emitter (see emitters.ts).
 */
export function exportOnnx(model: CsgBackbone, o: OnnxExportOptions): Uint8Array {
  const { outputs, gate } = checkOptions(model, o);
  const graph = new OnnxGraph();
  for (const name of [ONNX_INPUT_NAME, ...ONNX_OUTPUTS]) graph.reserve(name);
  const ctx = new EmitContext(graph);
  const [c, h, w] = o.inputShape;
  const input: Value = { name: ONNX_INPUT_NAME, shape: [-1, c, h, w] };

  let x = input;
  if (o.includeNormalization) {
    const { mean, std } = o.normalization!;
    const sub = ctx.op('Sub', [x.name, ctx.constant('normalize.mean', mean, [1, c, 1, 1])], 'normalize.sub', x.shape);
    x = ctx.op('Div', [sub.name, ctx.constant('normalize.std', std, [1, c, 1, 1])], 'normalize.div', x.shape);
  }
  const maps = emitFeatures(ctx, model, x);
  if (maps.shape.length !== 4 || maps.shape[1] !== model.numFilters) {
    throw new Error(`exportOnnx: ${model.constructor.name}'s features graph gives ${JSON.stringify(maps.shape)}, expected [N, ${model.numFilters}, h, w]`);
  }
  const { features, logits } = emitHead(ctx, model, maps);

  // A parameter or buffer no emitter used would be a silently wrong export.
  const missing = [...model.namedParameters(), ...model.namedBuffers()].filter(([, t]) => !ctx.exported.has(t)).map(([n]) => n);
  if (missing.length) throw new Error(`exportOnnx: ${model.constructor.name}: these tensors never reached the ONNX graph (an emitter skips a module): ${missing.join(', ')}`);

  const values: Record<OnnxOutput, Value> = { logits, features, maps };
  const graphOutputs: Value[] = [];
  for (const out of outputs) {
    graph.rename(values[out].name, out);
    graphOutputs.push({ name: out, shape: values[out].shape });
  }

  const props: Record<string, string> = {
    'csgnet.version': String(ONNX_METADATA_VERSION),
    'csgnet.input_name': ONNX_INPUT_NAME,
    'csgnet.input_shape': JSON.stringify([c, h, w]),
    'csgnet.input': o.includeNormalization ? 'unit' : 'normalized',
    'csgnet.include_normalization': String(!!o.includeNormalization),
    'csgnet.outputs': JSON.stringify(outputs),
    'csgnet.num_filters': String(model.numFilters),
    'csgnet.num_classes': String(model.numClasses),
    'csgnet.batchnorm': 'BatchNormalization nodes with the running statistics (eval mode), not folded',
  };
  if (o.modelName) props['csgnet.model'] = o.modelName;
  if (o.normalization) { props['csgnet.mean'] = JSON.stringify(o.normalization.mean); props['csgnet.std'] = JSON.stringify(o.normalization.std); }
  if (o.classNames) props['csgnet.class_names'] = JSON.stringify(o.classNames);
  if (gate) props['csgnet.gate'] = JSON.stringify(gate);
  for (const [k, v] of Object.entries(o.metadata ?? {})) {
    if (k in props || RESERVED_KEYS.includes(k)) throw new Error(`exportOnnx: metadata key '${k}' is written by csgnet itself`);
    props[k] = String(v);
  }

  const proto = onnx.ModelProto.create({
    irVersion: onnx.Version.IR_VERSION, producerName: 'csgnet', producerVersion: String(ONNX_METADATA_VERSION),
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    docString: `csgnet ${o.modelName ?? model.constructor.name}: evaluation (STD) path; input ${o.includeNormalization ? 'v/255 in [0, 1]' : '(v/255 - mean) / std'} [N, ${c}, ${h}, ${w}]`,
    graph: graph.toGraphProto(`csgnet_${o.modelName ?? model.constructor.name}`, [input], graphOutputs),
    metadataProps: Object.entries(props).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** The metadata_props keys exportOnnx owns (written when they apply). */
const RESERVED_KEYS = ['csgnet.version', 'csgnet.input_name', 'csgnet.input_shape', 'csgnet.input', 'csgnet.include_normalization', 'csgnet.outputs',
  'csgnet.num_filters', 'csgnet.num_classes', 'csgnet.batchnorm', 'csgnet.model', 'csgnet.mean', 'csgnet.std', 'csgnet.class_names', 'csgnet.gate'];

const parseJson = <T>(props: Record<string, string>, key: string): T | null => (key in props ? JSON.parse(props[key]!) as T : null);

/** Parses the csgnet metadata of an exported model (throws for a model csgnet did not write). */
export function readOnnxMetadata(bytes: Uint8Array): OnnxModelInfo {
  const model = onnx.ModelProto.decode(bytes);
  const props: Record<string, string> = {};
  for (const p of model.metadataProps) props[p.key ?? ''] = p.value ?? '';
  if (!('csgnet.version' in props)) throw new Error('readOnnxMetadata: not a csgnet export (no csgnet.version in metadata_props)');
  return {
    version: Number(props['csgnet.version']),
    model: props['csgnet.model'] ?? null,
    inputName: props['csgnet.input_name']!,
    inputShape: parseJson(props, 'csgnet.input_shape')!,
    input: props['csgnet.input'] as 'normalized' | 'unit',
    includeNormalization: props['csgnet.include_normalization'] === 'true',
    mean: parseJson(props, 'csgnet.mean'),
    std: parseJson(props, 'csgnet.std'),
    outputs: parseJson(props, 'csgnet.outputs')!,
    classNames: parseJson(props, 'csgnet.class_names'),
    numFilters: Number(props['csgnet.num_filters']),
    numClasses: Number(props['csgnet.num_classes']),
    gate: parseJson(props, 'csgnet.gate'),
    props,
  };
}
