/**
 * The lower resolutions of a packed image: each the one above box-filtered 2×2. Computed from running sums
 * of the full-size pixels, so every level is the mean of its block of the original rounded once, not a
 * rounding of a rounding (the repeated halving of 8-bit values would drift by up to ~1 level at 4²).
 */

/**
 * `rgb` (res × res × 3) and its box-filtered reductions down to 4²: [res, res/2, …, 4] → bytes.
 * res must be a power of two ≥ 4.
 */
export function boxPyramid(rgb: Uint8Array, res: number): Map<number, Uint8Array> {
  if (rgb.length !== res * res * 3) throw new RangeError(`boxPyramid: ${rgb.length} bytes is not ${res}×${res} RGB`);
  const levels = new Map<number, Uint8Array>([[res, rgb]]);
  let sums: Uint32Array | Uint8Array = rgb;
  let side = res;
  let block = 1;
  while (side > 4) {
    const half = side / 2;
    const next = new Uint32Array(half * half * 3);
    for (let y = 0; y < half; y++) {
      const r0 = 2 * y * side * 3;
      const r1 = r0 + side * 3;
      for (let x = 0; x < half; x++) {
        const a = 2 * x * 3;
        const o = (y * half + x) * 3;
        for (let c = 0; c < 3; c++) next[o + c] = sums[r0 + a + c]! + sums[r0 + a + 3 + c]! + sums[r1 + a + c]! + sums[r1 + a + 3 + c]!;
      }
    }
    sums = next;
    side = half;
    block *= 4;
    const bytes = new Uint8Array(next.length);
    const rounding = block >> 1;
    for (let i = 0; i < next.length; i++) bytes[i] = Math.floor((next[i]! + rounding) / block);
    levels.set(side, bytes);
  }
  return levels;
}
