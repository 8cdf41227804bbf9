/**
 * Quality per wall-clock time: PGGAN runs of the same length of time on the same small dataset, WGAN-GP against
 * logistic-R1, each with and without DiffAugment, compared by the sliced Wasserstein distance (×1000, mean over
 * the pyramid levels) of their last measurement at the final resolution. Each run is stopped by the clock, as a
 * user's evening would stop it. Long (minutes per run): only with `--quality-minutes`.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openPack } from '../trainer/prepare/pack.ts';
import { runPggan } from '../trainer/pggan/run.ts';
import { PGGAN_DEFAULTS, pgganSettingsWith, type PgganLoss } from '../trainer/pggan/settings.ts';
import type { Augment } from '../trainer/pggan/diff-augment.ts';
import { resolutionsUpTo } from '../core/models/pggan.ts';
import { initBackend } from '../core/backend.ts';

export interface QualityRow {
  config: string;
  minutes: number;
  kimg: number;
  /** SWD ×1000 of the last measurement at the final resolution (null: it never got there). */
  swd: number | null;
  msssim: number | null;
  msssimReal: number | null;
}

export interface QualityBenchOptions {
  /** A packed dataset (a few hundred to a few thousand images). */
  data: string;
  minutes: number;
  /** Final resolution (≤ the pack's). */
  resolution?: number;
}

export async function benchPgganQuality(o: QualityBenchOptions, say: (m: string) => void): Promise<QualityRow[]> {
  const res = o.resolution ?? 32;
  await initBackend('wasm');
  const pack = await openPack(o.data);
  await pack.close();
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-bench-quality-'));
  const rows: QualityRow[] = [];
  const configs: { loss: PgganLoss; augment: Augment[] }[] = [
    { loss: 'wgan-gp', augment: [] },
    { loss: 'wgan-gp', augment: ['color', 'translation', 'cutout'] },
    { loss: 'logistic-r1', augment: [] },
    { loss: 'logistic-r1', augment: ['color', 'translation', 'cutout'] },
  ];
  try {
    for (const c of configs) {
      const name = `${c.loss}${c.augment.length ? ' + DiffAugment' : ''}`;
      say(`quality: ${name}, ${o.minutes} min on ${pack.count} images up to ${res}²…`);
      const widths = [64, 64, 64, 32, 16, 16].slice(0, resolutionsUpTo(res).length);
      const settings = pgganSettingsWith({
        arch: { kind: 'pggan', latentSize: 64, channels: 3, maxResolution: res, widths },
        data: o.data,
        // Short stages: the run reaches the final resolution early and spends the rest of its time there.
        levels: resolutionsUpTo(res).map((r) => ({ resolution: r, batch: 16, lr: PGGAN_DEFAULTS.lr, stabiliseKimg: r === res ? 1e6 : 2, transitionKimg: r === 4 ? 0 : 2 })),
        loss: c.loss,
        augment: c.augment,
        mirror: true,
        metricsEveryKimg: 1,
      });
      const out = path.join(tmp, name.replace(/\W+/g, '-'));
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(), o.minutes * 60_000);
      let kimg = 0;
      try {
        kimg = (await runPggan({ settings, out, resume: false, signal: stop.signal, threads: 'auto', samples: false })).kimg;
      } finally {
        clearTimeout(timer);
      }
      const metrics = (await fs.readFile(path.join(out, 'log.jsonl'), 'utf8'))
        .split('\n')
        .filter((l) => l.includes('"metrics"'))
        .map((l) => JSON.parse(l) as { res: number; swdMean: number; msssim: number | null; msssimReal: number | null })
        .filter((m) => m.res === res);
      const last = metrics.at(-1);
      rows.push({ config: name, minutes: o.minutes, kimg, swd: last?.swdMean ?? null, msssim: last?.msssim ?? null, msssimReal: last?.msssimReal ?? null });
      say(`  ${kimg.toFixed(1)} kimg; SWD ${last ? last.swdMean.toFixed(1) : '-'} at ${res}²; MS-SSIM ${last?.msssim?.toFixed(3) ?? '-'} (data ${last?.msssimReal?.toFixed(3) ?? '-'})`);
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  return rows;
}
