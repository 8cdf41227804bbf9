/** PGGAN settings for tests: seed 7, data in memory, the guard on with its defaults, and the test's own. */
import { GUARD_DEFAULTS, pgganSettingsWith, type PgganSettings } from '../../trainer/pggan/settings.ts';

export function testPgganSettings(own: Partial<PgganSettings> & Pick<PgganSettings, 'arch' | 'levels'>): PgganSettings {
  return pgganSettingsWith({ data: 'memory', seed: 7, guard: { ...GUARD_DEFAULTS }, ...own });
}
