/**
 * The two losses a PGGAN run can train with.
 * WGAN-GP with the drift term, as in the PGGAN paper (Gulrajani et al. 2017; Karras et al. 2018, A.1):
 *   L_D = E[D(fake)] − E[D(real)] + λ E[(‖∇_x̂ D(x̂)‖₂ − 1)²] + ε E[D(real)²],  x̂ = real + u (fake − real), u ~ U(0, 1)
 *   L_G = −E[D(fake)]
 * The non-saturating logistic loss with a lazy R1 penalty, as StyleGAN2 (Mescheder et al. 2018; Karras et al. 2020):
 *   L_D = E[softplus(D(fake))] + E[softplus(−D(real))] + k · γ/2 E[‖∇_x D(real)‖₂²] (the penalty every k-th step only)
 *   L_G = E[softplus(−D(fake))]
 * Both penalties differentiate D with respect to its input inside the gradient of L_D with respect to D's
 * weights: a second-order gradient, which is why the critic is built from twice-differentiable ops only. The
 * lazy R1 pays for it one step in k, where WGAN-GP pays every step (about 70 % of a step's time).
 */
import * as tf from '@tensorflow/tfjs-core';

export type Critic = (images: tf.Tensor4D) => tf.Tensor2D;

/** Keeps the norm's gradient finite where ∇D is exactly zero (sqrt′(0) is infinite). */
const NORM_EPSILON = 1e-12;

/**
 * λ E[(‖∇_x̂ D(x̂)‖ − 1)²] on the per-sample interpolates x̂ = real + u (fake − real), `u` [N] in [0, 1).
 * Call it inside the function whose gradient with respect to D's weights is taken.
 */
export function gradientPenalty(critic: Critic, real: tf.Tensor4D, fake: tf.Tensor4D, u: tf.Tensor1D, lambda: number): tf.Scalar {
  const mixed = tf.add(real, tf.mul(tf.sub(fake, real), tf.reshape(u, [-1, 1, 1, 1]))) as tf.Tensor4D;
  // Σ_n D(x̂_n): each sample's score depends only on its own image, except through the minibatch-stddev
  // channel, which the official implementation differentiates through in the same way.
  const grad = tf.grad((x: tf.Tensor) => tf.sum(critic(x as tf.Tensor4D)))(mixed);
  const norms = tf.sqrt(tf.add(tf.sum(tf.square(grad), [1, 2, 3]), NORM_EPSILON));
  return tf.mul(tf.mean(tf.square(tf.sub(norms, 1))), lambda) as tf.Scalar;
}

export interface CriticLoss {
  total: tf.Scalar;
  /** E[D(real)] − E[D(fake)]: the critic's estimate of the Wasserstein distance. */
  wdist: tf.Scalar;
  gp: tf.Scalar;
  drift: tf.Scalar;
}

export function criticLoss(critic: Critic, real: tf.Tensor4D, fake: tf.Tensor4D, u: tf.Tensor1D, lambda: number, drift: number): CriticLoss {
  const dReal = critic(real);
  const dFake = critic(fake);
  const wdist = tf.sub(tf.mean(dReal), tf.mean(dFake)) as tf.Scalar;
  const gp = gradientPenalty(critic, real, fake, u, lambda);
  const driftTerm = tf.mul(tf.mean(tf.square(dReal)), drift) as tf.Scalar;
  return { total: tf.add(tf.sub(gp, wdist), driftTerm) as tf.Scalar, wdist, gp, drift: driftTerm };
}

export function generatorLoss(critic: Critic, fake: tf.Tensor4D): tf.Scalar {
  return tf.neg(tf.mean(critic(fake))) as tf.Scalar;
}

/** γ/2 E[‖∇_x D(real)‖²] on the real images, times `every` (it stands for the steps that skip it). */
export function r1Penalty(critic: Critic, real: tf.Tensor4D, gamma: number, every: number): tf.Scalar {
  const grad = tf.grad((x: tf.Tensor) => tf.sum(critic(x as tf.Tensor4D)))(real);
  return tf.mul(tf.mean(tf.sum(tf.square(grad), [1, 2, 3])), (gamma / 2) * every) as tf.Scalar;
}

/** The logistic critic loss; `r1` on the steps that pay the penalty, else null (its part is then 0). */
export function logisticCriticLoss(critic: Critic, real: tf.Tensor4D, fake: tf.Tensor4D, r1: { gamma: number; every: number } | null): CriticLoss {
  const dReal = critic(real);
  const dFake = critic(fake);
  const adversarial = tf.add(tf.mean(tf.softplus(dFake)), tf.mean(tf.softplus(tf.neg(dReal)))) as tf.Scalar;
  const wdist = tf.sub(tf.mean(dReal), tf.mean(dFake)) as tf.Scalar;
  const gp = r1 ? r1Penalty(critic, real, r1.gamma, r1.every) : tf.scalar(0);
  return { total: tf.add(adversarial, gp) as tf.Scalar, wdist, gp, drift: tf.scalar(0) };
}

export function logisticGeneratorLoss(critic: Critic, fake: tf.Tensor4D): tf.Scalar {
  return tf.mean(tf.softplus(tf.neg(critic(fake)))) as tf.Scalar;
}
