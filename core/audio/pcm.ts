/** Raw PCM helpers: bytes from a pipe to float samples, int16 to float, and a streaming linear resampler. */
import os from 'node:os';

const LITTLE_ENDIAN = os.endianness() === 'LE';

/**
 * Turns a byte stream of f32le samples (ffmpeg's stdout) into Float32Arrays. Pipe chunks split samples
 * anywhere, so up to 3 bytes are carried over to the next chunk.
 */
export class F32leReader {
  private carry = Buffer.alloc(4);
  private carried = 0;

  /** The whole samples in `chunk` (after any carried bytes), as a new array the caller may keep. */
  read(chunk: Uint8Array): Float32Array {
    const total = this.carried + chunk.length;
    const count = Math.floor(total / 4);
    const out = new Float32Array(count);
    const bytes = new Uint8Array(out.buffer);
    const fromChunk = count * 4 - this.carried;
    if (count > 0) {
      bytes.set(this.carry.subarray(0, this.carried), 0);
      bytes.set(chunk.subarray(0, fromChunk), this.carried);
      this.carried = 0;
    }
    const rest = chunk.subarray(Math.max(0, fromChunk));
    this.carry.set(rest, this.carried);
    this.carried += rest.length;
    if (!LITTLE_ENDIAN) {
      const view = new DataView(out.buffer);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
    }
    return out;
  }
}

/** Little-endian int16 PCM to floats in [−1, 1). */
export function int16ToFloat(bytes: Uint8Array): Float32Array {
  const n = bytes.length >> 1;
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, n * 2);
  for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true) / 32768;
  return out;
}

/** Little-endian float32 PCM (any alignment) to a Float32Array. */
export function float32FromBytes(bytes: Uint8Array): Float32Array {
  const n = bytes.length >> 2;
  const out = new Float32Array(n);
  if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes.subarray(0, n * 4));
  else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, n * 4);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}

/**
 * Linear-interpolation resampler for a stream that arrives in chunks. Output sample j sits at input
 * position j·from/to, computed with integers (j·from split into whole and remainder over `to`), so the
 * output does not depend on how the input was chunked and never drifts over a long session. Linear
 * interpolation is a crude low-pass: fine for feature extraction from a browser microphone, not for
 * listening.
 */
export class LinearResampler {
  /** Index of the next output sample. */
  private j = 0;
  /** Absolute index of the first sample in `tail` (the last sample of the previous chunk). */
  private tailIndex = -1;
  private tail = 0;
  private consumed = 0;

  constructor(
    readonly from: number,
    readonly to: number,
  ) {
    if (!(Number.isInteger(from) && from > 0 && Number.isInteger(to) && to > 0)) throw new RangeError(`LinearResampler: rates must be positive integers, got ${from} → ${to}`);
  }

  process(input: Float32Array): Float32Array {
    if (this.from === this.to) return input.slice();
    const start = this.consumed; // absolute index of input[0]
    const end = start + input.length; // exclusive
    const at = (abs: number): number => (abs === this.tailIndex ? this.tail : input[abs - start]!);
    const out = new Float32Array(Math.ceil((input.length * this.to) / this.from) + 2);
    let count = 0;
    for (;;) {
      const num = this.j * this.from;
      const i = Math.floor(num / this.to);
      const rem = num - i * this.to;
      // Need x[i] and, unless the position is exact, x[i + 1].
      if (rem === 0 ? i >= end : i + 1 >= end) break;
      const a = at(i);
      out[count++] = rem === 0 ? a : a + ((at(i + 1) - a) * rem) / this.to;
      this.j++;
    }
    if (input.length > 0) {
      this.tailIndex = end - 1;
      this.tail = input[input.length - 1]!;
    }
    this.consumed = end;
    return out.subarray(0, count);
  }
}
