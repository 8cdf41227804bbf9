/**
 * Zero gradients for comparison and logical ops, so second-order gradients (WGAN-GP, R1 penalties) work.
 *
 * The first-order gradients of leakyRelu, prelu, maximum, minimum and relu6 build masks with Greater, Less or
 * LessEqual, and tfjs registers no gradient for those. Differentiating that first-order gradient again (a
 * gradient penalty) walks back through the mask and fails with "gradient function not found for Greater".
 * A comparison is piecewise constant, so its gradient is zero wherever it exists; that is what we register.
 * GreaterEqual has a real one in tfjs (zeros too); it is only filled in where none is registered.
 *
 * clipByValue's gradient masks with LogicalAnd, and Select's (used by leakyRelu's) with LogicalNot, so the
 * logical ops get zero gradients too. Step, Sign, Cast, Select, ZerosLike and OnesLike have gradients already.
 *
 * Checked second order, through conv2d, on tfjs 4.22: relu, abs, leakyRelu, prelu, selu, maximum, minimum,
 * relu6, clipByValue, where, sign, sigmoid, tanh, softplus and moments-based normalisation all work with these.
 * Still without a second derivative (they need real gradients, not zeros): elu (EluGrad), avgPool (AvgPoolGrad),
 * maxPool (MaxPoolGrad), resizeNearestNeighbor/resizeBilinear (their Grad kernels), and tile above rank 4.
 *
 * Gradients are global in tfjs (not per backend), so this helps every backend, tfjs-node included.
 */
import { getGradient, registerGradient, zeros, type GradConfig, type Tensor } from '@tensorflow/tfjs-core';

/** Kernels whose output is piecewise constant in their inputs, with their input names. */
export const ZERO_GRADIENT_KERNELS: Readonly<Record<string, readonly string[]>> = {
  Greater: ['a', 'b'],
  GreaterEqual: ['a', 'b'],
  Less: ['a', 'b'],
  LessEqual: ['a', 'b'],
  Equal: ['a', 'b'],
  NotEqual: ['a', 'b'],
  LogicalAnd: ['a', 'b'],
  LogicalOr: ['a', 'b'],
  LogicalNot: ['x'],
};

function zeroGradient(kernelName: string, inputNames: readonly string[]): GradConfig {
  return {
    kernelName,
    inputsToSave: [...inputNames],
    // The tape wants a float32 gradient of each input's shape, whatever the input's dtype (bool, int32).
    gradFunc: (_dy, saved) =>
      Object.fromEntries(
        inputNames.map((name, i) => {
          const input: Tensor | undefined = saved[i];
          if (input === undefined) throw new Error(`zero gradient for ${kernelName}: input '${name}' was not saved`);
          return [name, () => zeros(input.shape, 'float32')];
        }),
      ),
  };
}

/**
 * Registers the zero gradients that tfjs lacks; never overrides one that is registered. Idempotent.
 * Returns the kernel names registered by this call.
 */
export function registerComparisonGradients(): string[] {
  const registered: string[] = [];
  for (const [kernelName, inputNames] of Object.entries(ZERO_GRADIENT_KERNELS)) {
    if (getGradient(kernelName) !== undefined) continue;
    registerGradient(zeroGradient(kernelName, inputNames));
    registered.push(kernelName);
  }
  return registered;
}
