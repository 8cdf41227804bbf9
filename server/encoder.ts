/** RGB frames to JPEG, once per frame, shared by every client (sharp/libjpeg-turbo: ~2 ms at 256²). */
import sharp from 'sharp';
import type { RgbBatch } from '../core/runtime/types.ts';

export interface EncodedFrame {
  width: number;
  height: number;
  jpeg: Buffer;
  /** The RGB frame at the displayed size, what recordings get. */
  rgb: Uint8Array;
}

/** Tiny models (MNIST's 28²) are shown enlarged by a whole factor, with nearest neighbour: browsers would blur them. */
export function displayScale(width: number, displaySize: number): number {
  return displaySize > width ? Math.floor(displaySize / width) : 1;
}

export async function encodeJpeg(frame: RgbBatch, quality: number, displaySize: number): Promise<EncodedFrame> {
  const scale = displayScale(frame.width, displaySize);
  const raw = { width: frame.width, height: frame.height, channels: 3 as const };
  const rgb = scale > 1 ? new Uint8Array(await sharp(frame.data, { raw }).resize(frame.width * scale, frame.height * scale, { kernel: 'nearest' }).raw().toBuffer()) : frame.data;
  const width = frame.width * scale;
  const height = frame.height * scale;
  const jpeg = await sharp(rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality, chromaSubsampling: '4:2:0' }).toBuffer();
  return { width, height, jpeg, rgb };
}
