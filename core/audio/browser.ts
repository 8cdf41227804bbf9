/**
 * PCM pushed by the browser client (its microphone, through the WebSocket): float32 or int16
 * little-endian mono chunks at the browser's rate, checked at the boundary and resampled to the
 * extractor's rate. Bad input is refused with AUDIO_PCM_INVALID and changes nothing, so one broken
 * message never disturbs the features.
 */
import { RhodopsError } from '../errors.ts';
import { float32FromBytes, int16ToFloat, LinearResampler } from './pcm.ts';
import { BaseAudioSource, type AudioSourceKind, type SourceBaseOptions } from './source.ts';

export const PCM_FORMATS = ['f32', 's16'] as const;
export type PcmFormat = (typeof PCM_FORMATS)[number];

export const BROWSER_RATE_MIN = 8000;
export const BROWSER_RATE_MAX = 192000;

export interface BrowserSourceOptions extends SourceBaseOptions {
  /** The largest chunk accepted, in seconds of audio at its own rate (a cap on memory per message). */
  maxChunkS?: number;
}

function refuse(message: string, hint: string): RhodopsError {
  return new RhodopsError('AUDIO_PCM_INVALID', `browser audio: ${message}`, { hint });
}

export class BrowserPcmSource extends BaseAudioSource {
  readonly kind: AudioSourceKind = 'browser';
  private resampler: LinearResampler | null = null;
  private readonly maxChunkS: number;

  constructor(o: BrowserSourceOptions = {}) {
    super('browser microphone', o);
    this.maxChunkS = o.maxChunkS ?? 1;
  }

  protected async open(): Promise<void> {
    this.resampler = null;
  }

  protected async close(): Promise<void> {
    this.resampler = null;
  }

  /**
   * One chunk from the browser. Returns the number of samples it added at the extractor's rate
   * (0 while the source is not running). Throws AUDIO_PCM_INVALID, without using any of the chunk, for
   * an unknown format, a rate outside 8000–192000 Hz, a byte length that is not whole samples, a chunk
   * over `maxChunkS`, or non-finite floats.
   */
  pushPcm(data: ArrayBuffer | ArrayBufferView, format: PcmFormat, sampleRate: number): number {
    if (!(PCM_FORMATS as readonly string[]).includes(format)) {
      throw refuse(`unknown sample format ${JSON.stringify(format)}.`, `Send "f32" (Float32Array) or "s16" (Int16Array) samples.`);
    }
    if (!Number.isInteger(sampleRate) || sampleRate < BROWSER_RATE_MIN || sampleRate > BROWSER_RATE_MAX) {
      throw refuse(`sample rate must be an integer from ${BROWSER_RATE_MIN} to ${BROWSER_RATE_MAX} Hz, got ${String(sampleRate)}.`, 'Send AudioContext.sampleRate with each chunk.');
    }
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const width = format === 'f32' ? 4 : 2;
    if (bytes.length % width !== 0) {
      throw refuse(`${bytes.length} bytes is not a whole number of ${format} samples (${width} bytes each).`, 'Send whole mono samples: the byte length must be a multiple of the sample size.');
    }
    const count = bytes.length / width;
    if (count > this.maxChunkS * sampleRate) {
      throw refuse(`a chunk of ${count} samples is over ${this.maxChunkS} s at ${sampleRate} Hz.`, 'Send smaller chunks (a few thousand samples each).');
    }
    const samples = format === 'f32' ? float32FromBytes(bytes) : int16ToFloat(bytes);
    if (format === 'f32') {
      for (let i = 0; i < samples.length; i++) {
        if (!Number.isFinite(samples[i]!)) throw refuse(`sample ${i} is ${samples[i]}.`, 'Send finite float samples, normally within −1…1.');
      }
    }
    if (!this.running || count === 0) return 0;
    const target = this.extractor.sampleRate;
    // A new browser rate (another device, another tab) restarts the interpolation.
    if (!this.resampler || this.resampler.from !== sampleRate) this.resampler = new LinearResampler(sampleRate, target);
    const resampled = this.resampler.process(samples);
    this.deliver(resampled);
    return resampled.length;
  }
}
