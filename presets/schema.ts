/**
 * The preset file format (version 1): what a VJ saved — model, latent state, smoothing, mapping
 * reference — as JSON. Every read is validated; a bad field is reported by its path with the file's name.
 */
import { z } from 'zod';
import { describeZodError, latentSpecSchema } from '../core/checkpoint/manifest.ts';
import { RhodopsError, messageOf } from '../core/errors.ts';
import { latentStateJsonSchema } from '../core/latent/state.ts';
import { layoutSize, stateIssues } from './layout.ts';
import { bankNameProblem, normalizeName, presetNameProblem } from './names.ts';

export const PRESET_VERSION = 1;
export const DEFAULT_BANK = 'default';

const bankName = z
  .string()
  .default(DEFAULT_BANK)
  .superRefine((bank, ctx) => {
    const problem = bankNameProblem(bank);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const presetName = z
  .string()
  .transform(normalizeName)
  .superRefine((name, ctx) => {
    const problem = presetNameProblem(name);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const presetModelSchema = z
  .object({
    /** The checkpoint's name. */
    id: z.string().min(1),
    kind: z.enum(['pggan', 'infogan', 'onnx']),
    latent: latentSpecSchema,
  })
  .superRefine((m, ctx) => {
    const total = layoutSize(m.latent);
    if (total !== m.latent.size) {
      ctx.addIssue({ code: 'custom', path: ['latent', 'size'], message: `is ${m.latent.size} but noise + categorical + continuous add up to ${total}` });
    }
  });

/** Smoothing settings in seconds and plain numbers; `timeConstant` always, others as the engine grows. */
export const smoothingSchema = z.object({ timeConstant: z.number().nonnegative() }).catchall(z.number());

export const presetSchema = z
  .object({
    version: z.literal(PRESET_VERSION),
    /** The display name, as the VJ typed it (trimmed, NFC); the file name is a slug of it. */
    name: presetName,
    /** One directory per bank; a bank name is its own directory name ("live-set"). */
    bank: bankName,
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    model: presetModelSchema,
    state: latentStateJsonSchema,
    smoothing: smoothingSchema.optional(),
    /** A reference to a mapping file; resolved (and contained) by whoever loads mappings. */
    mapping: z.string().min(1).max(1000).optional(),
    notes: z.string().max(10_000).optional(),
  })
  .superRefine((p, ctx) => {
    for (const issue of stateIssues(p.state, p.model.latent)) {
      ctx.addIssue({ code: 'custom', path: ['state', ...issue.path], message: issue.message });
    }
  });
export type Preset = z.output<typeof presetSchema>;
export type PresetInput = z.input<typeof presetSchema>;

/**
 * Validates parsed JSON as a preset. `file` names where it came from, for the message. A file from a
 * newer rhodops is reported as such rather than as a list of unknown fields.
 */
export function parsePreset(json: unknown, file: string): Preset {
  const version = typeof json === 'object' && json !== null ? (json as { version?: unknown }).version : undefined;
  if (typeof version === 'number' && version > PRESET_VERSION) {
    throw new RhodopsError('PRESET_INVALID', `${file} is a version ${version} preset; this rhodops reads version ${PRESET_VERSION}.`, {
      hint: 'Update rhodops to play it.',
    });
  }
  const r = presetSchema.safeParse(json);
  if (!r.success) {
    throw new RhodopsError('PRESET_INVALID', `${file}: ${describeZodError(r.error)}.`, {
      hint: 'Fix the named field(s) or remove the file; the format is in presets/schema.ts.',
    });
  }
  return r.data;
}

/** Parses the text of a preset file; truncated or non-JSON text names the file. */
export function parsePresetText(text: string, file: string): Preset {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RhodopsError('PRESET_INVALID', `${file} is not valid JSON: ${messageOf(e)}.`, {
      hint: 'The file was truncated or edited by hand; fix it or remove it.',
    });
  }
  return parsePreset(json, file);
}

/**
 * The file text: two-space indented, but arrays of numbers on one line each, so a 512-long latent is one
 * line and a soft categorical mix is one line per code.
 */
export function formatPreset(preset: Preset): string {
  return format(preset, '') + '\n';
}

function format(value: unknown, indent: string): string {
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'number')) return JSON.stringify(value);
    if (value.length === 0) return '[]';
    const inner = indent + '  ';
    return `[\n${value.map((v) => inner + format(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const inner = indent + '  ';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${format(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}
