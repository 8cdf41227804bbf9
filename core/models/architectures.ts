/**
 * Named architectures. PGGAN widths follow docs/architecture.md's measured presets: `full` is the paper
 * (512 up to 32², then halving), `mid` keeps 256 up to 16² then halves, `narrow` halves from 16².
 */
import type { InfoganArch, PgganArch } from './arch.ts';
import { RhodopsError } from '../errors.ts';

export const PGGAN_WIDTH_PRESETS = ['full', 'mid', 'narrow'] as const;
export type PgganWidthPreset = (typeof PGGAN_WIDTH_PRESETS)[number];

function widthAt(preset: PgganWidthPreset, res: number): number {
  switch (preset) {
    case 'full':
      return Math.min(512, 16384 / res);
    case 'mid':
      return Math.max(8, Math.min(256, 4096 / res));
    case 'narrow':
      return Math.max(8, Math.min(256, 2048 / res));
  }
}

export function pgganArch(
  preset: PgganWidthPreset,
  maxResolution: number,
  opts: { channels?: 1 | 3; latentSize?: number } = {},
): PgganArch {
  if (!PGGAN_WIDTH_PRESETS.includes(preset)) {
    throw new RhodopsError('BAD_OPTION', `Unknown PGGAN width preset '${String(preset)}'.`, {
      hint: `Use one of: ${PGGAN_WIDTH_PRESETS.join(', ')}.`,
    });
  }
  const widths: number[] = [];
  for (let r = 4; r <= maxResolution; r *= 2) widths.push(widthAt(preset, r));
  return {
    kind: 'pggan',
    latentSize: opts.latentSize ?? widths[0]!,
    channels: opts.channels ?? 3,
    maxResolution,
    widths,
  };
}

/** InfoGAN per Chen et al. 2016 for 28² (MNIST), grown with more transposed convs for 32² and 64². */
export function infoganArch(
  size: 28 | 32 | 64,
  opts: { channels?: 1 | 3; noise?: number; categorical?: number[]; continuous?: number; fcUnits?: number; widths?: number[] } = {},
): InfoganArch {
  const layout = {
    28: { startResolution: 7, widths: [128, 64] },
    32: { startResolution: 4, widths: [256, 128, 64] },
    64: { startResolution: 4, widths: [512, 256, 128, 64] },
  }[size];
  return {
    kind: 'infogan',
    size,
    channels: opts.channels ?? (size === 28 ? 1 : 3),
    noise: opts.noise ?? 62,
    categorical: opts.categorical ?? [10],
    continuous: opts.continuous ?? 2,
    fcUnits: opts.fcUnits ?? 1024,
    startResolution: layout.startResolution,
    widths: opts.widths ?? layout.widths,
  };
}
