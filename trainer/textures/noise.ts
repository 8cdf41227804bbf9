/**
 * Seeded 2D gradient noise and fractal sums of it, for procedural training images. Self-contained and
 * deterministic across machines: a lattice of unit gradients chosen by an integer hash, quintic fade.
 */
import { hash32 } from '../../core/random.ts';

const fade = (t: number) => t * t * t * (t * (t * 6 - 15) + 10);

export class GradientNoise {
  private readonly gx = new Float32Array(4096);
  private readonly gy = new Float32Array(4096);

  constructor(seed: number) {
    for (let i = 0; i < 4096; i++) {
      const a = (hash32(seed, i) / 2 ** 32) * Math.PI * 2;
      this.gx[i] = Math.cos(a);
      this.gy[i] = Math.sin(a);
    }
  }

  private dot(ix: number, iy: number, dx: number, dy: number): number {
    const h = ((ix * 73856093) ^ (iy * 19349663)) & 4095;
    return this.gx[h]! * dx + this.gy[h]! * dy;
  }

  /** About −0.7..0.7, smooth, period-free. */
  at(x: number, y: number): number {
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    const u = fade(fx);
    const v = fade(fy);
    const a = this.dot(x0, y0, fx, fy);
    const b = this.dot(x0 + 1, y0, fx - 1, fy);
    const c = this.dot(x0, y0 + 1, fx, fy - 1);
    const d = this.dot(x0 + 1, y0 + 1, fx - 1, fy - 1);
    return a + u * (b - a) + v * (c - a + u * (a - b - c + d));
  }

  /** Fractal sum of `octaves` layers, each at twice the frequency and `gain` times the amplitude. */
  fbm(x: number, y: number, octaves: number, gain = 0.5): number {
    let sum = 0;
    let amp = 1;
    let freq = 1;
    let norm = 0;
    for (let o = 0; o < octaves; o++) {
      sum += amp * this.at(x * freq + o * 17.3, y * freq - o * 9.1);
      norm += amp;
      amp *= gain;
      freq *= 2;
    }
    return sum / norm;
  }
}
