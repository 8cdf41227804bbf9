/**
 * Turning arrays of raw images (MNIST, IDX, SVHN) into the dataset's size and channels: channel conversion,
 * centre crop to a square, and resizing with sharp (lanczos3, as for image folders).
 */
import sharp from 'sharp';
import type { Progress } from './types.ts';
import { IN_FLIGHT, mapBounded, withSharpThreads } from './pool.ts';

export const RESIZE_KERNEL = 'lanczos3';

/** ITU-R BT.601 luma weights, as PIL's "L" mode uses. */
export function luminance(r: number, g: number, b: number): number {
  return Math.round(0.299 * r + 0.587 * g + 0.114 * b);
}

/** `pixelCount` pixels of `from` channels as `to` channels: gray→RGB replicates, RGB→gray is luminance. */
export function convertChannels(pixels: Uint8Array, pixelCount: number, from: 1 | 3, to: 1 | 3): Uint8Array {
  if (from === to) return pixels;
  if (from === 1) {
    const out = new Uint8Array(pixelCount * 3);
    for (let i = 0, o = 0; i < pixelCount; i++, o += 3) {
      const v = pixels[i]!;
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = v;
    }
    return out;
  }
  const out = new Uint8Array(pixelCount);
  for (let i = 0, p = 0; i < pixelCount; i++, p += 3) out[i] = luminance(pixels[p]!, pixels[p + 1]!, pixels[p + 2]!);
  return out;
}

/** The centred side×side square of each of `count` height×width images (side = the shorter side). */
export function cropCentreSquare(pixels: Uint8Array, count: number, height: number, width: number, channels: number): Uint8Array {
  if (height === width) return pixels;
  const side = Math.min(height, width);
  const top = Math.floor((height - side) / 2);
  const left = Math.floor((width - side) / 2);
  const out = new Uint8Array(count * side * side * channels);
  const rowBytes = side * channels;
  for (let n = 0; n < count; n++) {
    for (let y = 0; y < side; y++) {
      const from = ((n * height + top + y) * width + left) * channels;
      out.set(pixels.subarray(from, from + rowBytes), (n * side + y) * rowBytes);
    }
  }
  return out;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Mosaic chunks stay under this many pixels (input or output), so one sharp call is a few MB. */
const CHUNK_PIXELS = 4_000_000;

/**
 * Resizes `count` square images (side × side × channels) to size × size with sharp, bit-identical to one
 * sharp call per image but much faster: a sharp call costs 0.4–1 ms however small the image, so 10,000
 * MNIST digits one by one took 7–11 s here, against 0.5 s (28→32) and 1.7 s (28→64) this way. Images are stacked in a vertical strip, each padded by edge replication
 * (what libvips does at an image's border) with a margin wider than the kernel's reach and a multiple of
 * side / gcd(side, size), so every tile maps onto a whole number of output pixels and no kernel crosses
 * into a neighbour. The test suite compares it with per-image resizing.
 */
export async function resizeSquares(
  pixels: Uint8Array,
  count: number,
  side: number,
  channels: 1 | 3,
  size: number,
  onProgress?: Progress,
): Promise<Uint8Array> {
  if (side === size) return pixels;
  const unit = side / gcd(side, size);
  const reach = Math.ceil(3 * Math.max(1, side / size)) + 2; // lanczos3 reaches 3 pixels, scaled when shrinking
  const margin = Math.ceil(reach / unit) * unit;
  const outMargin = (margin * size) / side;
  const tile = side + 2 * margin;
  const outTile = size + 2 * outMargin;
  const perChunk = Math.max(1, Math.floor(CHUNK_PIXELS / (Math.max(tile, outTile) ** 2)));
  const out = new Uint8Array(count * size * size * channels);
  const chunks: number[] = [];
  for (let start = 0; start < count; start += perChunk) chunks.push(start);
  let done = 0;
  await withSharpThreads(() =>
    mapBounded(chunks, IN_FLIGHT, async (start) => {
      const n = Math.min(perChunk, count - start);
      const strip = new Uint8Array(n * tile * tile * channels);
      for (let k = 0; k < n; k++) padTile(pixels, (start + k) * side * side * channels, side, channels, margin, strip, k * tile * tile * channels);
      let pipeline = sharp(strip, { raw: { width: tile, height: tile * n, channels } }).resize(outTile, outTile * n, {
        kernel: RESIZE_KERNEL,
        fit: 'fill',
      });
      if (channels === 1) pipeline = pipeline.toColourspace('b-w'); // sharp outputs sRGB otherwise
      const data = await pipeline.raw({ depth: 'uchar' }).toBuffer();
      if (data.length !== n * outTile * outTile * channels) throw new Error(`sharp returned ${data.length} bytes for a ${outTile}×${outTile * n}×${channels} strip`);
      const row = size * channels;
      for (let k = 0; k < n; k++) {
        for (let y = 0; y < size; y++) {
          const from = ((k * outTile + outMargin + y) * outTile + outMargin) * channels;
          out.set(data.subarray(from, from + row), ((start + k) * size + y) * row);
        }
      }
      done += n;
      onProgress?.(done, count);
    }),
  );
  return out;
}

/** Copies one side×side image into a (side+2m)² tile, the margin filled by repeating the edge pixels. */
function padTile(src: Uint8Array, srcOffset: number, side: number, channels: number, margin: number, dst: Uint8Array, dstOffset: number): void {
  const tile = side + 2 * margin;
  for (let y = 0; y < tile; y++) {
    const sy = Math.min(side - 1, Math.max(0, y - margin));
    const srcRow = srcOffset + sy * side * channels;
    const dstRow = dstOffset + y * tile * channels;
    for (let x = 0; x < tile; x++) {
      const sx = Math.min(side - 1, Math.max(0, x - margin));
      for (let c = 0; c < channels; c++) dst[dstRow + x * channels + c] = src[srcRow + sx * channels + c]!;
    }
  }
}

/**
 * `count` raw images (height × width × from channels, HWC) as size × size × `to` channels: centre crop to a
 * square, then resize; channels are reduced before resizing and replicated after, so sharp does the least work.
 * When nothing changes, the result is `pixels` itself.
 */
export async function conformImages(
  pixels: Uint8Array,
  count: number,
  height: number,
  width: number,
  from: 1 | 3,
  size: number,
  to: 1 | 3,
  onProgress?: Progress,
): Promise<Uint8Array> {
  const side = Math.min(height, width);
  let out = cropCentreSquare(pixels, count, height, width, from);
  if (to < from) out = convertChannels(out, count * side * side, from, to);
  const mid = Math.min(from, to) as 1 | 3;
  out = await resizeSquares(out, count, side, mid, size, onProgress);
  if (to > from) out = convertChannels(out, count * size * size, from, to);
  return out;
}
