/**
 * Binary frame messages on the WebSocket: a fixed 28-byte little-endian header, then the encoded image.
 *   0  u32  magic 'RHF2'
 *   4  u32  sequence number (increasing per server; gaps mean frames this client skipped)
 *   8  f64  capture time, ms since the Unix epoch (when the engine produced the frame)
 *  16  u16  width
 *  18  u16  height
 *  20  u8   format (1 = JPEG, 2 = PNG, 3 = raw RGB, width × height × 3 bytes, rows top to bottom)
 *  21  u8×3 reserved (0)
 *  24  u8×4 the camera moves the frame was made with (core/camera.ts)
 */
import { decodeCamera, encodeCamera, NO_CAMERA, type Camera } from '../core/camera.ts';

export const FRAME_MAGIC = 0x32464852; // 'RHF2' read as little-endian u32
export const FRAME_HEADER_BYTES = 28;
const CAMERA_OFFSET = 24;
export const FRAME_FORMAT_JPEG = 1;
export const FRAME_FORMAT_PNG = 2;
export const FRAME_FORMAT_RGB = 3;

export interface FrameHeader {
  seq: number;
  captureTime: number;
  width: number;
  height: number;
  format: number;
  camera: Camera;
}

/** `camera` may be left out: a still camera. */
export function encodeFrameMessage(h: Omit<FrameHeader, 'camera'> & { camera?: Camera }, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.byteLength);
  out.writeUInt32LE(FRAME_MAGIC, 0);
  out.writeUInt32LE(h.seq >>> 0, 4);
  out.writeDoubleLE(h.captureTime, 8);
  out.writeUInt16LE(h.width, 16);
  out.writeUInt16LE(h.height, 18);
  out.writeUInt8(h.format, 20);
  out.fill(0, 21, CAMERA_OFFSET);
  encodeCamera(h.camera ?? NO_CAMERA, out, CAMERA_OFFSET);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

export function decodeFrameMessage(msg: Uint8Array): { header: FrameHeader; payload: Uint8Array } | null {
  if (msg.byteLength < FRAME_HEADER_BYTES) return null;
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  if (view.getUint32(0, true) !== FRAME_MAGIC) return null;
  return {
    header: {
      seq: view.getUint32(4, true),
      captureTime: view.getFloat64(8, true),
      width: view.getUint16(16, true),
      height: view.getUint16(18, true),
      format: view.getUint8(20),
      camera: decodeCamera(msg, CAMERA_OFFSET),
    },
    payload: msg.subarray(FRAME_HEADER_BYTES),
  };
}
