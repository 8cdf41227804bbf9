/**
 * The 45° turn of a tile, cut from the region around it. Done here rather than with sharp's rotate because
 * libvips sizes and places a rotated image to the nearest pixel (a half-pixel shift that depends on the
 * size's parity), and the region has no pixel to spare: a 1448² tile needs all of a 2048² image. Here the
 * geometry is exact (pixel centres, clockwise about the tile's centre, wherever that falls in the region),
 * and the sampling is bilinear at about twice the output resolution, so sharp's lanczos3 shrink afterwards
 * hides its softness.
 */

/** What a sample further than this outside the region's pixel centres gets: black, like an empty corner. */
const RIM = 1;

/** Where the tile sits in the source: its centre (pixel-edge coordinates) and source pixels per tile pixel. */
export interface Placement {
  cx: number;
  cy: number;
  scaleX: number;
  scaleY: number;
}

/**
 * The `span`-pixel square tile centred at `at` in `src` (width × height RGB), turned `degrees` clockwise about
 * its centre, sampled onto out × out pixels. Samples within RIM of the source's edge take the edge pixel;
 * further out (a region too small for the turned tile) they are black, which the tests look for.
 */
export function rotateCrop(src: Uint8Array, width: number, height: number, degrees: number, span: number, out: number, at: Placement): Uint8Array {
  if (src.length !== width * height * 3) throw new RangeError(`rotateCrop: ${src.length} bytes is not ${width}×${height} RGB`);
  const rad = (degrees * Math.PI) / 180;
  const cos = Math.cos(rad);
  const sin = Math.sin(rad);
  const step = span / out;
  const result = new Uint8Array(out * out * 3);
  const maxX = width - 1;
  const maxY = height - 1;
  for (let v = 0; v < out; v++) {
    const py = (v + 0.5) * step - span / 2;
    for (let u = 0; u < out; u++) {
      const px = (u + 0.5) * step - span / 2;
      // Output point p shows the source point turned back: R(−θ)·p, with y pointing down.
      const sx = at.cx + (px * cos + py * sin) * at.scaleX - 0.5;
      const sy = at.cy + (py * cos - px * sin) * at.scaleY - 0.5;
      if (sx < -RIM || sy < -RIM || sx > maxX + RIM || sy > maxY + RIM) continue; // stays black
      const x = Math.min(Math.max(sx, 0), maxX);
      const y = Math.min(Math.max(sy, 0), maxY);
      const x0 = Math.min(Math.floor(x), Math.max(0, maxX - 1));
      const y0 = Math.min(Math.floor(y), Math.max(0, maxY - 1));
      const x1 = Math.min(x0 + 1, maxX);
      const y1 = Math.min(y0 + 1, maxY);
      const fx = x - x0;
      const fy = y - y0;
      const a = (y0 * width + x0) * 3;
      const b = (y0 * width + x1) * 3;
      const c = (y1 * width + x0) * 3;
      const d = (y1 * width + x1) * 3;
      const o = (v * out + u) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const top = src[a + ch]! + (src[b + ch]! - src[a + ch]!) * fx;
        const bottom = src[c + ch]! + (src[d + ch]! - src[c + ch]!) * fx;
        result[o + ch] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return result;
}
