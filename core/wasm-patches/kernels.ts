/** What the wasm patches share: running wasm's own kernels directly, and replacing one kernel by a wrapper. */
import {
  backend_util,
  getKernel,
  registerKernel,
  unregisterKernel,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

/** The part of tfjs-backend-wasm's BackendWasm that the patches use. */
export interface WasmBackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
}

/** A conv's padding attribute, as tfjs passes it. */
export type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;

/** Runs one of wasm's registered kernels directly. Its output belongs to the caller (dispose or return it). */
export function runWasmKernel(
  kernelName: string,
  inputs: Record<string, TensorInfo>,
  backend: WasmBackendLike,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const kernel = getKernel(kernelName, 'wasm');
  if (kernel === undefined) {
    throw new Error(`wasm patch: kernel '${kernelName}' is not registered for 'wasm' (import @tensorflow/tfjs-backend-wasm first)`);
  }
  const out = kernel.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`wasm patch: kernel '${kernelName}' returned ${out.length} outputs, expected 1`);
  return out;
}

type MarkedKernelFunc = KernelFunc & { [marker: symbol]: true | undefined };

/**
 * Replaces wasm's `kernelName` by `wrap(original)`. The wrapper is marked with `marker`, so patching twice
 * (even from a second copy of a module) never wraps a wrapper. Returns whether it replaced anything now.
 */
export function replaceWasmKernel(kernelName: string, marker: symbol, wrap: (original: KernelFunc) => KernelFunc): boolean {
  const current = getKernel(kernelName, 'wasm');
  if (current === undefined || (current.kernelFunc as MarkedKernelFunc)[marker]) return false;
  const wrapped = wrap(current.kernelFunc) as MarkedKernelFunc;
  wrapped[marker] = true;
  unregisterKernel(kernelName, 'wasm');
  registerKernel({ ...current, kernelFunc: wrapped });
  return true;
}
