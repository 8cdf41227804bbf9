/**
 * PGGAN generator → ONNX (NCHW), mirroring core/models/pggan.ts op for op with weights pre-scaled. Optionally
 * with its 3×3 convolutions in int8 (QDQ form), from activation ranges that a calibration run measured on the
 * float graph, which this exporter can also instrument (`probes`).
 */
import type { Phase, PgganArch } from '../models/arch.ts';
import { LEAK, PIXELNORM_EPSILON } from '../models/layers.ts';
import { checkPhase, pgganGeneratorSpecs, resolutionsUpTo, widthAt } from '../models/pggan.ts';
import { specIndex, type WeightMap } from '../models/params.ts';
import { OnnxGraph, scaleData, transposeData } from './graph.ts';
import { QdqEmitter, type Int8Plan } from './quantize.ts';
import { weightOf } from './weights.ts';

/** The tensors around one 3×3 conv (for an up-conv, the small map in and the large map out, before LeakyReLU). */
export interface ConvProbe {
  input: string;
  output: string;
}

/** The lowest resolution whose convs are quantized when exporting int8. */
export const INT8_FROM_RESOLUTION = 16;

export interface PgganExportOptions {
  /** Filled with the input and output tensor names of each conv int8 would quantize, by weight prefix, for calibration. */
  probes?: Map<string, ConvProbe>;
  /** Quantize the 3×3 convs from 16² up to int8 with these ranges; the rest (4², 8², toRGB) stays float. */
  int8?: Int8Plan;
}

export function exportPggan(arch: PgganArch, weights: WeightMap, phase: Phase, o: PgganExportOptions = {}): { graph: OnnxGraph; output: string } {
  checkPhase(arch, phase);
  const specs = specIndex(pgganGeneratorSpecs(arch));
  const g = new OnnxGraph();
  const qdq = o.int8 ? new QdqEmitter(g, o.int8.weightBits) : null;
  // The 4² and 8² convs stay float: few FLOPs, and every later layer amplifies their error (on mid-256 with
  // random weights: +1.4 dB PSNR for 5 % of the int8 speed).
  const skipQ = (prefix: string) => Number(prefix.split('/')[1]) < INT8_FROM_RESOLUTION;
  const rangesOf = (prefix: string) => {
    const r = o.int8?.ranges.get(prefix);
    if (!r) throw new Error(`exportPggan: no calibration range for ${prefix}`);
    return r;
  };
  const eps = g.scalar('pixelnorm_eps', PIXELNORM_EPSILON);

  const effective = (name: string) => {
    const w = weightOf(weights, name);
    return { shape: w.shape, data: scaleData(w.data, specs.get(name)!.scale) };
  };
  const pixelNorm = (x: string) => {
    const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: { ints: [1] }, keepdims: { i: 1 } });
    return g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, eps])])]);
  };
  const lrelu = (x: string) => g.op('LeakyRelu', [x], { alpha: { f: LEAK } });
  const conv = (x: string, prefix: string, k: number) => {
    const w = effective(`${prefix}/w`);
    const oihw = transposeData(w.data, w.shape, [3, 2, 0, 1]);
    const bias = weightOf(weights, `${prefix}/b`).data;
    const p = (k - 1) / 2;
    const attrs = { kernel_shape: { ints: [k, k] }, pads: { ints: [p, p, p, p] } };
    if (qdq && k === 3 && !skipQ(prefix)) {
      const r = rangesOf(prefix);
      return qdq.conv(qdq.activation(x, r.input), prefix, oihw, bias, attrs, r.output);
    }
    const y = g.op('Conv', [x, g.floats(`${prefix}/w`, oihw.data, oihw.shape), g.floats(`${prefix}/b`, bias, [oihw.shape[0]!])], attrs);
    if (k === 3 && !skipQ(prefix)) o.probes?.set(prefix, { input: x, output: y });
    return y;
  };
  /**
   * Nearest ×2 then a 3×3 conv (pad 1) is exactly a 4×4 transposed conv with stride 2 whose taps are sums of
   * the 3×3 ones: per output row/column j, W'[j] = w[2−j] + w[3−j] (w outside 0..2 is 0). It reads the small
   * map instead of the upsampled one: 16 taps per input pixel against 36, and no Resize.
   */
  const upConv = (x: string, prefix: string) => {
    const w = effective(`${prefix}/w`);
    const [kh, kw, cin, cout] = w.shape as [number, number, number, number];
    if (kh !== 3 || kw !== 3) throw new Error(`upConv: ${prefix} is ${kh}×${kw}, not 3×3`);
    const bias = weightOf(weights, `${prefix}/b`).data;
    if (qdq && !skipQ(prefix)) return upConvInt8(x, prefix, w.data, cin, cout, bias);
    const fused = new Float32Array(cin * cout * 16);
    const taps = (j: number) => [2 - j, 3 - j].filter((k) => k >= 0 && k <= 2);
    for (let jy = 0; jy < 4; jy++) {
      for (let jx = 0; jx < 4; jx++) {
        for (const ky of taps(jy)) {
          for (const kx of taps(jx)) {
            const src = (ky * 3 + kx) * cin * cout;
            for (let i = 0; i < cin; i++) {
              for (let o = 0; o < cout; o++) fused[((i * cout + o) * 4 + jy) * 4 + jx]! += w.data[src + i * cout + o]!;
            }
          }
        }
      }
    }
    const wName = g.floats(`${prefix}/w_up`, fused, [cin, cout, 4, 4]);
    const y = g.op('ConvTranspose', [x, wName, g.floats(`${prefix}/b`, bias, [cout])], { kernel_shape: { ints: [4, 4] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } });
    if (!skipQ(prefix)) o.probes?.set(prefix, { input: x, output: y });
    return y;
  };
  /**
   * The same function as four 2×2 convs on the small map, one per output parity (py, px), interleaved by
   * DepthToSpace: output row 2i+py reads upsampled rows 2i+py−1…2i+py+1, which are input rows i−1, i, i for
   * py = 0 (taps [w0, w1+w2]) and i, i, i+1 for py = 1 (taps [w0+w1, w2]). ONNX Runtime has no integer
   * transposed conv on CPU, and its uint8 Resize is slow; these are four plain integer convs.
   */
  const upConvInt8 = (x: string, prefix: string, hwio: Float32Array, cin: number, cout: number, bias: Float32Array) => {
    const r = rangesOf(prefix);
    const input = qdq!.activation(x, r.input);
    const taps = (parity: number, t: number) => (parity === 0 ? (t === 0 ? [0] : [1, 2]) : t === 0 ? [0, 1] : [2]);
    const phases: string[] = [];
    for (const py of [0, 1]) {
      for (const px of [0, 1]) {
        const k = new Float32Array(cout * cin * 4);
        for (let ty = 0; ty < 2; ty++) {
          for (let tx = 0; tx < 2; tx++) {
            for (const ky of taps(py, ty)) {
              for (const kx of taps(px, tx)) {
                const src = (ky * 3 + kx) * cin * cout;
                for (let i = 0; i < cin; i++) {
                  for (let o = 0; o < cout; o++) k[((o * cin + i) * 2 + ty) * 2 + tx]! += hwio[src + i * cout + o]!;
                }
              }
            }
          }
        }
        const attrs = { kernel_shape: { ints: [2, 2] }, pads: { ints: [1 - py, 1 - px, py, px] } };
        phases.push(qdq!.conv(input, `${prefix}/p${py}${px}`, { data: k, shape: [cout, cin, 2, 2] }, bias, attrs, r.output));
      }
    }
    // Concat and DepthToSpace between two QDQ pairs on the same grid run on uint8 (a quarter of the bytes of float,
    // and ONNX Runtime's DepthToSpace is memory-bound): measured 45 → 52 fps on mid-256.
    const cat = qdq!.requantize(g.op('Concat', phases, { axis: { i: 1 } }), r.output);
    return qdq!.requantize(g.op('DepthToSpace', [cat], { blocksize: { i: 2 }, mode: { s: 'DCR' } }), r.output);
  };
  // Only the fade-in's lower-resolution RGB path still upsamples.
  const upsample = (x: string) =>
    g.op('Resize', [x, '', g.floats('upsample_scales', new Float32Array([1, 1, 2, 2]), [4])], {
      mode: { s: 'nearest' },
      coordinate_transformation_mode: { s: 'asymmetric' },
      nearest_mode: { s: 'floor' },
    });

  // Dense 4×4 block. tfjs reshapes the dense output as (h, w, c); permute the weight's columns to
  // (c, h, w) so a plain Reshape gives NCHW, and fold the per-channel bias into Gemm's C.
  const w4 = widthAt(arch, 4);
  const dense = effective('g/4/dense/w');
  const cols = transposeData(dense.data, [arch.latentSize, 4, 4, w4], [0, 3, 1, 2]);
  const bias = weightOf(weights, 'g/4/dense/b').data;
  const biasCHW = new Float32Array(16 * w4);
  for (let c = 0; c < w4; c++) biasCHW.fill(bias[c]!, c * 16, c * 16 + 16);
  const latent = g.input('latent');
  let x = g.op('Gemm', [pixelNorm(latent), g.floats('g/4/dense/w', cols.data, [arch.latentSize, 16 * w4]), g.floats('g/4/dense/b', biasCHW, [16 * w4])]);
  x = g.op('Reshape', [x, g.int64s('shape_4x4', [-1, w4, 4, 4])]);
  x = pixelNorm(lrelu(x));
  x = pixelNorm(lrelu(conv(x, 'g/4/conv', 3)));

  let previous: string | null = null;
  for (const r of resolutionsUpTo(phase.resolution).slice(1)) {
    previous = x;
    x = pixelNorm(lrelu(upConv(x, `g/${r}/conv0`)));
    x = pixelNorm(lrelu(conv(x, `g/${r}/conv1`, 3)));
  }
  const rgb = conv(x, `g/${phase.resolution}/torgb`, 1);
  if (previous === null || phase.alpha >= 1) return { graph: g, output: rgb };
  const faded = upsample(conv(previous, `g/${phase.resolution / 2}/torgb`, 1));
  const mixed = g.op('Add', [faded, g.op('Mul', [g.op('Sub', [rgb, faded]), g.scalar('alpha', phase.alpha)])]);
  return { graph: g, output: mixed };
}
