/**
 * Latent layouts (noise · categorical codes · continuous codes) as a preset sees them: describe one,
 * compare two, check a stored state against one, and decide whether a preset can play on a model.
 * Pure functions; the store and the server call them.
 */
import type { LatentSpec } from '../core/checkpoint/manifest.ts';
import { RhodopsError } from '../core/errors.ts';
import { describeLayout, layoutMismatches, WEIGHT_SUM_TOLERANCE, type LatentLayout, type LatentStateJson } from '../core/latent/state.ts';

export { describeLayout, type LatentLayout, type LatentStateJson };

export function layoutSize(layout: LatentLayout): number {
  return layout.noise + layout.categorical.reduce((s, c) => s + c, 0) + layout.continuous;
}

export interface StateIssue {
  /** Field path inside the state, e.g. ['categorical', 1]. */
  path: (string | number)[];
  message: string;
}

/** Every way `state` does not fit `layout`, each with its path; empty when it fits. */
export function stateIssues(state: LatentStateJson, layout: LatentLayout): StateIssue[] {
  const issues: StateIssue[] = [];
  if (state.noise.length !== layout.noise) {
    issues.push({ path: ['noise'], message: `has ${state.noise.length} values; the latent takes ${layout.noise}` });
  }
  if (state.categorical.length !== layout.categorical.length) {
    issues.push({
      path: ['categorical'],
      message: `has ${state.categorical.length} codes; the latent has ${layout.categorical.length} (${JSON.stringify(layout.categorical)})`,
    });
  }
  state.categorical.forEach((weights, i) => {
    const want = layout.categorical[i];
    if (want !== undefined && weights.length !== want) {
      issues.push({ path: ['categorical', i], message: `has ${weights.length} weights; code ${i} has ${want} categories` });
    }
    const negative = weights.findIndex((w) => w < 0);
    if (negative >= 0) issues.push({ path: ['categorical', i, negative], message: `is ${weights[negative]}; weights must be ≥ 0` });
    const sum = weights.reduce((s, w) => s + w, 0);
    if (weights.length > 0 && Math.abs(sum - 1) > WEIGHT_SUM_TOLERANCE) {
      issues.push({ path: ['categorical', i], message: `weights sum to ${Number(sum.toPrecision(6))}; they must sum to 1` });
    }
  });
  if (state.continuous.length !== layout.continuous) {
    issues.push({ path: ['continuous'], message: `has ${state.continuous.length} values; the latent takes ${layout.continuous}` });
  }
  return issues;
}

/** The part of a preset that checkCompatible reads. */
export interface CompatibilityInput {
  name: string;
  model: { id: string; latent: LatentSpec };
  state: LatentStateJson;
}

export interface Compatibility {
  /** True when the preset was saved with another model (of the same layout): it plays, but may look different. */
  otherModel: boolean;
  /** Human-readable reasons to be careful; empty for a preset saved with this very model. */
  warnings: string[];
}

/**
 * Can `preset` play on a model whose latent is `spec` (named `modelId`, when known)? A different layout
 * throws PRESET_INCOMPATIBLE saying what differs; the same layout from another model is allowed and flagged.
 */
export function checkCompatible(preset: CompatibilityInput, spec: LatentSpec, modelId?: string): Compatibility {
  const saved = preset.model.latent;
  const current = modelId === undefined ? 'the current model' : `the current model ('${modelId}')`;
  const diffs = layoutMismatches(saved, spec, "the current model's", "the preset's latent");
  if (diffs.length > 0) {
    throw new RhodopsError(
      'PRESET_INCOMPATIBLE',
      `Preset '${preset.name}' is for a latent of ${describeLayout(saved)} (model '${preset.model.id}'); ` +
        `${current} takes ${describeLayout(spec)}: ${diffs.join('; ')}.`,
      { hint: 'Recall it with a model of that layout, or save a new preset for this model.' },
    );
  }
  const issues = stateIssues(preset.state, spec);
  if (issues.length > 0) {
    throw new RhodopsError(
      'PRESET_INCOMPATIBLE',
      `Preset '${preset.name}' holds a state that does not fit its latent of ${describeLayout(spec)}: ` +
        issues.map((i) => `state.${i.path.join('.')}: ${i.message}`).join('; ') + '.',
      { hint: 'Save the preset again from a running model.' },
    );
  }
  const warnings: string[] = [];
  const otherModel = modelId !== undefined && modelId !== preset.model.id;
  if (otherModel) {
    warnings.push(`Preset '${preset.name}' was saved with model '${preset.model.id}'; it plays on '${modelId}' (same latent layout) but may look different.`);
  }
  if (saved.distribution !== spec.distribution) {
    warnings.push(`Preset '${preset.name}' has ${saved.distribution} noise; ${current} samples ${spec.distribution} noise.`);
  }
  return { otherModel, warnings };
}
