/**
 * What a user watches a PGGAN run by: a grid of the generator's images for a fixed set of latents (the same all
 * run long, so successive grids show training), and per phase a short video that slerps through a few fixed
 * latents and back, made with ffmpeg. Rendering goes through the trainer's tfjs generator at any phase.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Phase } from '../../core/models/arch.ts';
import { messageOf } from '../../core/errors.ts';
import { runFfmpeg } from '../../core/ffmpeg.ts';
import { slerpVectors } from '../../core/latent/vector.ts';
import { logger } from '../../core/log.ts';
import { gaussianArray, hash32 } from '../../core/random.ts';
import type { RgbBatch } from '../../core/runtime/types.ts';
import { writePngGrid } from '../../core/images.ts';

const log = logger('train');

export const GRID_COLUMNS = 8;
const GRID_ROWS = 8;
const GRID_SEED = 0x4e1d;
const VIDEO_SEED = 0x51de;
const VIDEO_KEYS = 6;
const VIDEO_FRAMES_PER_KEY = 16;
const VIDEO_FPS = 24;
/** Videos are scaled up (nearest) to at least this size, so a 16² phase is visible. */
const VIDEO_MIN_SIZE = 256;

export type Generate = (latents: Float32Array, n: number, phase: Phase) => tf.Tensor4D;

export function gridLatents(seed: number, latentSize: number): Float32Array {
  return gaussianArray(GRID_ROWS * GRID_COLUMNS * latentSize, hash32(seed, GRID_SEED));
}

/** Latents for the phase videos: a loop through VIDEO_KEYS fixed keyframes at constant angular speed. */
export function videoLatents(seed: number, latentSize: number): { latents: Float32Array; frames: number } {
  const keys = gaussianArray(VIDEO_KEYS * latentSize, hash32(seed, VIDEO_SEED));
  const key = (k: number) => keys.subarray((k % VIDEO_KEYS) * latentSize, ((k % VIDEO_KEYS) + 1) * latentSize);
  const frames = VIDEO_KEYS * VIDEO_FRAMES_PER_KEY;
  const latents = new Float32Array(frames * latentSize);
  for (let f = 0; f < frames; f++) {
    const k = Math.floor(f / VIDEO_FRAMES_PER_KEY);
    latents.set(slerpVectors(key(k), key(k + 1), (f % VIDEO_FRAMES_PER_KEY) / VIDEO_FRAMES_PER_KEY), f * latentSize);
  }
  return { latents, frames };
}

/** Renders in chunks into 8-bit RGB (clamped, as the server shows them). */
export async function render(generate: Generate, latents: Float32Array, n: number, phase: Phase): Promise<RgbBatch> {
  const size = latents.length / n;
  const res = phase.resolution;
  const chunk = Math.max(1, Math.floor((16 * 128 * 128) / (res * res)));
  const data = new Uint8Array(n * res * res * 3);
  for (let i = 0; i < n; i += chunk) {
    const m = Math.min(chunk, n - i);
    const bytes = tf.tidy(() => {
      const img = generate(latents.subarray(i * size, (i + m) * size), m, phase);
      return tf.cast(tf.round(tf.mul(tf.add(tf.clipByValue(img, -1, 1), 1), 127.5)), 'int32');
    });
    const values = await bytes.data();
    bytes.dispose();
    data.set(values, i * res * res * 3);
  }
  return { batch: n, width: res, height: res, data };
}

export async function writeGrid(file: string, generate: Generate, latents: Float32Array, phase: Phase): Promise<void> {
  await writePngGrid(file, await render(generate, latents, GRID_ROWS * GRID_COLUMNS, phase), GRID_COLUMNS);
}

/** Writes an H.264 MP4 of the latent loop at `phase`; logs and returns false when ffmpeg cannot make it. */
export async function writeVideo(file: string, generate: Generate, seed: number, latentSize: number, phase: Phase): Promise<boolean> {
  const { latents, frames } = videoLatents(seed, latentSize);
  const rgb = await render(generate, latents, frames, phase);
  const res = phase.resolution;
  const scale = Math.max(1, Math.ceil(VIDEO_MIN_SIZE / res));
  const raw = path.join(os.tmpdir(), `rhodops-${process.pid}-${path.basename(file)}.rgb`);
  try {
    await fs.writeFile(raw, rgb.data);
    await runFfmpeg([
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${res}x${res}`, '-r', String(VIDEO_FPS), '-i', raw,
      '-vf', `scale=${res * scale}:${res * scale}:flags=neighbor`,
      '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'fast', '-crf', '18', '-movflags', '+faststart',
      `${file}.tmp.mp4`,
    ]);
    await fs.rename(`${file}.tmp.mp4`, file);
    return true;
  } catch (e) {
    log.warn(`could not write the phase video ${path.basename(file)}: ${messageOf(e)}`);
    await fs.rm(`${file}.tmp.mp4`, { force: true });
    return false;
  } finally {
    await fs.rm(raw, { force: true });
  }
}

/** File stem for a phase's samples: r0032-fade, r0032-stable. */
export function phaseStem(resolution: number, kind: 'transition' | 'stabilise'): string {
  return `r${String(resolution).padStart(4, '0')}-${kind === 'transition' ? 'fade' : 'stable'}`;
}
