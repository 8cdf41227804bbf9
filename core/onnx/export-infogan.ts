/**
 * InfoGAN generator → ONNX (NCHW). Inference-mode batchnorm is folded into the preceding Gemm or
 * ConvTranspose (scale the weights per output channel, shift the bias), leaving one op per layer.
 */
import type { InfoganArch } from '../models/arch.ts';
import { infoganLayers } from '../models/infogan.ts';
import { BATCHNORM_EPSILON } from '../models/layers.ts';
import type { WeightMap } from '../models/params.ts';
import { OnnxGraph, transposeData } from './graph.ts';
import { weightOf } from './weights.ts';

/** Per-channel multiplier and shift equal to inference batchnorm: y = x·mul + add. */
function foldedBatchNorm(weights: WeightMap, prefix: string): { mul: Float32Array; add: Float32Array } {
  const gamma = weightOf(weights, `${prefix}/bn/gamma`).data;
  const beta = weightOf(weights, `${prefix}/bn/beta`).data;
  const mean = weightOf(weights, `${prefix}/bn/mean`).data;
  const variance = weightOf(weights, `${prefix}/bn/variance`).data;
  const mul = new Float32Array(gamma.length);
  const add = new Float32Array(gamma.length);
  for (let c = 0; c < gamma.length; c++) {
    mul[c] = gamma[c]! / Math.sqrt(variance[c]! + BATCHNORM_EPSILON);
    add[c] = beta[c]! - mean[c]! * mul[c]!;
  }
  return { mul, add };
}

export function exportInfogan(arch: InfoganArch, weights: WeightMap): { graph: OnnxGraph; output: string } {
  const g = new OnnxGraph();
  let x = g.input('latent');
  for (const l of infoganLayers(arch)) {
    if (l.type === 'dense') {
      const w = weightOf(weights, `${l.name}/w`).data;
      const { mul, add } = foldedBatchNorm(weights, l.name);
      let data: Float32Array = new Float32Array(w.length);
      for (let i = 0; i < l.inUnits; i++) for (let j = 0; j < l.units; j++) data[i * l.units + j] = w[i * l.units + j]! * mul[j]!;
      let bias = add;
      if (l.name === 'g/fc2') {
        // tfjs reshapes to (h, w, c); reorder the columns to (c, h, w) for a plain NCHW Reshape.
        const s = arch.startResolution;
        const c = arch.widths[0]!;
        data = transposeData(data, [l.inUnits, s, s, c], [0, 3, 1, 2]).data;
        bias = transposeData(add, [s, s, c], [2, 0, 1]).data;
      }
      x = g.op('Relu', [g.op('Gemm', [x, g.floats(`${l.name}/w`, data, [l.inUnits, l.units]), g.floats(`${l.name}/b`, bias, [l.units])])]);
      if (l.name === 'g/fc2') {
        const s = arch.startResolution;
        x = g.op('Reshape', [x, g.int64s('start_shape', [-1, arch.widths[0]!, s, s])]);
      }
    } else {
      const w = weightOf(weights, `${l.name}/w`);
      // tfjs [kh, kw, out, in] → ONNX ConvTranspose [in, out, kh, kw].
      const iokk = transposeData(w.data, w.shape, [3, 2, 0, 1]);
      let bias: Float32Array;
      if (l.last) {
        bias = weightOf(weights, `${l.name}/b`).data;
      } else {
        const { mul, add } = foldedBatchNorm(weights, l.name);
        const per = 16; // kh·kw
        for (let i = 0; i < l.inChannels; i++)
          for (let o = 0; o < l.outChannels; o++)
            for (let k = 0; k < per; k++) iokk.data[(i * l.outChannels + o) * per + k]! *= mul[o]!;
        bias = add;
      }
      // tfjs 'same' for a 4×4 stride-2 transposed conv pads one pixel on each side.
      const y = g.op('ConvTranspose', [x, g.floats(`${l.name}/w`, iokk.data, iokk.shape), g.floats(`${l.name}/b`, bias, [l.outChannels])], {
        kernel_shape: { ints: [4, 4] },
        strides: { ints: [2, 2] },
        pads: { ints: [1, 1, 1, 1] },
      });
      x = g.op(l.last ? 'Tanh' : 'Relu', [y]);
    }
  }
  return { graph: g, output: x };
}
