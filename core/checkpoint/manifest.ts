/**
 * manifest.json: what a checkpoint is and how to drive it. Validated on every load; a bad field is
 * reported by its path ("latent.size: expected a positive integer") with the file's name.
 */
import { z } from 'zod';
import { archSchema } from '../models/arch.ts';

export const MANIFEST_FORMAT = 'rhodops-checkpoint';
export const MANIFEST_VERSION = 1;

export const latentSpecSchema = z.object({
  /** Total length of the generator's latent input. */
  size: z.number().int().positive(),
  /** Leading entries that are free noise. */
  noise: z.number().int().nonnegative(),
  /** One one-hot block per categorical code, in order, after the noise. */
  categorical: z.array(z.number().int().min(2)).default([]),
  /** Continuous codes, last. */
  continuous: z.number().int().nonnegative().default(0),
  /** How the noise part is sampled: PGGAN and most generators use a standard normal. */
  distribution: z.enum(['normal', 'uniform']).default('normal'),
});
export type LatentSpec = z.infer<typeof latentSpecSchema>;

export const outputSpecSchema = z.object({
  layout: z.enum(['NCHW', 'NHWC']),
  range: z.enum(['-1..1', '0..1']),
});
export type OutputSpec = z.infer<typeof outputSpecSchema>;

const fileRecordSchema = z.object({ bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

export const trainingStateSchema = z.object({
  step: z.number().int().nonnegative(),
  imagesSeen: z.number().int().nonnegative(),
  phase: z.object({ resolution: z.number().int().positive(), alpha: z.number().min(0).max(1) }).optional(),
});

export const manifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    version: z.literal(MANIFEST_VERSION),
    kind: z.enum(['pggan', 'infogan', 'onnx']),
    name: z.string().min(1),
    createdAt: z.string(),
    /** Width = height of generator.onnx's output. */
    resolution: z.number().int().positive(),
    channels: z.union([z.literal(1), z.literal(3)]),
    output: outputSpecSchema,
    latent: latentSpecSchema,
    onnx: z.object({ file: z.string().min(1), input: z.string().min(1), output: z.string().min(1) }),
    /** Architecture of our own models (absent for bring-your-own ONNX). */
    arch: archSchema.optional(),
    training: trainingStateSchema.optional(),
    dataset: z.record(z.string(), z.unknown()).optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    /** Sizes and hashes of the files written with the manifest, to catch truncation clearly. */
    files: z.record(z.string(), fileRecordSchema).default({}),
  })
  .superRefine((m, ctx) => {
    if (m.kind !== 'onnx' && !m.arch) ctx.addIssue({ code: 'custom', path: ['arch'], message: `required for kind '${m.kind}'` });
    if (m.arch && m.arch.kind !== m.kind) {
      ctx.addIssue({ code: 'custom', path: ['arch', 'kind'], message: `is '${m.arch.kind}' but the manifest's kind is '${m.kind}'` });
    }
    const total = m.latent.noise + m.latent.categorical.reduce((s, c) => s + c, 0) + m.latent.continuous;
    if (total !== m.latent.size) {
      ctx.addIssue({
        code: 'custom',
        path: ['latent', 'size'],
        message: `is ${m.latent.size} but noise + categorical + continuous add up to ${total}`,
      });
    }
  });
export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestInput = z.input<typeof manifestSchema>;

/** "latent.size: is 10 but …; arch.widths: …" — every problem, each with its field path. */
export function describeZodError(err: z.ZodError, maxIssues = Infinity): string {
  const shown = err.issues
    .slice(0, maxIssues)
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(top level)'}: ${i.message}`)
    .join('; ');
  const more = err.issues.length - Math.min(maxIssues, err.issues.length);
  return more > 0 ? `${shown}; and ${more} more` : shown;
}
