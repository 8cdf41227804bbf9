/** PGGAN generator → ONNX (NCHW), mirroring core/models/pggan.ts op for op with weights pre-scaled. */
import type { Phase, PgganArch } from '../models/arch.ts';
import { LEAK, PIXELNORM_EPSILON } from '../models/layers.ts';
import { checkPhase, pgganGeneratorSpecs, resolutionsUpTo, widthAt } from '../models/pggan.ts';
import { specIndex, type WeightMap } from '../models/params.ts';
import { OnnxGraph, scaleData, transposeData } from './graph.ts';
import { weightOf } from './weights.ts';

export function exportPggan(arch: PgganArch, weights: WeightMap, phase: Phase): { graph: OnnxGraph; output: string } {
  checkPhase(arch, phase);
  const specs = specIndex(pgganGeneratorSpecs(arch));
  const g = new OnnxGraph();
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
    const wName = g.floats(`${prefix}/w`, oihw.data, oihw.shape);
    const bName = g.floats(`${prefix}/b`, weightOf(weights, `${prefix}/b`).data, [oihw.shape[0]!]);
    const p = (k - 1) / 2;
    return g.op('Conv', [x, wName, bName], { kernel_shape: { ints: [k, k] }, pads: { ints: [p, p, p, p] } });
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
    const bName = g.floats(`${prefix}/b`, weightOf(weights, `${prefix}/b`).data, [cout]);
    return g.op('ConvTranspose', [x, wName, bName], { kernel_shape: { ints: [4, 4] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } });
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
