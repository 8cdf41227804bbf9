/** PGGAN test material: settings (seed 7, data in memory, the guard on with its defaults, and the test's own) and a tiny pack. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { GUARD_DEFAULTS, pgganSettingsWith, type PgganSettings } from '../../trainer/pggan/settings.ts';
import { pack } from '../../trainer/prepare/pack.ts';

export function testPgganSettings(own: Partial<PgganSettings> & Pick<PgganSettings, 'arch' | 'levels'>): PgganSettings {
  return pgganSettingsWith({ data: 'memory', seed: 7, guard: { ...GUARD_DEFAULTS }, ...own });
}

/** Eight 8² images packed into `root`/pack (made once per `root`); returns the pack's folder. */
export async function tinyPack(root: string): Promise<string> {
  const images = path.join(root, 'images');
  const out = path.join(root, 'pack');
  await fs.mkdir(images, { recursive: true });
  for (let i = 0; i < 8; i++) {
    const px = Buffer.from(Array.from({ length: 8 * 8 * 3 }, (_, k) => (k * (i + 3) * 37) % 256));
    await sharp(px, { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(path.join(images, `i${i}.png`));
  }
  await pack({ input: images, out, progress: false });
  return out;
}
