// An ONNX graph under construction: nodes, float32 initializers and value names, serialized by
// protobufjs' generated classes for onnx.proto (onnx-proto), never by hand. Values carry their
// shape (batch as -1) so that emitters can check what they are given and the outputs get real dims.
import onnxProto from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';

export const { onnx } = onnxProto;

/** A tensor flowing through the graph: its ONNX name and shape ([-1, ...]: the batch is dynamic). */
export interface Value { name: string; shape: number[] }

export type AttributeValue = number | number[] | string;
/** Attributes whose values are floats even when they look like integers (ONNX types them). */
const FLOAT_ATTRIBUTES = new Set(['epsilon', 'alpha', 'beta', 'momentum']);

export const BATCH_DIM = 'batch';

export class OnnxGraph {
  private readonly nodes: P.INodeProto[] = [];
  private readonly initializers: P.ITensorProto[] = [];
  private readonly used = new Set<string>();

  /** A name not used yet in this graph, derived from `hint` (a module path or an op). */
  fresh(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_.]/g, '_') || 'v';
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Adds a float32 initializer (weights are copied: the graph owns its bytes). */
  initializer(hint: string, data: Float32Array, dims: number[]): string {
    const numel = dims.reduce((a, b) => a * b, 1);
    if (numel !== data.length) throw new Error(`initializer ${hint}: ${data.length} values for dims [${dims}]`);
    const name = this.fresh(hint);
    const bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes });
    return name;
  }

  /** Adds a node; returns the names of its outputs (one per hint). */
  node(opType: string, inputs: string[], outputHints: string[], attributes: Record<string, AttributeValue> = {}, nameHint = opType): string[] {
    const outputs = outputHints.map((h) => this.fresh(h));
    const attribute = Object.entries(attributes).map(([name, v]) => attributeProto(name, v));
    this.nodes.push({ opType, input: inputs, output: outputs, name: this.fresh(`${nameHint}/${opType}`), attribute });
    return outputs;
  }

  /** The node that produced `name` gets `newName` instead (graph outputs keep stable names). */
  rename(name: string, newName: string): void {
    for (const n of this.nodes) {
      n.output = n.output!.map((o) => (o === name ? newName : o));
      n.input = n.input!.map((i) => (i === name ? newName : i));
    }
  }

  /** Keeps `name` free for rename() (graph input and output names). */
  reserve(name: string): void {
    if (this.used.has(name)) throw new Error(`ONNX graph: the name '${name}' is taken`);
    this.used.add(name);
  }

  /** The graph with only the nodes and initializers the outputs need (unrequested heads drop out). */
  toGraphProto(name: string, inputs: Value[], outputs: Value[]): P.IGraphProto {
    const needed = new Set(outputs.map((o) => o.name));
    const kept: P.INodeProto[] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i]!;
      if (!n.output!.some((o) => needed.has(o))) continue;
      kept.push(n);
      for (const inp of n.input!) needed.add(inp);
    }
    return {
      name, node: kept.reverse(), initializer: this.initializers.filter((t) => needed.has(t.name!)),
      input: inputs.map(valueInfo), output: outputs.map(valueInfo),
    };
  }
}

function attributeProto(name: string, v: AttributeValue): P.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if (FLOAT_ATTRIBUTES.has(name)) return { name, type: T.FLOAT, f: v };
  if (!Number.isInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer`);
  return { name, type: T.INT, i: v };
}

/** A float32 tensor type with a dynamic batch dimension (shape[0] === -1). */
export function valueInfo(v: Value): P.IValueInfoProto {
  const dim = v.shape.map((d) => (d < 0 ? { dimParam: BATCH_DIM } : { dimValue: d }));
  return { name: v.name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim } } } };
}
