/**
 * Architectures are data: a checkpoint's manifest carries one, validated with these schemas, and the
 * tfjs forward pass and the ONNX exporter are both built from it.
 */
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const powerOfTwo = (min: number, max: number) =>
  positiveInt.refine((n) => n >= min && n <= max && (n & (n - 1)) === 0, {
    message: `must be a power of two between ${min} and ${max}`,
  });

export const pgganArchSchema = z
  .object({
    kind: z.literal('pggan'),
    latentSize: positiveInt,
    channels: z.union([z.literal(1), z.literal(3)]),
    maxResolution: powerOfTwo(4, 1024),
    /** Feature maps per resolution level: widths[0] at 4², widths[1] at 8², … */
    widths: z.array(positiveInt).min(1),
  })
  .refine((a) => a.widths.length === Math.log2(a.maxResolution) - 1, {
    message: 'widths needs one entry per resolution level from 4² up to maxResolution',
    path: ['widths'],
  });
export type PgganArch = z.infer<typeof pgganArchSchema>;

export const infoganArchSchema = z
  .object({
    kind: z.literal('infogan'),
    size: positiveInt,
    channels: z.union([z.literal(1), z.literal(3)]),
    noise: z.number().int().nonnegative(),
    categorical: z.array(z.number().int().min(2)),
    continuous: z.number().int().nonnegative(),
    /** Units of the first dense layer; 0 skips it (latent goes straight to the start grid). */
    fcUnits: z.number().int().nonnegative(),
    startResolution: positiveInt,
    /** widths[0] at startResolution, then one per transposed conv before the last (which outputs `channels`). */
    widths: z.array(positiveInt).min(1),
  })
  .refine((a) => a.startResolution * 2 ** a.widths.length === a.size, {
    message: 'startResolution × 2^widths.length must equal size (each transposed conv doubles the size)',
    path: ['widths'],
  })
  .refine((a) => a.noise + a.categorical.reduce((s, c) => s + c, 0) + a.continuous > 0, {
    message: 'the latent needs at least one of noise, categorical or continuous',
    path: ['noise'],
  });
export type InfoganArch = z.infer<typeof infoganArchSchema>;

export const archSchema = z.union([pgganArchSchema, infoganArchSchema]);
export type GeneratorArch = PgganArch | InfoganArch;

/** Where the generator is in progressive growing; other kinds are always at their full size. */
export interface Phase {
  resolution: number;
  /** Fade-in of the newest block: 0 = previous resolution's output (upsampled), 1 = new block only. */
  alpha: number;
}

export function latentSizeOf(arch: GeneratorArch): number {
  return arch.kind === 'pggan'
    ? arch.latentSize
    : arch.noise + arch.categorical.reduce((s, c) => s + c, 0) + arch.continuous;
}

export function fullPhase(arch: GeneratorArch): Phase {
  return { resolution: arch.kind === 'pggan' ? arch.maxResolution : arch.size, alpha: 1 };
}
