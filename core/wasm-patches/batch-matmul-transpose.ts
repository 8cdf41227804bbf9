/**
 * Fast transposed matmul on tfjs-backend-wasm. Its BatchMatMul (and _FusedMatMul) with transposeA/transposeB
 * run at 1–2 GFLOPS against ~24 without, and every dense layer's backward pass asks for a transposed operand.
 * The wrappers transpose that operand explicitly with wasm's Transpose kernel (cheap, O(size)) and call the
 * original kernel with both flags false. Results agree with tfjs-cpu to float rounding.
 *
 * The _FusedMatMul wrapper also works around a bias bug of wasm's for batched (rank-3, batch > 1) inputs.
 */
import {
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { replaceWasmKernel, runWasmKernel, type WasmBackendLike } from './kernels.ts';

/** Marks our wrappers so that patching twice (even from a second copy of this module) never wraps a wrapper. */
const PATCHED = Symbol.for('rhodops.wasmPatch.transposedMatMul');

/** Swaps the last two axes of a rank ≥ 2 tensor with wasm's Transpose kernel. */
function transposeLastTwo(t: TensorInfo, backend: WasmBackendLike): TensorInfo {
  const rank = t.shape.length;
  if (rank < 2) throw new Error(`transposed matMul (wasm patch): operand must be rank ≥ 2, got shape [${t.shape}]`);
  const perm = [...Array(rank).keys()];
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return runWasmKernel('Transpose', { x: t }, backend, { perm });
}

/**
 * wasm's _FusedMatMul adds the bias (and prelu weights) at wrong offsets when the batch dimension is above 1
 * (tfjs-backend-wasm 4.22.0; batch 1, which is what tfjs-layers' Dense uses, is right). For those calls, run the
 * plain product and add bias and activation with wasm's own kernels.
 */
function fusedUnfused(original: KernelFunc, a: TensorInfo, b: TensorInfo, inputs: Record<string, TensorInfo>,
  backend: WasmBackendLike, attrs: NamedAttrMap): TensorInfo {
  const { bias, preluActivationWeights } = inputs;
  const activation = String(attrs['activation'] ?? 'linear');
  let y = original({ inputs: { a, b }, backend, attrs: { ...attrs, activation: 'linear' } }) as TensorInfo;
  const then = (next: (x: TensorInfo) => TensorInfo): void => {
    const prev = y;
    try {
      y = next(prev);
    } finally {
      backend.disposeData(prev.dataId);
    }
  };
  if (bias !== undefined) then((x) => runWasmKernel('Add', { a: x, b: bias }, backend));
  switch (activation) {
    case 'linear':
      break;
    case 'relu':
      then((x) => runWasmKernel('Relu', { x }, backend));
      break;
    case 'relu6':
      then((x) => runWasmKernel('Relu6', { x }, backend));
      break;
    case 'elu':
      then((x) => runWasmKernel('Elu', { x }, backend));
      break;
    case 'sigmoid':
      then((x) => runWasmKernel('Sigmoid', { x }, backend));
      break;
    case 'leakyrelu':
      then((x) => runWasmKernel('LeakyRelu', { x }, backend, { alpha: Number(attrs['leakyreluAlpha'] ?? 0.2) }));
      break;
    case 'prelu':
      if (preluActivationWeights === undefined) throw new Error('_FusedMatMul (wasm patch): prelu without weights');
      then((x) => runWasmKernel('Prelu', { x, alpha: preluActivationWeights }, backend));
      break;
    default:
      backend.disposeData(y.dataId);
      throw new Error(`_FusedMatMul (wasm patch): activation '${activation}' is not supported`);
  }
  return y;
}

function wrap(kernelName: string, original: KernelFunc): KernelFunc {
  const wrapped: KernelFunc = ({ inputs, backend, attrs = {} }) => {
    const wasm = backend as WasmBackendLike;
    const { a, b } = inputs as { a?: TensorInfo; b?: TensorInfo };
    if (a === undefined || b === undefined) return original({ inputs, backend, attrs });
    const transposeA = attrs['transposeA'] === true;
    const transposeB = attrs['transposeB'] === true;
    const batch = Math.max(a.shape[0] ?? 1, b.shape[0] ?? 1);
    const unfuse = kernelName === '_FusedMatMul' && a.shape.length === 3 && batch > 1 &&
      (inputs['bias'] !== undefined || inputs['preluActivationWeights'] !== undefined);
    if (!transposeA && !transposeB && !unfuse) return original({ inputs, backend, attrs });
    const owned: TensorInfo[] = [];
    try {
      const a2 = transposeA ? transposeLastTwo(a, wasm) : a;
      if (transposeA) owned.push(a2);
      const b2 = transposeB ? transposeLastTwo(b, wasm) : b;
      if (transposeB) owned.push(b2);
      const flat: NamedAttrMap = { ...attrs, transposeA: false, transposeB: false };
      if (unfuse) return fusedUnfused(original, a2, b2, inputs as Record<string, TensorInfo>, wasm, flat);
      return original({ inputs: { ...inputs, a: a2, b: b2 }, backend, attrs: flat });
    } finally {
      for (const t of owned) wasm.disposeData(t.dataId);
    }
  };
  return wrapped;
}

/**
 * Replaces wasm's BatchMatMul and _FusedMatMul with the wrappers. Returns the kernel names patched now
 * (empty when already patched). Keeps the originals' setup/dispose hooks, so a re-initialised backend still
 * sets up the wasm functions the originals call.
 */
export function patchTransposedMatMul(): string[] {
  return ['BatchMatMul', '_FusedMatMul'].filter((name) => replaceWasmKernel(name, PATCHED, (original) => wrap(name, original)));
}
