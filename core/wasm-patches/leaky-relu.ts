/**
 * leakyRelu on tfjs-backend-wasm, forward and backward, from Step and Multiply.
 *
 * wasm's LeakyRelu runs ≈ 15× slower than its Step kernel on the same tensor (4.8 against 0.34 ms for
 * Step + Multiply on 16×64×64×16), and tfjs's gradient builds a Greater mask (as slow), multiplies dy by α and
 * Selects between the two. At training sizes these are memory-bound passes worth ≈ 11 % of a 64² PGGAN step.
 *
 * - Forward: x · step(x, α), where step(x, α) is 1 for x > 0 and α elsewhere: bit-identical to α·x and x.
 * - Gradient: dy · step(x, α). Both ops have gradients, so the penalties' second-order gradients still work:
 *   Step's is zero (leakyRelu'' = 0 almost everywhere) and the product's gradient with respect to dy is the
 *   same mask. Gradients are global in tfjs, so the leaner one serves every backend.
 */
import {
  getGradient,
  mul,
  registerGradient,
  step,
  type KernelFunc,
  type NamedAttrMap,
  type Tensor,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { replaceWasmKernel, runWasmKernel, type WasmBackendLike } from './kernels.ts';

const PATCHED = Symbol.for('rhodops.wasmPatch.leakyRelu');
let fast = true;

/**
 * Whether the patched kernel and gradient run (the default) or tfjs's own: the training bench's "old
 * configuration" row measures what training cost before the patch, in the same run.
 */
export function setFastLeakyRelu(on: boolean): void {
  fast = on;
}
const alphaOf = (attrs: NamedAttrMap | undefined): number => Number((attrs as { alpha?: number } | undefined)?.alpha ?? 0.2);

/** Replaces wasm's LeakyRelu kernel for float32 inputs; returns whether it did now. */
export function patchLeakyRelu(): boolean {
  return replaceWasmKernel('LeakyRelu', PATCHED, (original): KernelFunc => ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x?: TensorInfo };
    if (!fast || x === undefined || x.dtype !== 'float32') return original({ inputs, backend, attrs });
    const wasm = backend as WasmBackendLike;
    const mask = runWasmKernel('Step', { x }, wasm, { alpha: alphaOf(attrs) });
    try {
      return runWasmKernel('Multiply', { a: x, b: mask }, wasm);
    } finally {
      wasm.disposeData(mask.dataId);
    }
  });
}

let gradientRegistered = false;

/** Replaces tfjs's LeakyRelu gradient once; returns whether this call did. */
export function registerLeakyReluGradient(): boolean {
  const tfjsGradient = getGradient('LeakyRelu');
  if (gradientRegistered || tfjsGradient === undefined) return false;
  registerGradient({
    kernelName: 'LeakyRelu',
    inputsToSave: ['x'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      if (!fast) return tfjsGradient.gradFunc(dy, saved, attrs);
      const [x] = saved;
      if (x === undefined || Array.isArray(dy)) throw new Error('LeakyRelu gradient: expects one dy and the saved x');
      return { x: () => mul(dy, step(x, alphaOf(attrs))) };
    },
  });
  gradientRegistered = true;
  return true;
}
