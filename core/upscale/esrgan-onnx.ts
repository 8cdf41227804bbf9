/**
 * The ESRGAN weights of @upscalerjs/esrgan-slim (a Keras functional model: Conv2D, ReLU, Concatenate, Add,
 * nearest UpSampling2D, channels last) rebuilt as an ONNX graph for ONNX Runtime, which runs its convolutions
 * several times faster than tfjs-wasm on a CPU (bench: `render` section). Input `image` [N, H, W, 3] and
 * output `upscaled` [N, H·f, W·f, 3], both 0..255 as the Keras model has them.
 */
import { RhodopsError } from '../errors.ts';
import { OnnxGraph, transposeData } from '../onnx/graph.ts';

export interface KerasLayer {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, unknown][][];
}

export interface KerasModel {
  layers: KerasLayer[];
  output: string;
  /** Weights by name ("F_0/kernel"), with their shapes. */
  weights: Map<string, { shape: number[]; data: Float32Array }>;
}

/** Splits the weights blob by the manifest's order (float32 only, as these models are). */
export function kerasWeights(specs: { name: string; shape: number[]; dtype: string }[], blob: Uint8Array): KerasModel['weights'] {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  let offset = 0;
  for (const s of specs) {
    if (s.dtype !== 'float32') throw new RhodopsError('BAD_OPTION', `ESRGAN weight ${s.name}: ${s.dtype} weights are not supported`);
    const n = s.shape.reduce((a, b) => a * b, 1);
    out.set(s.name, { shape: s.shape, data: new Float32Array(blob.buffer.slice(blob.byteOffset + offset, blob.byteOffset + offset + n * 4)) });
    offset += n * 4;
  }
  if (offset !== blob.byteLength) throw new RhodopsError('BAD_OPTION', `ESRGAN weights: the manifest names ${offset} bytes; the file has ${blob.byteLength}`);
  return out;
}

const pair = (v: unknown, what: string): [number, number] => {
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return [v[0] as number, v[1] as number];
  throw new RhodopsError('BAD_OPTION', `ESRGAN layer: ${what} ${JSON.stringify(v)} is not a pair`);
};

export function kerasToOnnx(model: KerasModel, scale: number): Uint8Array {
  const g = new OnnxGraph();
  const names = new Map<string, string>();
  const source = (l: KerasLayer) => l.inbound_nodes[0]?.map(([name]) => {
    const n = names.get(name);
    if (!n) throw new RhodopsError('BAD_OPTION', `ESRGAN layer ${l.name}: its input ${name} comes later in the file`);
    return n;
  }) ?? [];
  const weight = (name: string) => {
    const w = model.weights.get(name);
    if (!w) throw new RhodopsError('BAD_OPTION', `ESRGAN weights: ${name} is missing`);
    return w;
  };
  for (const l of model.layers) {
    const c = l.config;
    const inputs = source(l);
    let out: string;
    switch (l.class_name) {
      case 'InputLayer':
        // NHWC in, as the Keras model; the convolutions run in ONNX's NCHW.
        out = g.op('Transpose', [g.input('image')], { perm: { ints: [0, 3, 1, 2] } });
        break;
      case 'Conv2D': {
        const [kh, kw] = pair(c['kernel_size'], 'kernel_size');
        if (pair(c['strides'], 'strides').join() !== '1,1' || pair(c['dilation_rate'], 'dilation_rate').join() !== '1,1') {
          throw new RhodopsError('BAD_OPTION', `ESRGAN layer ${l.name}: only stride 1, no dilation`);
        }
        const k = weight(`${l.name}/kernel`);
        const oihw = transposeData(k.data, k.shape, [3, 2, 0, 1]);
        const args = [inputs[0]!, g.floats(`${l.name}/w`, oihw.data, oihw.shape)];
        if (c['use_bias'] !== false) args.push(g.floats(`${l.name}/b`, weight(`${l.name}/bias`).data, [oihw.shape[0]!]));
        const same = c['padding'] === 'same';
        // Keras 'same' with an even kernel pads more after; these kernels are odd.
        const [pt, pl] = same ? [Math.floor((kh - 1) / 2), Math.floor((kw - 1) / 2)] : [0, 0];
        const [pb, pr] = same ? [kh - 1 - pt, kw - 1 - pl] : [0, 0];
        out = g.op('Conv', args, { kernel_shape: { ints: [kh, kw] }, pads: { ints: [pt, pl, pb, pr] } });
        if (c['activation'] === 'relu') out = g.op('Relu', [out]);
        else if (c['activation'] !== 'linear') throw new RhodopsError('BAD_OPTION', `ESRGAN layer ${l.name}: activation ${String(c['activation'])}`);
        break;
      }
      case 'Activation':
        if (c['activation'] !== 'relu') throw new RhodopsError('BAD_OPTION', `ESRGAN layer ${l.name}: activation ${String(c['activation'])}`);
        out = g.op('Relu', inputs);
        break;
      case 'Concatenate':
        if (c['axis'] !== -1 && c['axis'] !== 3) throw new RhodopsError('BAD_OPTION', `ESRGAN layer ${l.name}: concatenation on axis ${String(c['axis'])}`);
        out = g.op('Concat', inputs, { axis: { i: 1 } });
        break;
      case 'Add':
        out = inputs.slice(1).reduce((acc, x) => g.op('Add', [acc, x]), inputs[0]!);
        break;
      case 'UpSampling2D': {
        const [sh, sw] = pair(c['size'], 'size');
        if (c['interpolation'] !== 'nearest') throw new RhodopsError('BAD_OPTION', `ESRGAN layer ${l.name}: ${String(c['interpolation'])} upsampling`);
        out = g.op('Resize', [inputs[0]!, '', g.floats(`${l.name}/scales`, new Float32Array([1, 1, sh, sw]), [4])], {
          mode: { s: 'nearest' },
          coordinate_transformation_mode: { s: 'asymmetric' },
          nearest_mode: { s: 'floor' },
        });
        break;
      }
      default:
        throw new RhodopsError('BAD_OPTION', `ESRGAN layer ${l.name}: ${l.class_name} layers are not supported`);
    }
    names.set(l.name, out);
  }
  const last = names.get(model.output);
  if (!last) throw new RhodopsError('BAD_OPTION', `ESRGAN: the output layer ${model.output} is not in the model`);
  const clipped = g.op('Clip', [last, g.scalar('zero', 0), g.scalar('full', 255)]);
  g.op('Transpose', [clipped], { perm: { ints: [0, 2, 3, 1] } }, 'upscaled');
  return g.encode({
    graphName: `esrgan_slim_x${scale}`,
    docString: `ESRGAN-slim ×${scale} (@upscalerjs/esrgan-slim weights), NHWC 0..255`,
    inputs: [{ name: 'image', dims: ['batch', 'height', 'width', 3] }],
    outputs: [{ name: 'upscaled', dims: ['batch', 'height_out', 'width_out', 3] }],
  });
}
