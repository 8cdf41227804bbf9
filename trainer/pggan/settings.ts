/**
 * The settings of a PGGAN run (what the user configured) and its run state (what training and the collapse guard
 * have changed since), both stored in the checkpoint manifest so that --resume continues the same run.
 */
import { z } from 'zod';
import { pgganArchSchema } from '../../core/models/arch.ts';
import { resolutionsUpTo } from '../../core/models/pggan.ts';
import { AUGMENTS } from './diff-augment.ts';

export const PGGAN_LOSSES = ['wgan-gp', 'logistic-r1'] as const;
export type PgganLoss = (typeof PGGAN_LOSSES)[number];

export const levelSchema = z.object({
  resolution: z.number().int().positive(),
  batch: z.number().int().min(1).max(1024),
  lr: z.number().positive(),
  stabiliseKimg: z.number().nonnegative(),
  transitionKimg: z.number().nonnegative(),
});

/** What the guard changes when it rolls back: multipliers, applied from the current resolution on. */
export const remedySchema = z.object({
  /** Learning rate × this (G and D). */
  lr: z.number().positive().max(1),
  /** Gradient-penalty weight λ × this. */
  gp: z.number().positive(),
  /** Transition (fade-in) length × this. */
  fade: z.number().min(1),
});
export type Remedy = z.infer<typeof remedySchema>;

export const guardSettingsSchema = z.object({
  enabled: z.boolean(),
  /** Measure diversity after every this many steps. */
  everySteps: z.number().int().positive(),
  /** Collapse: generated diversity below this fraction of the real data's… */
  threshold: z.number().positive().max(1),
  /** …for this many consecutive measurements. */
  window: z.number().int().positive(),
  /** No verdicts before this many kimg: an untrained generator is not diverse yet. */
  warmupKimg: z.number().nonnegative(),
  /** Fixed latents (and real images) the diversity is measured on. */
  samples: z.number().int().min(4).max(512),
  remedy: remedySchema,
  /** Give up (stop, keeping the last healthy checkpoint) after this many rollbacks. */
  maxRollbacks: z.number().int().nonnegative(),
});
export type GuardSettings = z.infer<typeof guardSettingsSchema>;

export const pgganSettingsSchema = z
  .object({
    trainer: z.literal('pggan'),
    arch: pgganArchSchema,
    /** Packed dataset directory (`rhodops dataset pack`). */
    data: z.string().min(1),
    seed: z.number().int().nonnegative(),
    /** One per resolution from 4² to the final one. */
    levels: z.array(levelSchema).min(1),
    /** wgan-gp: the paper's; logistic-r1: StyleGAN2's, with the R1 penalty every `r1Every` steps. */
    loss: z.enum(PGGAN_LOSSES).default('wgan-gp'),
    /** WGAN-GP's λ, or R1's γ at 64² with a minibatch of 16 (scaled by res² ÷ minibatch, StyleGAN2-ADA's rule). */
    lambdaGp: z.number().nonnegative(),
    r1Every: z.number().int().positive().default(16),
    /** Differentiable augmentation of what the critic sees, real and generated alike (diff-augment.ts). */
    augment: z.array(z.enum(AUGMENTS)).default([]),
    drift: z.number().nonnegative(),
    beta1: z.number().min(0).max(1),
    beta2: z.number().min(0).max(1),
    epsilon: z.number().positive(),
    /** Per-network learning-rate multipliers on the level's rate (1 and 1 in the paper; 0 freezes a network). */
    lrScaleG: z.number().nonnegative(),
    lrScaleD: z.number().nonnegative(),
    mbstdGroup: z.number().int().positive(),
    mirror: z.boolean(),
    invert: z.boolean(),
    /** Train on grey versions of the images (as the seed's transfer run on a black-and-white dataset). */
    grayscale: z.boolean().default(false),
    /** The checkpoint whose G and D this run started from (transfer learning), if any. */
    from: z.string().optional(),
    /** FreezeD: the critic's blocks at this many of the highest resolutions (the image side) do not learn. */
    freezeD: z.number().int().nonnegative().default(0),
    /**
     * Half-life in kimg of G's moving average, which draws the samples, the metrics and the exported model
     * (0: none; they use the trained weights). Older runs without it get the default on resume.
     */
    emaKimg: z.number().nonnegative().default(10),
    /** Save every this many kimg (0: only at phase changes and at the end). */
    checkpointEveryKimg: z.number().nonnegative(),
    /** Save every this many minutes as well (0: by kimg only). */
    checkpointEveryMinutes: z.number().nonnegative().default(30),
    /** Measure SWD and MS-SSIM diversity every this many kimg (0: never); also at each phase change. */
    metricsEveryKimg: z.number().nonnegative().default(10),
    guard: guardSettingsSchema,
  })
  .superRefine((s, ctx) => {
    const want = resolutionsUpTo(s.arch.maxResolution);
    const got = s.levels.map((l) => l.resolution);
    if (want.join() !== got.join()) {
      ctx.addIssue({ code: 'custom', path: ['levels'], message: `must list resolutions ${want.join(', ')} in order, got ${got.join(', ')}` });
    }
  });
export type PgganSettings = z.infer<typeof pgganSettingsSchema>;

/** What changes as the run goes: saved beside the settings, restored on resume and on rollback. */
export const runStateSchema = z.object({
  /** The schedule in force: the settings' levels with remedies applied. */
  levels: z.array(levelSchema).min(1),
  lambdaGp: z.number().nonnegative(),
  /** Real images trained on (the schedule clock moves further when a remedy lengthens a fade in progress). */
  imagesShown: z.number().int().nonnegative(),
  /** Position in the endless shuffled stream of dataset images. */
  dataPos: z.number().int().nonnegative(),
  /** Stage whose Adam moments the saved state holds (Adam restarts at each stage, as in the official code). */
  adamStage: z.number().int(),
  rollbacks: z.number().int().nonnegative(),
  guard: z.object({
    /** Consecutive measurements below the threshold. */
    streak: z.number().int().nonnegative(),
    lastRatio: z.number().nullable(),
  }),
});
export type RunState = z.infer<typeof runStateSchema>;

/** Saved in manifest.settings: the settings plus the run state. */
export const savedSettingsSchema = z.object({ settings: pgganSettingsSchema, run: runStateSchema });
export type SavedSettings = z.infer<typeof savedSettingsSchema>;

export function initialRunState(s: PgganSettings): RunState {
  return {
    levels: s.levels.map((l) => ({ ...l })),
    lambdaGp: s.lambdaGp,
    imagesShown: 0,
    dataPos: 0,
    adamStage: -1,
    rollbacks: 0,
    guard: { streak: 0, lastRatio: null },
  };
}

/**
 * The paper's values (Karras et al. 2018, A.1): Adam lr 0.001, β1 0, β2 0.99, ε 1e-8; WGAN-GP λ 10 with drift
 * ε_drift 0.001; 800k images per transition and per stabilisation; minibatch 16 up to 128², then 14, 6, 3.
 */
export const PGGAN_DEFAULTS = {
  lr: 0.001,
  beta1: 0,
  beta2: 0.99,
  epsilon: 1e-8,
  lambdaGp: 10,
  /** R1's γ at 64² and a minibatch of 16 (StyleGAN2-ADA's 0.0002 · res² ÷ minibatch). */
  r1Gamma: 0.05,
  r1Every: 16,
  drift: 0.001,
  stabiliseKimg: 800,
  transitionKimg: 800,
  mbstdGroup: 4,
  emaKimg: 10,
  checkpointEveryKimg: 100,
  metricsEveryKimg: 10,
  checkpointEveryMinutes: 30,
} as const;

/**
 * Settings for a run made in code (benches, tests): the paper's optimizer and loss values, `loss`'s penalty
 * weight, nothing saved or measured on a timer and no guard, then `own`. Checked by the schema like any run's.
 */
export function pgganSettingsWith(own: Partial<PgganSettings> & Pick<PgganSettings, 'arch' | 'levels' | 'data'>): PgganSettings {
  const loss = own.loss ?? 'wgan-gp';
  return pgganSettingsSchema.parse({
    trainer: 'pggan',
    seed: 1,
    loss,
    lambdaGp: loss === 'wgan-gp' ? PGGAN_DEFAULTS.lambdaGp : PGGAN_DEFAULTS.r1Gamma,
    drift: PGGAN_DEFAULTS.drift,
    beta1: PGGAN_DEFAULTS.beta1,
    beta2: PGGAN_DEFAULTS.beta2,
    epsilon: PGGAN_DEFAULTS.epsilon,
    lrScaleG: 1,
    lrScaleD: 1,
    mbstdGroup: PGGAN_DEFAULTS.mbstdGroup,
    mirror: false,
    invert: false,
    checkpointEveryKimg: 0,
    checkpointEveryMinutes: 0,
    metricsEveryKimg: 0,
    guard: { ...GUARD_DEFAULTS, enabled: false },
    ...own,
  });
}

export function paperBatch(res: number): number {
  return res <= 128 ? 16 : res === 256 ? 14 : res === 512 ? 6 : 3;
}

export const GUARD_DEFAULTS: GuardSettings = {
  enabled: true,
  everySteps: 200,
  threshold: 0.5,
  window: 3,
  warmupKimg: 100,
  samples: 64,
  remedy: { lr: 0.5, gp: 1, fade: 1 },
  maxRollbacks: 3,
};

/** `lr:0.5,gp:2,fade:1.5` → a remedy; unnamed parts stay neutral (× 1). */
export function parseRemedy(text: string): Remedy {
  const out: Record<string, number> = { lr: 1, gp: 1, fade: 1 };
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [key, value, extra] = part.split(':');
    const v = Number(value);
    if (extra !== undefined || key === undefined || !(key in out) || value === undefined || !Number.isFinite(v)) {
      throw new RangeError(`'${part}' is not one of lr:X, gp:X, fade:X`);
    }
    out[key] = v;
  }
  return remedySchema.parse(out);
}

/** `16` (every resolution) or `4:32,8:32,64:8` (per resolution, the rest from `fallback`). */
export function parsePerResolution(text: string, resolutions: readonly number[], fallback: (res: number) => number): Map<number, number> {
  const out = new Map(resolutions.map((r) => [r, fallback(r)]));
  const trimmed = text.trim();
  if (/^[^:,]+$/.test(trimmed)) {
    const v = Number(trimmed);
    if (!Number.isFinite(v)) throw new RangeError(`'${text}' is not a number`);
    for (const r of resolutions) out.set(r, v);
    return out;
  }
  for (const part of trimmed.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [res, value, extra] = part.split(':');
    const r = Number(res);
    const v = Number(value);
    if (extra !== undefined || !out.has(r) || value === undefined || !Number.isFinite(v)) {
      throw new RangeError(`'${part}' is not RES:VALUE with RES one of ${resolutions.join(', ')}`);
    }
    out.set(r, v);
  }
  return out;
}
