/**
 * Frame messages from the server: the 24-byte header (sequence, capture time, size, format), then JPEG, PNG
 * or raw RGB. Compressed frames are decoded by createImageBitmap, which browsers run off the main thread;
 * raw RGB (frames up to 64²) is only widened to RGBA.
 */
import { FRAME_FORMAT, FRAME_HEADER_BYTES, FRAME_MAGIC } from './protocol.ts';

export interface FrameHeader {
  seq: number;
  /** When the engine made the frame, ms since the Unix epoch by the server's clock. */
  captureTime: number;
  width: number;
  height: number;
  format: number;
}

export type FramePixels = { kind: 'bitmap'; bitmap: ImageBitmap } | { kind: 'rgba'; data: Uint8Array };

export interface DecodedFrame {
  header: FrameHeader;
  pixels: FramePixels;
  /** When the message arrived, ms on this page's performance clock. */
  receivedAt: number;
}

export function parseFrameHeader(buf: ArrayBuffer): FrameHeader | null {
  if (buf.byteLength < FRAME_HEADER_BYTES) return null;
  const v = new DataView(buf);
  if (v.getUint32(0, true) !== FRAME_MAGIC) return null;
  return { seq: v.getUint32(4, true), captureTime: v.getFloat64(8, true), width: v.getUint16(16, true), height: v.getUint16(18, true), format: v.getUint8(20) };
}

export function rgbToRgba(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const n = width * height;
  if (rgb.length < n * 3) throw new Error(`raw frame of ${rgb.length} bytes; ${width}×${height} RGB needs ${n * 3}`);
  const out = new Uint8Array(n * 4);
  for (let i = 0, j = 0; i < n * 3; i += 3, j += 4) {
    out[j] = rgb[i]!;
    out[j + 1] = rgb[i + 1]!;
    out[j + 2] = rgb[i + 2]!;
    out[j + 3] = 255;
  }
  return out;
}

/** Decodes one frame message; null for a message that is not a frame. A bitmap must be closed by its user. */
export async function decodeFrame(buf: ArrayBuffer, receivedAt: number): Promise<DecodedFrame | null> {
  const header = parseFrameHeader(buf);
  if (!header) return null;
  const payload = new Uint8Array(buf, FRAME_HEADER_BYTES);
  if (header.format === FRAME_FORMAT.rgb) return { header, receivedAt, pixels: { kind: 'rgba', data: rgbToRgba(payload, header.width, header.height) } };
  const type = header.format === FRAME_FORMAT.png ? 'image/png' : 'image/jpeg';
  const bitmap = await createImageBitmap(new Blob([payload], { type }));
  return { header, receivedAt, pixels: { kind: 'bitmap', bitmap } };
}

export function releaseFrame(f: DecodedFrame): void {
  if (f.pixels.kind === 'bitmap') f.pixels.bitmap.close();
}
