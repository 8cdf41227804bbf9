/**
 * One segment's frames, from latents to its encoder: the engine (batch k+1 on its thread while batch k is
 * finished here), the look's sharpening at the engine's size, ESRGAN, lanczos to the output size, the camera's
 * moves and the look's colour. The local render and a farm worker both call this, so a segment is the same
 * bytes wherever it is made.
 */
import sharp from 'sharp';
import type { Camera } from '../core/camera.ts';
import type { Upscaler } from '../core/upscale/esrgan.ts';
import type { Generator, RgbBatch } from '../core/runtime/types.ts';
import type { Look } from './look.ts';
import type { SegmentEncoder } from './segments.ts';

export interface FramePipeline {
  gen: Generator;
  upscaler: Upscaler | null;
  /** Output size; frames are resized to it (lanczos) when the engine (× ESRGAN) makes another. */
  width: number;
  height: number;
  look: Look;
  /** Frames per engine call. Batches start at the segment's first frame, so a segment batches alike anywhere. */
  batch: number;
}

/** A frame's inputs: its latent and its camera moves, as a frame message carries them (quantized). */
export interface FrameInput {
  latent: Float32Array;
  camera: Camera;
}

export interface SegmentHooks {
  /** Each frame's RGB as encoded; `k` counts from the segment's first frame. */
  onFrame?: (k: number, rgb: Uint8Array) => void;
  /** After each batch: frames of the segment written so far. */
  onBatch?: (written: number) => void | Promise<void>;
  /** Asked after each batch: true stops before the segment's end (Ctrl-C). */
  stop?: () => boolean;
}

/**
 * Renders `count` frames (their inputs from `next`, called once per frame, in order) into `enc`. Returns the
 * frames written: `count`, or fewer when `stop` said so. The encoder is the caller's to finish or abort.
 */
export async function encodeSegment(p: FramePipeline, count: number, next: () => FrameInput, enc: SegmentEncoder, hooks: SegmentHooks = {}): Promise<number> {
  const latentSize = p.gen.info.latent.size;
  const factor = p.upscaler?.factor ?? 1;
  // The engine makes batch k+1 (on ONNX Runtime's threads) while batch k is upscaled and encoded.
  // Each frame's camera moves travel with its latent, as a frame message carries them to a page.
  const makeBatch = (i: number): { rgb: Promise<RgbBatch>; cameras: Camera[] } => {
    const n = Math.min(p.batch, count - i);
    const latents = new Float32Array(n * latentSize);
    const cameras: Camera[] = [];
    for (let k = 0; k < n; k++) {
      const f = next();
      latents.set(f.latent, k * latentSize);
      cameras.push(f.camera);
    }
    return { rgb: p.gen.generate(latents, n), cameras };
  };
  const { look, width, height } = p;
  let pending: { rgb: Promise<RgbBatch>; cameras: Camera[] } | null = makeBatch(0);
  let i = 0;
  while (pending) {
    const made: RgbBatch = await pending.rgb;
    const cameras = pending.cameras;
    const n: number = made.batch;
    const stop: boolean = !!hooks.stop?.() && i + n < count;
    pending = !stop && i + n < count ? makeBatch(i + n) : null;
    if (look.sharpens) for (let k = 0; k < n; k++) look.sharpen(made.data.subarray(k * made.width * made.height * 3, (k + 1) * made.width * made.height * 3), made.width, made.height);
    const rgb = p.upscaler ? { width: made.width * factor, height: made.height * factor, data: await p.upscaler.upscale(made.data, n, made.width, made.height) } : made;
    const frameBytes = rgb.width * rgb.height * 3;
    for (let k = 0; k < n; k++) {
      let frame: Uint8Array = rgb.data.subarray(k * frameBytes, (k + 1) * frameBytes);
      if (width !== rgb.width || height !== rgb.height) {
        frame = await sharp(frame, { raw: { width: rgb.width, height: rgb.height, channels: 3 } }).resize(width, height, { kernel: 'lanczos3' }).raw().toBuffer();
      }
      const camera = cameras[k]!;
      frame = look.move(frame, width, height, camera);
      // In place: the batch (or the resized copy, or the look's own buffer) is this loop's own.
      if (look.colours(camera)) look.colour(frame, camera);
      hooks.onFrame?.(i + k, frame);
      await enc.write(frame);
    }
    i += n;
    await hooks.onBatch?.(i);
    if (stop) return i;
  }
  return count;
}
