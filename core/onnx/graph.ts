/**
 * A small builder for ONNX graphs: initializers, nodes with typed attributes, named inputs and
 * outputs, encoded with onnx-proto's protobuf schema. Only what our exporters and probes need.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type INodeProto = onnxProto.onnx.INodeProto;
type ITensorProto = onnxProto.onnx.ITensorProto;
type IAttributeProto = onnxProto.onnx.IAttributeProto;
type IValueInfoProto = onnxProto.onnx.IValueInfoProto;

export const OPSET = 17;
const IR_VERSION = 8;

/** Attributes are tagged so an integer 1 and a float 1.0 can't be confused. */
export type Attr = { i: number } | { f: number } | { s: string } | { ints: number[] } | { floats: number[] };

export type Dim = number | string;

function attribute(name: string, a: Attr): IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('i' in a) return { name, type: T.INT, i: a.i };
  if ('f' in a) return { name, type: T.FLOAT, f: a.f };
  if ('s' in a) return { name, type: T.STRING, s: new TextEncoder().encode(a.s) };
  if ('ints' in a) return { name, type: T.INTS, ints: a.ints };
  return { name, type: T.FLOATS, floats: a.floats };
}

function valueInfo(name: string, dims: Dim[], elemType = onnx.TensorProto.DataType.FLOAT): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export class OnnxGraph {
  private readonly nodes: INodeProto[] = [];
  private readonly initializers: ITensorProto[] = [];
  private readonly used = new Set<string>();

  private fresh(hint: string): string {
    let name = hint;
    for (let i = 1; this.used.has(name); i++) name = `${hint}_${i}`;
    this.used.add(name);
    return name;
  }

  /** A float32 initializer (weights, constants). */
  floats(hint: string, data: Float32Array, dims: number[]): string {
    const name = this.fresh(hint);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes.slice() });
    return name;
  }

  /** An integer initializer: quantized weights (int8), zero points (uint8, int8) and biases (int32). */
  ints(hint: string, type: 'int8' | 'uint8' | 'int32', data: Int8Array | Uint8Array | Int32Array, dims: number[]): string {
    const name = this.fresh(hint);
    const dataType = { int8: onnx.TensorProto.DataType.INT8, uint8: onnx.TensorProto.DataType.UINT8, int32: onnx.TensorProto.DataType.INT32 }[type];
    this.initializers.push({ name, dims, dataType, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() });
    return name;
  }

  scalar(hint: string, value: number): string {
    return this.floats(hint, new Float32Array([value]), []);
  }

  /** An int64 initializer (shapes for Reshape, axes). */
  int64s(hint: string, values: number[]): string {
    const name = this.fresh(hint);
    this.initializers.push({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: values });
    return name;
  }

  /** Adds a node and returns its (single) output's name; `output` fixes that name (graph outputs). */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, output?: string): string {
    const out = output ?? this.fresh(`${opType.toLowerCase()}`);
    if (output) this.used.add(output);
    this.nodes.push({
      opType,
      name: this.fresh(`n_${opType}`),
      input: inputs,
      output: [out],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return out;
  }

  input(name: string): string {
    this.used.add(name);
    return name;
  }

  encode(io: {
    inputs: { name: string; dims: Dim[] }[];
    outputs: { name: string; dims: Dim[] }[];
    graphName: string;
    docString?: string;
    metadata?: Record<string, string>;
  }): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: 'rhodops',
      opsetImport: [{ domain: '', version: OPSET }],
      docString: io.docString ?? '',
      metadataProps: Object.entries(io.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: io.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: io.inputs.map((i) => valueInfo(i.name, i.dims)),
        output: io.outputs.map((o) => valueInfo(o.name, o.dims)),
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

/** Permutes a row-major array: out.shape[i] = shape[perm[i]]. */
export function transposeData(data: Float32Array, shape: number[], perm: number[]): { data: Float32Array; shape: number[] } {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i]!;
  }
  const strideForOut = perm.map((p) => inStrides[p]!);
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src]!;
    // Odometer increment over the output index, tracking the source offset incrementally.
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      src += strideForOut[d]!;
      if (idx[d]! < outShape[d]!) break;
      src -= strideForOut[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
  return { data: out, shape: outShape };
}

export function scaleData(data: Float32Array, factor: number): Float32Array {
  if (factor === 1) return data;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! * factor;
  return out;
}
