/**
 * Procedural abstract images: a training set rhodops can make by itself, offline, for the bundled PGGAN
 * demo. Four families, each with random parameters from the image's seed, coloured by a random cosine
 * palette (a + b·cos(2π(c·t + d))): marble (warped stripes), flow (domain-warped fractal noise), cells
 * (Voronoi edges) and rings (warped concentric bands). Same seed, same image, on any machine.
 */
import { rng } from '../../core/random.ts';
import { GradientNoise } from './noise.ts';

export const TEXTURE_KINDS = ['marble', 'flow', 'cells', 'rings'] as const;
export type TextureKind = (typeof TEXTURE_KINDS)[number];

type Palette = (t: number, out: Float32Array) => void;

function palette(r: () => number): Palette {
  const a = [0.35 + 0.3 * r(), 0.35 + 0.3 * r(), 0.35 + 0.3 * r()];
  const b = [0.25 + 0.25 * r(), 0.25 + 0.25 * r(), 0.25 + 0.25 * r()];
  const c = [0.5 + r(), 0.5 + r(), 0.5 + r()];
  const d = [r(), r(), r()];
  return (t, out) => {
    for (let k = 0; k < 3; k++) out[k] = a[k]! + b[k]! * Math.cos(2 * Math.PI * (c[k]! * t + d[k]!));
  };
}

export interface Texture {
  kind: TextureKind;
  width: number;
  height: number;
  /** RGB bytes, rows top to bottom. */
  rgb: Uint8Array;
}

export function generateTexture(seed: number, size: number, kind?: TextureKind): Texture {
  const r = rng(seed);
  // Families in turn, so any run of consecutive seeds is balanced.
  const k = kind ?? TEXTURE_KINDS[seed % TEXTURE_KINDS.length]!;
  const noise = new GradientNoise(seed * 7 + 1);
  const pal = palette(r);
  const scale = 2 + r() * 4; // features per image width
  const warp = 0.5 + r() * 2;
  const octaves = 4 + Math.floor(r() * 3);
  const angle = r() * Math.PI;
  const freq = 3 + r() * 8;
  const cells = Array.from({ length: 8 + Math.floor(r() * 24) }, () => [r() * scale, r() * scale] as const);
  const [cx, cy] = [r() * scale, r() * scale];
  const rgb = new Uint8Array(size * size * 3);
  const col = new Float32Array(3);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const x = (px / size) * scale;
      const y = (py / size) * scale;
      let t: number;
      switch (k) {
        case 'marble': {
          const w = noise.fbm(x, y, octaves) * warp * 4;
          t = 0.5 + 0.5 * Math.sin((x * Math.cos(angle) + y * Math.sin(angle)) * freq + w * Math.PI);
          break;
        }
        case 'flow': {
          const qx = noise.fbm(x, y, octaves);
          const qy = noise.fbm(x + 5.2, y + 1.3, octaves);
          t = 0.5 + noise.fbm(x + warp * 3 * qx, y + warp * 3 * qy, octaves) * 1.2;
          break;
        }
        case 'cells': {
          const wx = x + noise.fbm(x, y, 3) * warp * 0.3;
          const wy = y + noise.fbm(x + 3.1, y, 3) * warp * 0.3;
          let f1 = Infinity;
          let f2 = Infinity;
          let id = 0;
          for (let i = 0; i < cells.length; i++) {
            const d = Math.hypot(wx - cells[i]![0], wy - cells[i]![1]);
            if (d < f1) [f2, f1, id] = [f1, d, i];
            else if (d < f2) f2 = d;
          }
          t = (id / cells.length) * 0.6 + Math.min(1, (f2 - f1) * 3) * 0.4;
          break;
        }
        case 'rings': {
          const d = Math.hypot(x - cx, y - cy) + noise.fbm(x, y, octaves) * warp;
          t = 0.5 + 0.5 * Math.sin(d * freq * 1.5);
          break;
        }
      }
      pal(t, col);
      const o = (py * size + px) * 3;
      for (let c = 0; c < 3; c++) rgb[o + c] = Math.max(0, Math.min(255, Math.round(col[c]! * 255)));
    }
  }
  return { kind: k, width: size, height: size, rgb };
}
