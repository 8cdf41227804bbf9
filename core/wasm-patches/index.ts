/**
 * Patches that make tfjs-backend-wasm able to train a conv GAN (docs/architecture.md, "Figures that chose the
 * design"):
 * - Conv2DBackpropFilter, which wasm lacks, built from wasm's own Transpose/Conv2D/Slice kernels;
 * - BatchMatMul/_FusedMatMul with transposed operands, transposed explicitly first (≈10× faster);
 * - Conv2DBackpropInput (conv2dTranspose, conv input gradients) as one XNNPACK Conv2D by sub-pixel decomposition;
 * - zero gradients for comparisons, so gradient penalties can differentiate leakyRelu and maximum twice;
 * - leakyRelu and its gradient from Step and Multiply (wasm's LeakyRelu and tfjs's Greater mask are slow).
 */
import { getKernel, registerKernel } from '@tensorflow/tfjs-core';
import { patchTransposedMatMul } from './batch-matmul-transpose.ts';
import { registerComparisonGradients } from './comparison-gradients.ts';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.ts';
import { patchLeakyRelu, registerLeakyReluGradient } from './leaky-relu.ts';
import { patchConv2DBackpropInput } from './conv2d-backprop-input.ts';

export { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.ts';
export { patchTransposedMatMul } from './batch-matmul-transpose.ts';
export { patchConv2DBackpropInput } from './conv2d-backprop-input.ts';
export { registerComparisonGradients, ZERO_GRADIENT_KERNELS } from './comparison-gradients.ts';
export { registerLeakyReluGradient, setFastLeakyRelu } from './leaky-relu.ts';

export interface WasmPatchReport {
  /** Kernels registered or replaced for 'wasm' by this call. */
  kernels: string[];
  /** Gradients registered by this call. */
  gradients: string[];
}

/** The wasm kernels the patches are built from; all ship with @tensorflow/tfjs-backend-wasm 4.x. */
const NEEDED = ['Transpose', 'Conv2D', 'Slice', 'Reshape', 'BatchMatMul', 'Step', 'Multiply'];

/**
 * Applies every patch once; later calls do nothing and report nothing. Call after
 * `@tensorflow/tfjs-backend-wasm` is imported (it registers the kernels the patches wrap), normally right
 * after `tf.setBackend('wasm')` and `tf.ready()`. A kernel tfjs already provides is never replaced, so a
 * future tfjs-backend-wasm with its own Conv2DBackpropFilter keeps it.
 */
export function applyWasmPatches(): WasmPatchReport {
  const missing = NEEDED.filter((name) => getKernel(name, 'wasm') === undefined);
  if (missing.length > 0) {
    throw new Error(
      `applyWasmPatches: wasm kernels ${missing.join(', ')} are not registered; import '@tensorflow/tfjs-backend-wasm' first`);
  }
  const kernels: string[] = [];
  if (getKernel('Conv2DBackpropFilter', 'wasm') === undefined) {
    registerKernel(conv2DBackpropFilterConfig);
    kernels.push('Conv2DBackpropFilter');
  }
  kernels.push(...patchTransposedMatMul());
  kernels.push(...patchConv2DBackpropInput());
  if (patchLeakyRelu()) kernels.push('LeakyRelu');
  const gradients = registerComparisonGradients();
  if (registerLeakyReluGradient()) gradients.push('LeakyRelu');
  return { kernels, gradients };
}
