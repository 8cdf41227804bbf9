/** PGGAN settings for tests: the paper's optimizer values, no timers (checkpoints, metrics), and the test's own. */
import { GUARD_DEFAULTS, pgganSettingsSchema, type PgganSettings } from '../../trainer/pggan/settings.ts';

export function testPgganSettings(own: Partial<PgganSettings> & Pick<PgganSettings, 'arch' | 'levels'>): PgganSettings {
  return pgganSettingsSchema.parse({
    trainer: 'pggan',
    data: 'memory',
    seed: 7,
    loss: 'wgan-gp',
    lambdaGp: 10,
    r1Every: 16,
    augment: [],
    drift: 0.001,
    beta1: 0,
    beta2: 0.99,
    epsilon: 1e-8,
    lrScaleG: 1,
    lrScaleD: 1,
    mbstdGroup: 4,
    mirror: false,
    invert: false,
    checkpointEveryKimg: 0,
    checkpointEveryMinutes: 0,
    metricsEveryKimg: 0,
    guard: { ...GUARD_DEFAULTS },
    ...own,
  });
}
