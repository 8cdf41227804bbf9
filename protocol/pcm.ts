/**
 * Binary messages from a browser: its microphone's PCM, mono, little-endian.
 *   0  u32  magic 'RHA1'
 *   4  u32  sample rate (Hz)
 *   8  u8   format (1 = float32, 2 = int16)
 *   9  u8×3 reserved (0)
 *  12  samples
 */
import { RhodopsError } from '../core/errors.ts';
import type { PcmFormat } from '../core/audio/index.ts';

export const PCM_MAGIC = 0x31414852; // 'RHA1' read as little-endian u32
export const PCM_HEADER_BYTES = 12;

export function encodePcmMessage(sampleRate: number, format: PcmFormat, samples: Uint8Array): Buffer {
  const out = Buffer.alloc(PCM_HEADER_BYTES + samples.byteLength);
  out.writeUInt32LE(PCM_MAGIC, 0);
  out.writeUInt32LE(sampleRate, 4);
  out.writeUInt8(format === 'f32' ? 1 : 2, 8);
  out.set(samples, PCM_HEADER_BYTES);
  return out;
}

export function decodePcmMessage(msg: Buffer): { sampleRate: number; format: PcmFormat; samples: Uint8Array } {
  if (msg.byteLength < PCM_HEADER_BYTES || msg.readUInt32LE(0) !== PCM_MAGIC) {
    throw new RhodopsError('BAD_MESSAGE', 'a binary message must be browser audio: a 12-byte RHA1 header, then samples', { hint: 'send control messages as JSON text' });
  }
  const code = msg.readUInt8(8);
  if (code !== 1 && code !== 2) throw new RhodopsError('AUDIO_PCM_INVALID', `browser audio: format ${code} is not 1 (float32) or 2 (int16)`);
  // A copy: the samples are read as Float32Array/Int16Array, which need an aligned offset.
  return { sampleRate: msg.readUInt32LE(4), format: code === 1 ? 'f32' : 's16', samples: new Uint8Array(msg.subarray(PCM_HEADER_BYTES)) };
}
