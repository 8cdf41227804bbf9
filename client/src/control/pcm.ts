/**
 * Microphone PCM as the server's binary message (server/pcm-message.ts decodes it): a 12-byte header —
 * u32 magic 'RHA1', u32 sample rate, u8 format (1 = float32), three reserved zero bytes — then the samples,
 * little-endian mono. Pure: the tests pack here and decode with the server's own decoder.
 */
export const PCM_MAGIC = 0x31414852;
export const PCM_HEADER_BYTES = 12;
export const PCM_FORMAT_F32 = 1;

export function packPcm(samples: Float32Array, sampleRate: number): ArrayBuffer {
  const out = new ArrayBuffer(PCM_HEADER_BYTES + samples.length * 4);
  const v = new DataView(out);
  v.setUint32(0, PCM_MAGIC, true);
  v.setUint32(4, Math.round(sampleRate), true);
  v.setUint8(8, PCM_FORMAT_F32);
  // Float32Array is in the platform's byte order; DataView writes little-endian whatever the platform.
  for (let i = 0; i < samples.length; i++) v.setFloat32(PCM_HEADER_BYTES + i * 4, samples[i]!, true);
  return out;
}
