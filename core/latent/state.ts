/**
 * The latent state every model kind is driven by: free noise, soft weights per categorical code (one-hot, or
 * a crossfade between categories) and continuous codes. `toVector` lays it out as the generator's input,
 * exactly in LatentSpec order: noise | one block per categorical code | continuous. PGGAN and bring-your-own
 * ONNX models have noise only (empty `categorical`, empty `continuous`).
 */
import { z } from 'zod';
import type { LatentSpec } from '../checkpoint/manifest.ts';
import { describeZodError } from '../checkpoint/manifest.ts';
import { RhodopsError } from '../errors.ts';
import { numberList } from '../number-list.ts';
import { gaussianArray, rng } from '../random.ts';

export interface LatentState {
  noise: Float32Array;
  /** Soft weights per categorical code, each ≥ 0 and summing to 1. */
  categorical: Float32Array[];
  continuous: Float32Array;
}

/** The shape of a state: what a LatentSpec says about where entries go. */
export type LatentLayout = Pick<LatentSpec, 'noise' | 'categorical' | 'continuous'>;

/** How far a categorical code's weights may sum from 1 in JSON (float32 round trips, hand edits). */
export const WEIGHT_SUM_TOLERANCE = 1e-3;

export function layoutOf(state: LatentState): LatentLayout {
  return { noise: state.noise.length, categorical: state.categorical.map((c) => c.length), continuous: state.continuous.length };
}

/** "62 noise + categorical [10] + 2 continuous"; "512 noise". */
export function describeLayout(layout: LatentLayout): string {
  const parts = [`${layout.noise} noise`];
  if (layout.categorical.length > 0) parts.push(`categorical [${layout.categorical.join(', ')}]`);
  if (layout.continuous > 0) parts.push(`${layout.continuous} continuous`);
  return parts.join(' + ');
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Every way layout `got` differs from `want`, one phrase each ("categorical code 0 has 10 values, the model's
 * has 4"): the one comparison of layouts (states, presets, session logs). `theirs` names the owner of `want` as
 * a possessive, `ours` the owner of `got`.
 */
export function layoutMismatches(got: LatentLayout, want: LatentLayout, theirs = "the model's", ours = 'the state'): string[] {
  const out: string[] = [];
  if (got.noise !== want.noise) out.push(`the noise has ${plural(got.noise, 'value')}, ${theirs} has ${want.noise}`);
  if (got.categorical.length !== want.categorical.length) {
    out.push(`${ours} has ${plural(got.categorical.length, 'categorical code')}, ${theirs} latent has ${want.categorical.length}`);
  }
  const shared = Math.min(got.categorical.length, want.categorical.length);
  for (let i = 0; i < shared; i++) {
    const g = got.categorical[i] as number;
    if (g !== want.categorical[i]) out.push(`categorical code ${i} has ${plural(g, 'value')}, ${theirs} has ${want.categorical[i]}`);
  }
  if (got.continuous !== want.continuous) {
    out.push(`${ours} has ${plural(got.continuous, 'continuous code')}, ${theirs} latent has ${want.continuous}`);
  }
  return out;
}

/** Throws LATENT_SHAPE_MISMATCH naming every difference when `state` does not fit `spec`. */
export function checkState(spec: LatentLayout, state: LatentState, what = 'the latent state'): void {
  const problems = layoutMismatches(layoutOf(state), spec);
  if (problems.length > 0) {
    throw new RhodopsError('LATENT_SHAPE_MISMATCH', `${what} does not fit the model's latent (${describeLayout(spec)}): ${problems.join('; ')}.`, {
      hint: 'use presets and latents made for this model, or for a model with the same latent layout',
    });
  }
}

/** Throws LATENT_SHAPE_MISMATCH when two states have different layouts (they cannot be mixed). */
export function checkSameLayout(a: LatentState, b: LatentState, what: string): void {
  const problems = layoutMismatches(layoutOf(b), layoutOf(a), "the first state's");
  if (problems.length > 0) {
    throw new RhodopsError('LATENT_SHAPE_MISMATCH', `${what}: the states have different latent layouts: ${problems.join('; ')}.`, {
      hint: 'mix only states made for the same model',
    });
  }
}

function layoutSize(layout: LatentLayout): number {
  return layout.noise + layout.categorical.reduce((s, c) => s + c, 0) + layout.continuous;
}

/** The generator input for `state`: noise | categorical weights | continuous. Writes into `out` when given. */
export function toVector(spec: LatentLayout, state: LatentState, out?: Float32Array): Float32Array {
  checkState(spec, state);
  const size = layoutSize(spec);
  if (out !== undefined && out.length !== size) {
    throw new RhodopsError('LATENT_SHAPE_MISMATCH', `toVector: the output buffer holds ${out.length} values, the latent has ${size}.`, {
      hint: 'pass a buffer of the latent size, or none',
    });
  }
  const v = out ?? new Float32Array(size);
  v.set(state.noise, 0);
  let offset = state.noise.length;
  for (const weights of state.categorical) {
    v.set(weights, offset);
    offset += weights.length;
  }
  v.set(state.continuous, offset);
  return v;
}

/** The state a generator input encodes (categorical blocks are taken as they are: one-hot or soft). */
export function fromVector(spec: LatentLayout, vector: Float32Array): LatentState {
  const size = layoutSize(spec);
  if (vector.length !== size) {
    throw new RhodopsError('LATENT_SHAPE_MISMATCH', `A latent vector of ${vector.length} values does not fit the model's latent (${describeLayout(spec)}, ${size} values).`, {
      hint: 'use latents made for this model',
    });
  }
  const noise = vector.slice(0, spec.noise);
  let offset = spec.noise;
  const categorical = spec.categorical.map((k) => {
    const w = vector.slice(offset, offset + k);
    offset += k;
    return w;
  });
  return { noise, categorical, continuous: vector.slice(offset, offset + spec.continuous) };
}

/** A one-hot block of `size` with `value` set. */
export function oneHot(size: number, value: number): Float32Array {
  const w = new Float32Array(size);
  w[value] = 1;
  return w;
}

/**
 * A fresh state: noise ~ N(0, 1) (or U(-1, 1) when spec.distribution is 'uniform') from `seed`, every
 * categorical code one-hot at value 0, continuous codes 0. For a normal latent the noise equals the first
 * row `gaussianArray` draws from the same seed.
 */
export function randomState(spec: LatentLayout & { distribution?: LatentSpec['distribution'] }, seed: number): LatentState {
  let noise: Float32Array;
  if ((spec.distribution ?? 'normal') === 'uniform') {
    const r = rng(seed);
    noise = new Float32Array(spec.noise);
    for (let i = 0; i < noise.length; i++) noise[i] = r() * 2 - 1;
  } else {
    noise = gaussianArray(spec.noise, seed);
  }
  return { noise, categorical: spec.categorical.map((k) => oneHot(k, 0)), continuous: new Float32Array(spec.continuous) };
}

export function cloneState(state: LatentState): LatentState {
  return {
    noise: Float32Array.from(state.noise),
    categorical: state.categorical.map((c) => Float32Array.from(c)),
    continuous: Float32Array.from(state.continuous),
  };
}

/**
 * The largest magnitude of a noise or continuous value in a state from outside (a page, a preset, a session log).
 * A standard normal never comes near it, and float32 arithmetic on it (norms, truncation) cannot overflow:
 * `1e308` is finite in JSON but Infinity in a Float32Array, and a non-finite latent makes black frames.
 */
export const LATENT_VALUE_MAX = 100;

/** The JSON form of a state (presets, the control protocol and session logs store it), with bounded sizes and values. */
export const latentStateJsonSchema = z.object({
  // Lengths far past any model's (a message's size caps what the network can send anyway).
  noise: numberList({ max: 1 << 18, lo: -LATENT_VALUE_MAX, hi: LATENT_VALUE_MAX }),
  /** Soft weights per categorical code (one-hot or a mix), each ≥ 0 and summing to 1 (stateFromJson says which is not). */
  categorical: z.array(numberList({ max: 4096, lo: -LATENT_VALUE_MAX, hi: LATENT_VALUE_MAX })).max(64),
  continuous: numberList({ max: 1024, lo: -LATENT_VALUE_MAX, hi: LATENT_VALUE_MAX }),
});
export type LatentStateJson = z.infer<typeof latentStateJsonSchema>;

/** Plain arrays; float32 values are exact in JSON, so stateFromJson(stateToJson(s)) equals s. */
export function stateToJson(state: LatentState): LatentStateJson {
  return {
    noise: Array.from(state.noise),
    categorical: state.categorical.map((c) => Array.from(c)),
    continuous: Array.from(state.continuous),
  };
}

/**
 * A state from its JSON form, checked against `spec`: malformed JSON or weights that are negative or do not
 * sum to 1 (within WEIGHT_SUM_TOLERANCE) → LATENT_INVALID; a layout that is not the model's →
 * LATENT_SHAPE_MISMATCH naming each difference. Weights further than 1e-6 from summing to 1 are renormalised. `source` names
 * where the JSON came from in messages ("preset 'dawn'").
 */
export function stateFromJson(spec: LatentLayout, json: unknown, source = 'the latent state'): LatentState {
  const parsed = latentStateJsonSchema.safeParse(json);
  if (!parsed.success) {
    throw new RhodopsError('LATENT_INVALID', `${source} is not a valid latent state: ${describeZodError(parsed.error)}.`, {
      hint: 'a latent state is { noise: number[], categorical: number[][], continuous: number[] }',
    });
  }
  const j = parsed.data;
  const got: LatentLayout = { noise: j.noise.length, categorical: j.categorical.map((c) => c.length), continuous: j.continuous.length };
  const problems = layoutMismatches(got, spec);
  if (problems.length > 0) {
    throw new RhodopsError('LATENT_SHAPE_MISMATCH', `${source} does not fit the model's latent (${describeLayout(spec)}): ${problems.join('; ')}.`, {
      hint: 'use presets and latents made for this model, or for a model with the same latent layout',
    });
  }
  const categorical = j.categorical.map((weights, i) => {
    const negative = weights.findIndex((w) => w < 0);
    if (negative >= 0) {
      throw new RhodopsError('LATENT_INVALID', `${source}: categorical code ${i} has weight ${weights[negative]} at value ${negative}; weights must be ≥ 0.`, {
        hint: 'each categorical code holds weights ≥ 0 that sum to 1 (one-hot, or a mix)',
      });
    }
    const sum = weights.reduce((s, w) => s + w, 0);
    if (Math.abs(sum - 1) > WEIGHT_SUM_TOLERANCE) {
      throw new RhodopsError('LATENT_INVALID', `${source}: categorical code ${i}'s weights sum to ${Number(sum.toPrecision(6))}; they must sum to 1.`, {
        hint: 'each categorical code holds weights ≥ 0 that sum to 1 (one-hot, or a mix)',
      });
    }
    // Float32 rounding leaves sums a few ulps from 1: keep those as they are, so JSON round trips are exact.
    return Float32Array.from(weights, (w) => (Math.abs(sum - 1) <= 1e-6 ? w : w / sum));
  });
  return { noise: Float32Array.from(j.noise), categorical, continuous: Float32Array.from(j.continuous) };
}
