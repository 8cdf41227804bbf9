/**
 * Frames for the stream: encoded once per frame at the model's own size and shared by every client (the
 * pages enlarge them with nearest-neighbour filtering). Small frames are PNG, so a 28² digit shown 30× larger
 * has no JPEG blocks; larger ones JPEG. Recordings get frames enlarged to the display size.
 */
import sharp from 'sharp';
import type { RgbBatch } from '../core/runtime/types.ts';
import { FRAME_FORMAT_JPEG, FRAME_FORMAT_PNG } from './frame-message.ts';

/** Up to this many pixels a frame is sent as PNG (lossless, and still small). */
const PNG_MAX_PIXELS = 64 * 64;

export interface EncodedFrame {
  width: number;
  height: number;
  format: number;
  data: Buffer;
}

export async function encodeFrame(frame: RgbBatch, jpegQuality: number): Promise<EncodedFrame> {
  const img = sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } });
  const png = frame.width * frame.height <= PNG_MAX_PIXELS;
  const data = png ? await img.png({ compressionLevel: 1 }).toBuffer() : await img.jpeg({ quality: jpegQuality, chromaSubsampling: '4:2:0' }).toBuffer();
  return { width: frame.width, height: frame.height, format: png ? FRAME_FORMAT_PNG : FRAME_FORMAT_JPEG, data };
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
