/**
 * Frames for the stream: encoded once per frame at the model's own size and shared by every client (the
 * pages enlarge them with the filter the performer picks). Small frames go raw: a 28² digit is 2.3 KB, shown
 * 30× larger with no JPEG blocks, and costs no encoding at all (PNG took longer than the demo model's
 * engine run). Larger ones are JPEG. Recordings get frames enlarged to the display size.
 */
import sharp from 'sharp';
import type { RgbBatch } from '../core/runtime/types.ts';
import { FRAME_FORMAT_JPEG, FRAME_FORMAT_RGB } from '../protocol/frames.ts';

/** Up to this many pixels a frame is sent raw (12 KB at 64², 370 KB/s at 30 fps). */
const RAW_MAX_PIXELS = 64 * 64;

export interface EncodedFrame {
  width: number;
  height: number;
  format: number;
  data: Buffer;
}

export async function encodeFrame(frame: RgbBatch, jpegQuality: number): Promise<EncodedFrame> {
  const { width, height } = frame;
  if (width * height <= RAW_MAX_PIXELS) {
    return { width, height, format: FRAME_FORMAT_RGB, data: Buffer.from(frame.data.buffer, frame.data.byteOffset, width * height * 3) };
  }
  // Full-resolution colour: the pages enlarge a 128² frame 8× or more, where 4:2:0's halved colour turns a GAN's
  // thin many-coloured edges into grey smears. On the bundled PGGAN's frames: 3.9 KB against 2.7, +0.1 ms here.
  const data = await sharp(frame.data, { raw: { width, height, channels: 3 } }).jpeg({ quality: jpegQuality, chromaSubsampling: '4:4:4' }).toBuffer();
  return { width, height, format: FRAME_FORMAT_JPEG, data };
}

/**
 * A frame fitted into a recording's fixed size: a model switched mid-take may make frames of another size.
 * Scaled to fit and centred on black, so the take goes on in one file.
 */
export async function fitFrame(rgb: Uint8Array, from: { width: number; height: number }, to: { width: number; height: number }): Promise<Uint8Array> {
  if (from.width === to.width && from.height === to.height) return rgb;
  const raw = { width: from.width, height: from.height, channels: 3 as const };
  const out = await sharp(rgb, { raw }).resize(to.width, to.height, { fit: 'contain', background: { r: 0, g: 0, b: 0 } }).raw().toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** Tiny models (MNIST's 28²) are recorded enlarged by a whole factor, with nearest neighbour. */
export function displayScale(width: number, displaySize: number): number {
  return displaySize > width ? Math.floor(displaySize / width) : 1;
}

/** The frame at the display size, for recordings. */
export async function enlarge(frame: RgbBatch, displaySize: number): Promise<Uint8Array> {
  const scale = displayScale(frame.width, displaySize);
  if (scale === 1) return frame.data;
  const raw = { width: frame.width, height: frame.height, channels: 3 as const };
  return new Uint8Array(await sharp(frame.data, { raw }).resize(frame.width * scale, frame.height * scale, { kernel: 'nearest' }).raw().toBuffer());
}
