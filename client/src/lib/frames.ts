/**
 * Frame messages from the server: the 28-byte header (sequence, capture time, size, format, camera moves), then JPEG, PNG
 * or raw RGB. Compressed frames are decoded by createImageBitmap, which browsers run off the main thread;
 * raw RGB (frames up to 64²) is only widened to RGBA.
 */
// The server's own reader of the header (pure DataView code, no Node APIs), so the two never drift apart.
import { decodeFrameMessage, FRAME_FORMAT_PNG, FRAME_FORMAT_RGB, type FrameHeader } from '../../../protocol/frames.ts';

export type { FrameHeader };

export type FramePixels = { kind: 'bitmap'; bitmap: ImageBitmap } | { kind: 'rgba'; data: Uint8Array };

export interface DecodedFrame {
  header: FrameHeader;
  pixels: FramePixels;
  /** When the message arrived, ms on this page's performance clock. */
  receivedAt: number;
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
  const msg = decodeFrameMessage(new Uint8Array(buf));
  if (!msg) return null;
  const { header, payload } = msg;
  if (header.format === FRAME_FORMAT_RGB) return { header, receivedAt, pixels: { kind: 'rgba', data: rgbToRgba(payload, header.width, header.height) } };
  const type = header.format === FRAME_FORMAT_PNG ? 'image/png' : 'image/jpeg';
  // A view of the socket's ArrayBuffer (never shared memory), which is what Blob's typing wants said.
  const bitmap = await createImageBitmap(new Blob([payload as Uint8Array<ArrayBuffer>], { type }));
  return { header, receivedAt, pixels: { kind: 'bitmap', bitmap } };
}

export function releaseFrame(f: DecodedFrame): void {
  if (f.pixels.kind === 'bitmap') f.pixels.bitmap.close();
}
