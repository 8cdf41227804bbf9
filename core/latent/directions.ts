/** Latent directions for knobs: seeded, orthonormal, so two knobs never move the same way. */
import { hash32, gaussianArray } from '../random.ts';
import { RhodopsError } from '../errors.ts';
import { checkRange } from '../options.ts';
import { dot } from './vector.ts';

/** Keeps the directions' random stream apart from other uses of the same seed. */
const DIRECTIONS_STREAM = 0x64697273;

/**
 * k orthonormal directions in an n-dimensional noise space (k ≤ n): seeded Gaussian vectors put through
 * Gram–Schmidt (twice, in float64, so they stay orthogonal to float32 precision). The same (n, k, seed)
 * gives the same directions, and the first j of k directions are the j directions asked for alone.
 */
export function randomDirections(n: number, k: number, seed: number): Float32Array[] {
  checkRange('noise size', n, { min: 1, max: 1 << 20, integer: true });
  checkRange('number of directions', k, { min: 0, max: n, integer: true });
  checkRange('directions seed', seed, { min: 0, max: 2 ** 32 - 1, integer: true });
  const basis: Float64Array[] = [];
  for (let d = 0; d < k; d++) {
    let v: Float64Array | undefined;
    for (let attempt = 0; attempt < 16 && v === undefined; attempt++) {
      const candidate = Float64Array.from(gaussianArray(n, hash32(seed, DIRECTIONS_STREAM, d, attempt)));
      const before = Math.sqrt(dot(candidate, candidate));
      for (let pass = 0; pass < 2; pass++) {
        for (const b of basis) {
          const c = dot(candidate, b);
          for (let i = 0; i < n; i++) candidate[i] = (candidate[i] as number) - c * (b[i] as number);
        }
      }
      const after = Math.sqrt(dot(candidate, candidate));
      // Almost all of it lay in the span already (happens only when d is close to n): draw again.
      if (after > 1e-6 * before) {
        for (let i = 0; i < n; i++) candidate[i] = (candidate[i] as number) / after;
        v = candidate;
      }
    }
    if (v === undefined) throw new RhodopsError('BAD_OPTION', `could not draw direction ${d} of ${k} in ${n} dimensions.`, { hint: 'ask for fewer directions' });
    basis.push(v);
  }
  return basis.map((b) => Float32Array.from(b));
}
