/**
 * Fast Conv2DBackpropInput for tfjs-backend-wasm. Its own kernel is a naive loop at ~2 GFLOPS and runs every
 * transposed conv (tf.conv2dTranspose) and every conv's input gradient; wasm's Conv2D (XNNPACK) runs the same
 * work at 20–30. The wrapper rewrites the op as stride-1 Conv2Ds plus a copy or two (sub-pixel, or phase,
 * decomposition), all on wasm's own kernels called at kernel level: no engine-tracked tensor in between.
 *
 * Per spatial axis (stride s, kernel K, forward padding before p), dx is
 *
 *   dx[y] = Σ_{kh, oh : oh·s + kh − p = y} dy[oh] · W[kh]
 *
 * Write u = y + p = m·s + r with r ∈ [0, s): the taps that reach u are kh = j·s + r, from dy[m − j]. So each
 * phase r is a stride-1 correlation of dy with the flipped sub-filter F_r[t] = W[(J_r − 1 − t)·s + r],
 * J_r = ⌈(K − r)/s⌉ taps: no multiplications by inserted zeros. Two ways to run the phases:
 *
 * - per phase (`perPhase`): one Conv2D per (r_h, r_w) with exactly its taps and padding chosen so that each
 *   gives dx[:, a::s_h, b::s_w, :]; a Concat and a Transpose interleave them. Exactly the forward conv's FLOPs.
 * - combined (`combined`): ONE Conv2D whose output channels are (r_h, r_w, ci), every phase padded to
 *   J = ⌈K/s⌉ taps, filter G[t_h, t_w, co, (r_h, r_w, ci)] = W[(J_h − 1 − t_h)·s_h + r_h, (J_w − 1 − t_w)·s_w + r_w,
 *   ci, co] (zero past K); a Transpose (depth-to-space) interleaves, a Slice crops to H×W. Zero taps when K is
 *   not a multiple of s (k3 s2: 1.8× the work), and up to one extra output row and column per phase.
 *
 * Measured (single-threaded, batch 32–64): per phase is 10–45% faster from 8 dx channels up (2× for k3/k5 s2);
 * below that its convs have too few output channels for XNNPACK and combined is up to 3× faster (the 1- or
 * 3-channel image layer). Per phase also needs every phase to have a tap (K ≥ s) and non-negative padding
 * (explicit padding beyond the kernel breaks that); combined handles every geometry. Stride 1 is one conv.
 *
 * The sub-filters are small and are built in JS from the filter's values (readSync, write): one pass, ≤1 ms
 * for [4,4,64,128], where wasm's Reverse alone takes 4–6 ms (it and DepthToSpace run at ~40–60 ns per element).
 *
 * Anything else (NCHW, non-float32, odd ranks, shapes that do not fit a forward conv) goes to the original
 * kernel unchanged.
 */
import {
  backend_util,
  type DataId,
  type DataType,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { replaceWasmKernel, runWasmKernel, type Pad, type WasmBackendLike } from './kernels.ts';

/** Marks our wrapper so that patching twice (even from a second copy of this module) never wraps a wrapper. */
const PATCHED = Symbol.for('rhodops.wasmPatch.conv2DBackpropInput');

/** The part of BackendWasm this patch uses beyond disposeData: the standard KernelBackend read/write. */
interface WasmBackendRW extends WasmBackendLike {
  readSync(dataId: DataId): unknown;
  write(values: Float32Array, shape: number[], dtype: DataType): DataId;
}

interface BackpropInputAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
  dilations?: number | [number, number];
}

/** How one spatial axis is computed when all its phases share one conv (see the file comment). */
export interface CombinedAxis {
  /** Filter taps per phase, ⌈K/s⌉. */
  taps: number;
  /** Conv padding before and after (≥ 0). */
  padBefore: number;
  padAfter: number;
  /** Rows (columns) of the conv's output, each s rows of the interleaved result. */
  rows: number;
  /** First row of the interleaved result that is dx row 0. */
  crop: number;
}

/**
 * k: kernel size; s: stride; pad: the forward conv's padding before; size: dx's size (H); dySize: dy's (OH).
 * Conv output row i covers u = (i + start)·s + r, start = J − 1 − padBefore; dx row y is u = y + pad.
 */
export function combinedAxis(k: number, s: number, pad: number, size: number, dySize: number): CombinedAxis {
  const taps = Math.ceil(k / s);
  const padBefore = Math.max(0, taps - 1 - Math.floor(pad / s));
  const start = taps - 1 - padBefore; // ≤ ⌊pad/s⌋, so crop ≥ 0
  const crop = pad - start * s;
  const needed = Math.ceil((size + crop) / s);
  const unpadded = dySize + padBefore - taps + 1;
  const padAfter = Math.max(0, needed - unpadded);
  return { taps, padBefore, padAfter, rows: unpadded + padAfter, crop };
}

/** One output phase a of an axis when each phase gets its own conv: dx rows a, a + s, a + 2s, … */
export interface PhaseAxis {
  /** Which taps of W it uses: kh ≡ r (mod s). */
  r: number;
  /** How many: ⌈(K − r)/s⌉. */
  taps: number;
  padBefore: number;
  padAfter: number;
}

/**
 * The s phases of an axis, each a conv with exactly its own taps and ⌈size/s⌉ output rows (dx row a + i·s is
 * u = a + pad + i·s = (i + δ)·s + r with δ = ⌊(a + pad)/s⌋), or undefined where some phase has no taps or
 * would need negative padding (K < s, or explicit padding beyond the kernel): those take the combined path.
 */
export function phaseAxes(k: number, s: number, pad: number, size: number, dySize: number): PhaseAxis[] | undefined {
  const rows = Math.ceil(size / s);
  const phases: PhaseAxis[] = [];
  for (let a = 0; a < s; a++) {
    const r = (a + pad) % s;
    const delta = Math.floor((a + pad) / s);
    const taps = Math.ceil((k - r) / s);
    const padBefore = taps - 1 - delta;
    const padAfter = rows - dySize + delta; // so that dySize + padBefore + padAfter − taps + 1 = rows
    if (taps < 1 || padBefore < 0 || padAfter < 0) return undefined;
    phases.push({ r, taps, padBefore, padAfter });
  }
  return phases;
}

/**
 * The flipped sub-filters of W [KH, KW, Cin, Cout] for the given row and column phases, side by side in the
 * output channels: G[t_h, t_w, co, (i_h, i_w, ci)] = W[(J_h − 1 − t_h)·s_h + rows[i_h], (J_w − 1 − t_w)·s_w +
 * cols[i_w], ci, co], zero past the kernel. Shape [J_h, J_w, Cout, rows.length·cols.length·Cin].
 */
function flippedPhases(w: Float32Array, kH: number, kW: number, cin: number, cout: number, sH: number, sW: number,
  rows: number[], cols: number[], jH: number, jW: number): Float32Array {
  const nR = rows.length;
  const nC = cols.length;
  const g = new Float32Array(jH * jW * cout * nR * nC * cin);
  for (let th = 0; th < jH; th++) {
    for (let ih = 0; ih < nR; ih++) {
      const kh = (jH - 1 - th) * sH + rows[ih]!;
      if (kh >= kH) continue;
      for (let tw = 0; tw < jW; tw++) {
        for (let iw = 0; iw < nC; iw++) {
          const kw = (jW - 1 - tw) * sW + cols[iw]!;
          if (kw >= kW) continue;
          const wBase = (kh * kW + kw) * cin * cout;
          const gBase = ((th * jW + tw) * cout * nR + ih) * nC + iw; // + co·nR·nC, then × cin, + ci
          for (let co = 0; co < cout; co++) {
            const gRow = (gBase + co * nR * nC) * cin;
            for (let ci = 0; ci < cin; ci++) g[gRow + ci] = w[wBase + ci * cout + co]!;
          }
        }
      }
    }
  }
  return g;
}

const isSingle = (v: unknown): boolean =>
  v === undefined || v === 1 || (Array.isArray(v) && v.length === 2 && v[0] === 1 && v[1] === 1);

/** Which decomposition to use; 'auto' picks by shape. Tests force each one. */
export const conv2DBackpropInputMethod: { use: 'auto' | 'combined' | 'phases' } = { use: 'auto' };

/** Below this many input channels, per-phase convs have too few output channels for XNNPACK to be efficient. */
const MIN_PHASE_CHANNELS = 8;

interface Geometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kH: number;
  kW: number;
  sH: number;
  sW: number;
  padTop: number;
  padLeft: number;
}

/** The shapes the fast paths handle, or undefined (the caller then runs the original kernel). */
function geometry(dy: TensorInfo, filter: TensorInfo, attrs: BackpropInputAttrs): Geometry | undefined {
  const { strides, pad, dataFormat = 'NHWC', dimRoundingMode, inputShape } = attrs;
  if (dataFormat !== 'NHWC' || !isSingle(attrs.dilations)) return undefined;
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32') return undefined;
  if (dy.shape.length !== 4 || filter.shape.length !== 4 || !Array.isArray(inputShape) || inputShape.length !== 4) {
    return undefined;
  }
  const [batch, outH, outW, outC] = dy.shape as [number, number, number, number];
  const [kH, kW, fInC, fOutC] = filter.shape as [number, number, number, number];
  const [xBatch, inH, inW, inC] = inputShape;
  if ([batch, outH, outW, outC, kH, kW, inH, inW, inC].some((d) => !(d > 0))) return undefined;
  const info = backend_util.computeConv2DInfo(
    inputShape, [kH, kW, fInC, fOutC], strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  if (xBatch !== batch || fInC !== inC || fOutC !== outC || info.outHeight !== outH || info.outWidth !== outW) {
    return undefined;
  }
  return {
    batch, inH, inW, inC, outH, outW, outC, kH, kW,
    sH: info.strideHeight, sW: info.strideWidth, padTop: info.padInfo.top, padLeft: info.padInfo.left,
  };
}

/**
 * Runs `body` with a list that it fills with intermediates; disposes them all afterwards, also on error.
 * The result must not be in the list.
 */
function scoped(backend: WasmBackendRW, body: (keep: (t: TensorInfo) => TensorInfo) => TensorInfo): TensorInfo {
  const owned: TensorInfo[] = [];
  try {
    return body((t) => (owned.push(t), t));
  } finally {
    for (const t of owned) backend.disposeData(t.dataId);
  }
}

function stride1Conv(dy: TensorInfo, g: Float32Array, gShape: number[], pads: [number, number, number, number],
  backend: WasmBackendRW, keep: (t: TensorInfo) => TensorInfo): TensorInfo {
  const filter = keep({ dataId: backend.write(g, gShape, 'float32'), shape: gShape, dtype: 'float32' });
  return keep(runWasmKernel('Conv2D', { x: dy, filter }, backend, {
    strides: [1, 1],
    dilations: [1, 1],
    pad: [[0, 0], [pads[0], pads[1]], [pads[2], pads[3]], [0, 0]],
    dataFormat: 'NHWC',
  } as unknown as NamedAttrMap));
}

/** [N, fullH, fullW, C] → dx [N, H, W, C], starting at row cropH, column cropW (a reshape when nothing is cut). */
function cropTo(y: TensorInfo, g: Geometry, fullH: number, fullW: number, cropH: number, cropW: number,
  backend: WasmBackendRW, keep: (t: TensorInfo) => TensorInfo): TensorInfo {
  const { batch, inH, inW, inC } = g;
  if (cropH === 0 && cropW === 0 && fullH === inH && fullW === inW) {
    return runWasmKernel('Reshape', { x: y }, backend, { shape: [batch, inH, inW, inC] });
  }
  // As rank 3, so that wasm's Slice copies runs of W·C values rather than C.
  const rows = keep(runWasmKernel('Reshape', { x: y }, backend, { shape: [batch, fullH, fullW * inC] }));
  const cut = keep(runWasmKernel('Slice', { x: rows }, backend,
    { begin: [0, cropH, cropW * inC], size: [batch, inH, inW * inC] }));
  return runWasmKernel('Reshape', { x: cut }, backend, { shape: [batch, inH, inW, inC] });
}

/** All s_h·s_w phases in one conv, interleaved with one transpose, then cropped. Handles every geometry. */
function combined(dy: TensorInfo, w: Float32Array, g: Geometry, backend: WasmBackendRW): TensorInfo {
  const { batch, inC, outC, kH, kW, sH, sW } = g;
  const h = combinedAxis(kH, sH, g.padTop, g.inH, g.outH);
  const c = combinedAxis(kW, sW, g.padLeft, g.inW, g.outW);
  const range = (n: number): number[] => [...Array(n).keys()];
  const filter = flippedPhases(w, kH, kW, inC, outC, sH, sW, range(sH), range(sW), h.taps, c.taps);
  return scoped(backend, (keep) => {
    let y = stride1Conv(dy, filter, [h.taps, c.taps, outC, sH * sW * inC],
      [h.padBefore, h.padAfter, c.padBefore, c.padAfter], backend, keep); // [N, M_h, M_w, (r_h, r_w, ci)]
    if (sH > 1) {
      // [N·M_h, M_w, s_h, s_w·Cin] → [N·M_h, s_h, M_w, s_w·Cin]: a depth-to-space, as one rank-4 transpose.
      // (With s_h = 1 the channels (r_w, ci) are already in place: [N, M_h, M_w·s_w, Cin] is a reshape.)
      const split = keep(runWasmKernel('Reshape', { x: y }, backend, { shape: [batch * h.rows, c.rows, sH, sW * inC] }));
      y = keep(runWasmKernel('Transpose', { x: split }, backend, { perm: [0, 2, 1, 3] }));
    }
    return cropTo(y, g, h.rows * sH, c.rows * sW, h.crop, c.crop, backend, keep);
  });
}

/**
 * One conv per phase (a, b) with exactly its taps, each giving dx[:, a::s_h, b::s_w, :] (⌈H/s_h⌉ × ⌈W/s_w⌉, the
 * excess cropped at the end); concatenated and interleaved with one transpose.
 */
function perPhase(dy: TensorInfo, w: Float32Array, g: Geometry, rowPhases: PhaseAxis[], colPhases: PhaseAxis[],
  backend: WasmBackendRW): TensorInfo {
  const { batch, inC, outC, kH, kW, sH, sW } = g;
  const rows = Math.ceil(g.inH / sH);
  const cols = Math.ceil(g.inW / sW);
  return scoped(backend, (keep) => {
    const parts: TensorInfo[] = [];
    for (const a of rowPhases) {
      for (const b of colPhases) {
        const filter = flippedPhases(w, kH, kW, inC, outC, sH, sW, [a.r], [b.r], a.taps, b.taps);
        const y = stride1Conv(dy, filter, [a.taps, b.taps, outC, inC],
          [a.padBefore, a.padAfter, b.padBefore, b.padAfter], backend, keep); // [N, rows, cols, Cin]
        parts.push(keep(runWasmKernel('Reshape', { x: y }, backend, { shape: [batch * rows, 1, cols * inC] })));
      }
    }
    // [N·rows, (a, b), cols·Cin], in runs of cols·Cin values.
    let y = keep(runWasmKernel('Concat', parts as unknown as Record<string, TensorInfo>, backend, { axis: 1 }));
    if (sW > 1) {
      // [N·rows·s_h, s_w, cols, Cin] → [N·rows·s_h, cols, s_w, Cin]
      const split = keep(runWasmKernel('Reshape', { x: y }, backend, { shape: [batch * rows * sH, sW, cols, inC] }));
      y = keep(runWasmKernel('Transpose', { x: split }, backend, { perm: [0, 2, 1, 3] }));
    }
    return cropTo(y, g, rows * sH, cols * sW, 0, 0, backend, keep);
  });
}

/** The fast path, or undefined where it does not apply. */
function backpropInput(dy: TensorInfo, filter: TensorInfo, attrs: BackpropInputAttrs, backend: WasmBackendRW):
  TensorInfo | undefined {
  const g = geometry(dy, filter, attrs);
  if (g === undefined) return undefined;
  const w = backend.readSync(filter.dataId);
  if (!(w instanceof Float32Array)) return undefined;
  const method = conv2DBackpropInputMethod.use;
  if (method !== 'combined' && g.sH * g.sW > 1 && (method === 'phases' || g.inC >= MIN_PHASE_CHANNELS)) {
    const rowPhases = phaseAxes(g.kH, g.sH, g.padTop, g.inH, g.outH);
    const colPhases = phaseAxes(g.kW, g.sW, g.padLeft, g.inW, g.outW);
    if (rowPhases !== undefined && colPhases !== undefined) return perPhase(dy, w, g, rowPhases, colPhases, backend);
  }
  return combined(dy, w, g, backend);
}

function wrap(original: KernelFunc): KernelFunc {
  const wrapped: KernelFunc = (args) => {
    const { inputs, backend, attrs = {} } = args;
    const { dy, filter } = inputs as { dy?: TensorInfo; filter?: TensorInfo };
    if (dy !== undefined && filter !== undefined) {
      const out = backpropInput(dy, filter, attrs as unknown as BackpropInputAttrs, backend as unknown as WasmBackendRW);
      if (out !== undefined) return out;
    }
    return original(args);
  };
  return wrapped;
}

/**
 * Replaces wasm's Conv2DBackpropInput with the sub-pixel wrapper. Returns the kernel names patched now (empty
 * when already patched, or when wasm has no such kernel). Keeps the original's setup/dispose hooks, so a
 * re-initialised backend still sets up the wasm function the fallback calls.
 */
export function patchConv2DBackpropInput(): string[] {
  return replaceWasmKernel('Conv2DBackpropInput', PATCHED, wrap) ? ['Conv2DBackpropInput'] : [];
}
