/** The settings of a training run, stored in the checkpoint manifest so --resume continues the same run. */
import { z } from 'zod';
import { infoganArchSchema } from '../../core/models/arch.ts';

export const infoganSettingsSchema = z.object({
  trainer: z.literal('infogan'),
  arch: infoganArchSchema,
  disc: z.object({
    widths: z.array(z.number().int().positive()),
    fcUnits: z.number().int().positive(),
    qUnits: z.number().int().positive(),
    learnVariance: z.boolean(),
  }),
  batch: z.number().int().min(2).max(4096),
  lrD: z.number().positive(),
  lrG: z.number().positive(),
  beta1: z.number().min(0).max(1),
  beta2: z.number().min(0).max(1),
  lambdaCat: z.number().nonnegative(),
  lambdaCont: z.number().nonnegative(),
  seed: z.number().int().nonnegative(),
  epochs: z.number().int().positive(),
  data: z.string().min(1),
  /** The checkpoint whose G, D and Q this run started from (transfer learning), if any. */
  from: z.string().optional(),
  /** FreezeD: this many of the critic's first conv layers (the image side) do not learn. */
  freezeD: z.number().int().nonnegative().default(0),
});
export type InfoganSettings = z.infer<typeof infoganSettingsSchema>;

/** Optimiser and mutual-information defaults from the InfoGAN paper (MNIST): Adam β1 = 0.5, D 2e-4, G 1e-3. */
export const INFOGAN_DEFAULTS = { lrD: 2e-4, lrG: 1e-3, beta1: 0.5, beta2: 0.999, lambdaCat: 1, lambdaCont: 0.1 } as const;
