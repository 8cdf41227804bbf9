/**
 * Offline render figures (issue 7), one run: seconds of video made per second of rendering at 30 fps for the
 * demo InfoGAN, PGGAN mid-128 and mid-256 (whole command: audio decode, features, engine, x264), and ESRGAN
 * milliseconds per frame.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { saveModelCheckpoint } from '../core/checkpoint/from-model.ts';
import { runFfmpeg } from '../core/ffmpeg.ts';
import { generatorSpecs } from '../core/models/generator.ts';
import { initWeights } from '../core/models/params.ts';
import { pgganArch } from '../core/models/architectures.ts';
import { openUpscaler, type UpscaleEngine, type UpscaleFactor } from '../core/upscale/esrgan.ts';
import { render } from '../render/render.ts';
import { openGenerator } from '../core/runtime/open.ts';
import type { Precision } from '../core/runtime/ort.ts';
import { psnr } from '../core/runtime/int8.ts';
import { gaussianArray } from '../core/random.ts';
import { BUNDLED_PGGAN, DEMO_INFOGAN } from '../presets/bundled.ts';
import { measure } from './measure.ts';

export interface RenderRow {
  model: string;
  precision: Precision;
  size: number;
  seconds: number;
  /** Seconds of video per second of the whole command. */
  realtimeMultiple: number;
  /** The same, counting the frame loop only (engine + encoder). */
  loopRealtimeMultiple: number;
  /** The same generator alone, batch 4, measured just before: what the frame loop could reach at best. */
  engineFps: number;
  /** int8 rows: its images against float32's on the same 8 latents (range −1..1). */
  psnrDb: number | null;
}

export interface UpscaleRow {
  engine: UpscaleEngine;
  factor: UpscaleFactor;
  input: number;
  msPerFrame: number;
}

async function pggan(dir: string, res: number): Promise<string> {
  const arch = pgganArch('mid', res);
  const out = path.join(dir, `pggan-mid-${res}`);
  await saveModelCheckpoint(out, arch, initWeights(generatorSpecs(arch), 1), { name: `pggan-mid-${res}` });
  return out;
}

export async function benchRender(o: { quick: boolean }, say: (m: string) => void): Promise<{ rows: RenderRow[]; upscale: UpscaleRow[] }> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-bench-render-'));
  try {
    const seconds = o.quick ? 4 : 12;
    const song = path.join(tmp, 'song.wav');
    // A pulse over a drone: onsets, bass and changing brightness for the mapping to follow.
    await runFfmpeg(['-f', 'lavfi', '-i', `aevalsrc=exprs='0.3*sin(2*PI*55*t)+0.5*lt(mod(t,0.5),0.02)*(random(0)*2-1)+0.1*sin(2*PI*(440+200*sin(t))*t)':s=44100:d=${seconds}`, song]);
    const rows: RenderRow[] = [];
    const mid128 = await pggan(tmp, 128);
    const mid256 = await pggan(tmp, 256);
    const cases: [string, string, Precision][] = [
      ['infogan-mnist (demo)', DEMO_INFOGAN, 'fp32'],
      ['pggan-mid-128', mid128, 'fp32'],
      ['pggan-mid-128', mid128, 'int8'],
      ['pggan-mid-256', mid256, 'fp32'],
      ['pggan-mid-256', mid256, 'int8'],
    ];
    const floatImages = new Map<string, Float32Array>();
    for (const [name, model, precision] of cases) {
      const gen = await openGenerator(model, { ort: { precision } });
      const z = gaussianArray(4 * gen.info.latent.size, 4);
      const engine = await measure(() => gen.generate(z, 4), { minRuns: 5, minTimeMs: o.quick ? 1500 : 4000 });
      const images = (await gen.generateFloat(gaussianArray(8 * gen.info.latent.size, 88), 8)).data;
      if (precision === 'fp32') floatImages.set(model, images);
      const reference = floatImages.get(model);
      const psnrDb = precision === 'int8' && reference ? psnr(reference, images) : null;
      await gen.dispose();
      say(`render: ${name} ${precision}, ${seconds} s of song at 30 fps…`);
      const r = await render({
        audio: song, model, mapping: null, preset: null, timeline: null, replay: null, fps: 30, size: null, out: path.join(tmp, 'out.mp4'), seed: 1,
        smooth: false, upscale: null, batch: 4, segmentSeconds: 10, presetDir: path.join(tmp, 'presets'), ort: { precision }, progress: false,
      });
      const engineFps = 4000 / engine.medianMs;
      rows.push({ model: name, precision, size: r.width, seconds: r.seconds, realtimeMultiple: r.durationS / r.seconds, loopRealtimeMultiple: r.realtimeMultiple, engineFps, psnrDb });
      say(`  ×${(r.durationS / r.seconds).toFixed(2)} real time (frame loop ×${r.realtimeMultiple.toFixed(2)} = ${(r.realtimeMultiple * 30).toFixed(1)} fps; engine alone ${engineFps.toFixed(1)} fps${psnrDb === null ? '' : `; PSNR against float32 ${psnrDb.toFixed(1)} dB`})`);
    }
    // What `rhodops render` does by default: the bundled models at 1080², ESRGAN where it pays (--upscale auto);
    // then with the page's effects (sharpening, trails, colour) and the camera moves on the beat.
    const effects = { mapping: 'camera', look: { sharpen: 0.5, trails: 0.8, saturation: 1.3, contrast: 1.1 } };
    for (const [name, model] of [['infogan-mnist (demo)', DEMO_INFOGAN], ['pggan-wallpapers (default)', BUNDLED_PGGAN]] as const) {
      for (const withEffects of [false, true]) {
        const what = withEffects ? '1080² defaults + effects and camera' : '1080² defaults';
        say(`render: ${name} at ${what} (--upscale auto), ${seconds} s of song…`);
        const r = await render({
          audio: song, model, mapping: withEffects ? effects.mapping : null, preset: null, timeline: null, replay: null, fps: 30, size: 1080, out: path.join(tmp, 'out.mp4'), seed: 1,
          smooth: false, upscale: 'auto', batch: 4, segmentSeconds: 10, presetDir: path.join(tmp, 'presets'), ort: {}, progress: false, calibrationCacheDir: path.join(tmp, 'calibration'),
          ...(withEffects ? { look: effects.look } : {}),
        });
        rows.push({ model: `${name}, ${what}`, precision: 'fp32', size: r.width, seconds: r.seconds, realtimeMultiple: r.durationS / r.seconds, loopRealtimeMultiple: r.realtimeMultiple, engineFps: Number.NaN, psnrDb: null });
        say(`  ×${(r.durationS / r.seconds).toFixed(2)} real time (frame loop ×${r.realtimeMultiple.toFixed(2)})`);
      }
    }
    const upscale: UpscaleRow[] = [];
    for (const engine of ['ort', 'tfjs-wasm'] as const) {
      for (const factor of [2, 4] as const) {
        const up = await openUpscaler(factor, { engine });
        for (const input of o.quick ? [128] : [64, 128, 256]) {
          const frame = await sharp({ create: { width: input, height: input, channels: 3, background: { r: 40, g: 90, b: 160 } } }).raw().toBuffer();
          const t = await measure(() => up.upscale(frame, 1, input, input), { minRuns: 3, minTimeMs: o.quick ? 1000 : 3000 });
          upscale.push({ engine, factor, input, msPerFrame: t.medianMs });
          say(`  ESRGAN ${engine} ×${factor} ${input}²: ${t.medianMs.toFixed(0)} ms/frame`);
        }
        await up.dispose();
      }
    }
    return { rows, upscale };
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
