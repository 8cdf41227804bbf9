/**
 * Static int8 quantization in ONNX's QDQ form: activations as uint8 with a scale and zero point from
 * calibration, weights as int8 per output channel, biases as int32. ONNX Runtime fuses each
 * DequantizeLinear → Conv → QuantizeLinear into one integer convolution (QLinearConv) on CPU.
 */
import type { OnnxGraph } from './graph.ts';

export interface Range {
  min: number;
  max: number;
}

/** What calibration measured around one convolution. */
export interface ConvRanges {
  input: Range;
  output: Range;
}

/** Per quantized conv (keyed by its weight prefix, e.g. `g/64/conv1`). */
export type ActivationRanges = ReadonlyMap<string, ConvRanges>;

export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

/**
 * How the 3×3 convs are quantized. Weights take 8 bits (±127) where the CPU has dot-product instructions
 * (VNNI on x86, sdot on ARM), and 7 bits (±63) on other x86 CPUs: those multiply uint8 × int8 pairs with an
 * instruction that saturates at 16 bits, and 7-bit weights keep every pair sum in range ("reduce range").
 * On mid-128 with random weights, 7 bits cost about 2.7 dB of PSNR.
 */
export interface Int8Plan {
  ranges: ActivationRanges;
  weightBits: 7 | 8;
}

/** Asymmetric uint8 over the range (widened to include 0, which must be exact for padding). */
export function uint8Params(r: Range): QuantParams {
  const lo = Math.min(r.min, 0);
  const hi = Math.max(r.max, 0);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-lo / scale))) };
}

/** Symmetric int8 per output channel of an OIHW kernel. */
export function quantizePerChannel(oihw: Float32Array, outChannels: number, bits: 7 | 8): { q: Int8Array; scales: Float32Array } {
  const levels = (1 << (bits - 1)) - 1;
  const per = oihw.length / outChannels;
  const q = new Int8Array(oihw.length);
  const scales = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    let m = 0;
    for (let i = o * per; i < (o + 1) * per; i++) m = Math.max(m, Math.abs(oihw[i]!));
    const s = m > 0 ? m / levels : 1;
    scales[o] = s;
    for (let i = o * per; i < (o + 1) * per; i++) q[i] = Math.round(oihw[i]! / s);
  }
  return { q, scales };
}

/** Emits QDQ pairs and quantized convs into a graph; one QuantizeLinear per activation tensor, shared by its readers. */
export class QdqEmitter {
  private readonly quantized = new Map<string, { name: string; params: QuantParams }>();

  constructor(
    private readonly g: OnnxGraph,
    private readonly weightBits: 7 | 8,
  ) {}

  /** x → Q → DQ (float again, but carrying the uint8 grid ONNX Runtime fuses on). */
  activation(x: string, r: Range): { name: string; params: QuantParams } {
    const seen = this.quantized.get(x);
    if (seen) return seen;
    const params = uint8Params(r);
    const s = this.g.scalar('act_scale', params.scale);
    const zp = this.g.ints('act_zp', 'uint8', new Uint8Array([params.zeroPoint]), []);
    const name = this.g.op('DequantizeLinear', [this.g.op('QuantizeLinear', [x, s, zp]), s, zp]);
    const out = { name, params };
    this.quantized.set(x, out);
    return out;
  }

  /** x → Q → DQ on a given grid, not shared: marks an op between two quantized tensors as integer-capable. */
  requantize(x: string, r: Range): string {
    const params = uint8Params(r);
    const s = this.g.scalar('rq_scale', params.scale);
    const zp = this.g.ints('rq_zp', 'uint8', new Uint8Array([params.zeroPoint]), []);
    return this.g.op('DequantizeLinear', [this.g.op('QuantizeLinear', [x, s, zp]), s, zp]);
  }

  /**
   * A conv on a quantized input with an OIHW float kernel and bias, its output put on the `output` grid.
   * The bias is int32 at scale input × weight, as QLinearConv wants it.
   */
  conv(
    input: { name: string; params: QuantParams },
    prefix: string,
    kernel: { data: Float32Array; shape: number[] },
    bias: Float32Array,
    attrs: { kernel_shape: { ints: number[] }; pads: { ints: number[] } },
    output: Range,
  ): string {
    const cout = kernel.shape[0]!;
    const { q, scales } = quantizePerChannel(kernel.data, cout, this.weightBits);
    const w = this.g.op(
      'DequantizeLinear',
      [this.g.ints(`${prefix}/wq`, 'int8', q, kernel.shape), this.g.floats(`${prefix}/wq_scale`, scales, [cout]), this.g.ints(`${prefix}/wq_zp`, 'int8', new Int8Array(cout), [cout])],
      { axis: { i: 0 } },
    );
    const biasScales = scales.map((s) => s * input.params.scale);
    const bq = Int32Array.from(bias, (b, o) => Math.round(b / biasScales[o]!));
    const b = this.g.op(
      'DequantizeLinear',
      [this.g.ints(`${prefix}/bq`, 'int32', bq, [cout]), this.g.floats(`${prefix}/bq_scale`, biasScales, [cout]), this.g.ints(`${prefix}/bq_zp`, 'int32', new Int32Array(cout), [cout])],
      { axis: { i: 0 } },
    );
    const y = this.g.op('Conv', [input.name, w, b], attrs);
    const out = uint8Params(output);
    const s = this.g.scalar('out_scale', out.scale);
    const zp = this.g.ints('out_zp', 'uint8', new Uint8Array([out.zeroPoint]), []);
    return this.g.op('DequantizeLinear', [this.g.op('QuantizeLinear', [y, s, zp]), s, zp]);
  }
}
