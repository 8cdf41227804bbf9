/**
 * A small procedural dataset held in memory behind the PackedDataset interface, for tests and the training bench:
 * four kinds of image (a disc, stripes, a gradient, a checkerboard), each with random colours and geometry, so
 * that its diversity is real and measurable. Lower resolutions are the one above box-filtered 2×2, as in a pack.
 */
import { rng } from '../../core/random.ts';
import type { PackedDataset } from '../prepare/pack-format.ts';

export const SYNTHETIC_MODES = ['disc', 'stripes', 'gradient', 'checker'] as const;

function drawImage(res: number, random: () => number, mode: (typeof SYNTHETIC_MODES)[number]): Uint8Array {
  const img = new Uint8Array(res * res * 3);
  const colour = () => [random() * 255, random() * 255, random() * 255];
  const [a, b] = [colour(), colour()];
  const cx = (0.25 + 0.5 * random()) * res;
  const cy = (0.25 + 0.5 * random()) * res;
  const radius = (0.15 + 0.25 * random()) * res;
  const period = Math.max(2, Math.round((0.15 + 0.35 * random()) * res));
  const angle = random() * Math.PI;
  for (let y = 0; y < res; y++) {
    for (let x = 0; x < res; x++) {
      let t: number;
      switch (mode) {
        case 'disc':
          t = (x - cx) ** 2 + (y - cy) ** 2 < radius ** 2 ? 1 : 0;
          break;
        case 'stripes':
          t = Math.floor((x * Math.cos(angle) + y * Math.sin(angle)) / (period / 2)) % 2 === 0 ? 1 : 0;
          break;
        case 'gradient':
          t = (x * Math.cos(angle) + y * Math.sin(angle)) / (res * 1.5) + 0.25;
          break;
        case 'checker':
          t = (Math.floor(x / period) + Math.floor(y / period)) % 2;
          break;
      }
      t = Math.min(1, Math.max(0, t));
      for (let c = 0; c < 3; c++) img[(y * res + x) * 3 + c] = Math.round(a[c]! * t + b[c]! * (1 - t));
    }
  }
  return img;
}

function boxDown(src: Uint8Array, count: number, res: number): Uint8Array {
  const half = res / 2;
  const out = new Uint8Array(count * half * half * 3);
  for (let i = 0; i < count; i++) {
    for (let y = 0; y < half; y++) {
      for (let x = 0; x < half; x++) {
        for (let c = 0; c < 3; c++) {
          const at = (yy: number, xx: number) => src[((i * res + yy) * res + xx) * 3 + c]!;
          const sum = at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1);
          out[((i * half + y) * half + x) * 3 + c] = Math.round(sum / 4);
        }
      }
    }
  }
  return out;
}

/**
 * `count` images at every resolution from 4² to `resolution`. `modes` limits the kinds drawn (all four by
 * default); image i is of kind modes[i % modes.length].
 */
export function syntheticPack(count: number, resolution: number, seed = 1, modes: readonly (typeof SYNTHETIC_MODES)[number][] = SYNTHETIC_MODES): PackedDataset {
  const random = rng(seed);
  const top = new Uint8Array(count * resolution * resolution * 3);
  for (let i = 0; i < count; i++) top.set(drawImage(resolution, random, modes[i % modes.length]!), i * resolution * resolution * 3);
  const levels = new Map<number, Uint8Array>([[resolution, top]]);
  for (let r = resolution; r > 4; r /= 2) levels.set(r / 2, boxDown(levels.get(r)!, count, r));
  const resolutions = [...levels.keys()].sort((a, b) => a - b);
  return {
    dir: `(synthetic: ${count} images, ${resolution}²)`,
    createdAt: null,
    count,
    resolutions,
    channels: 3,
    read: async (res, indices) => {
      const all = levels.get(res);
      if (!all) throw new RangeError(`synthetic pack: no ${res}² images (has ${resolutions.join(', ')})`);
      const size = res * res * 3;
      const out = new Uint8Array(indices.length * size);
      indices.forEach((idx, k) => {
        if (!(idx >= 0 && idx < count)) throw new RangeError(`synthetic pack: index ${idx} outside 0..${count - 1}`);
        out.set(all.subarray(idx * size, (idx + 1) * size), k * size);
      });
      return out;
    },
    close: async () => {},
  };
}
