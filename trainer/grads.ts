/** Gradients of a loss w.r.t. a network's variables, keyed by our parameter names (as Adam.apply takes them). */
import * as tf from '@tensorflow/tfjs-core';

/**
 * The loss `f` returns and its gradients w.r.t. the trainable variables of `vars`, keyed by parameter name.
 * Non-trainable ones (batchnorm statistics) and ones the loss does not reach (e.g. other resolutions') get
 * no entry. Like tf.variableGrads, the tensors are the caller's to dispose (the trainers run this in a tidy).
 */
export function gradsFor(f: () => tf.Scalar, vars: Record<string, tf.Variable>): { value: tf.Scalar; grads: Record<string, tf.Tensor> } {
  const trainable = Object.entries(vars).filter(([, v]) => v.trainable);
  const byId = new Map(trainable.map(([name, v]) => [v.name, name]));
  const { value, grads } = tf.variableGrads(f, trainable.map(([, v]) => v));
  const out: Record<string, tf.Tensor> = {};
  for (const [id, g] of Object.entries(grads)) out[byId.get(id)!] = g;
  return { value, grads: out };
}

/**
 * A scalar's value, read asynchronously: WebGPU in Node has no synchronous read-back (tfjs-backend-webgpu's
 * dataSync draws through an OffscreenCanvas), so the trainers read every loss this way, on every backend.
 */
export async function readScalar(t: tf.Tensor): Promise<number> {
  return (await t.data())[0]!;
}
