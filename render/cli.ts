/** `rhodops render`: the command line of the offline renderer (render.ts). */
import path from 'node:path';
import { Command, Option } from 'commander';
import { logger } from '../core/log.ts';
import { addOrtOptions, ortOptionsFrom, type OrtCliOptions } from '../server/ort-cli.ts';
import { DEFAULT_MODEL, DEFAULT_PRESET_DIR } from '../presets/bundled.ts';
import { render } from './render.ts';
import { renderSheet } from './sheet.ts';
import { promises as fs } from 'node:fs';
import { checkRange, intOption } from '../core/options.ts';
import { RhodopsError, messageOf } from '../core/errors.ts';
import { describeZodError } from '../core/checkpoint/manifest.ts';
import { displayChangeSchema, type DisplayChange } from '../protocol/display.ts';
import { BUILT_IN_MAPPINGS } from '../core/mapping/defaults.ts';
import { FPS_RANGE } from '../core/video.ts';

const log = logger('render');

interface RenderCliOptions extends OrtCliOptions {
  audio?: string;
  model?: string;
  mapping?: string;
  preset?: string;
  timeline?: string;
  replay?: string;
  fps: string;
  size: string;
  preview: boolean;
  directions: 'random' | 'principal';
  look?: string;
  smoothing?: string;
  out: string;
  seed: string;
  upscale?: string;
  smooth: boolean;
  batch: string;
  segment: string;
  presets?: string;
  progress: boolean;
  farm?: string;
  farmDir?: string;
}

const int = (name: string, v: string, min: number, max: number) => intOption(`--${name}`, v, min, max);

/** `--look FILE`: display settings as the control page sets them, checked field by field. */
async function readLook(file: string): Promise<DisplayChange> {
  const text = await fs.readFile(file, 'utf8').catch((e: unknown) => {
    throw new RhodopsError('BAD_OPTION', `--look ${file}: ${messageOf(e)}`, { hint: 'pass a JSON file of display settings' });
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RhodopsError('BAD_OPTION', `--look ${file} is not JSON`, { hint: 'e.g. {"trails": 0.8, "saturation": 1.4}' });
  }
  const r = displayChangeSchema.safeParse(json);
  if (!r.success) throw new RhodopsError('BAD_OPTION', `--look ${file}: ${describeZodError(r.error)}`, { hint: 'fields: sharpen 0–3, trails 0–0.98, brightness −1–1, contrast 0–3, saturation 0–3, hue −180–180, gamma 0.2–5' });
  return r.data;
}

export function renderCommand(): Command {
  return addOrtOptions(new Command('render'))
    .description('render an audio-reactive music video offline, or re-render a logged live session')
    .option('--audio <song>', 'the song: drives the mapping and is muxed into the video (AAC)')
    .option('--model <path>', `checkpoint directory or .onnx generator (default: the bundled ${path.basename(DEFAULT_MODEL)})`)
    .option('--mapping <file|name>', `mapping JSON, or a built-in one: ${Object.keys(BUILT_IN_MAPPINGS).join(', ')} (default: default; with --replay, the logged inputs are mapped again through it)`)
    .option('--preset <name>', 'the state at 0:00: a preset name or bank/name')
    .option('--timeline <spec>', "presets at times: '0:00 A, 0:32 morph to B over 4 s', or a JSON file")
    .option('--replay <session>', 'a .session.jsonl logged while playing live: its latents, exactly, at the video frame times')
    .option('--fps <n>', 'video frame rate', '30')
    .option('--size <n>', 'output width in pixels', '1080')
    .option('--preview', 'a quick look: 256 pixels wide, no ESRGAN', false)
    .option('--smoothing <s>', "latent smoothing time constant in seconds (default: the --preset's, else 0.15; pulses skip it)")
    .requiredOption('--out <file>', 'the MP4 to write')
    .option('--seed <n>', 'the random state and latent directions', '1')
    .addOption(new Option('--upscale <factor>', 'ESRGAN upscaling before --size (auto: ×4 or ×2 for models up to 128² or 256² smaller than the output)').choices(['auto', 'x2', 'x4', 'none']).default('auto'))
    .option('--smooth', 'twice the frame rate, rendering the latents in between', false)
    .option('--batch <n>', 'frames per engine call', '4')
    .option('--segment <s>', 'seconds per resumable segment', '10')
    .option('--presets <dir>', 'preset folder (default: the server\'s)')
    .addOption(new Option('--directions <kind>', "the latent directions: seeded random, or the model's principal ones (computed once, cached), as serve's").choices(['random', 'principal']).default('random'))
    .option('--look <file>', "the output page's look as JSON (sharpen, trails, brightness, contrast, saturation, hue, gamma), e.g. {\"trails\": 0.8, \"saturation\": 1.4}")
    .option('--no-progress', 'no progress bar (log lines only)')
    .option('--farm <url>', 'render the segments on a farm of `rhodops worker`s through this Redis (redis://HOST:PORT); see README, "Render farm"')
    .option('--farm-dir <dir>', 'with --farm: a folder the workers share, for segments and models (else they travel through Redis)')
    .action(async (o: RenderCliOptions) => {
      const controller = new AbortController();
      const onInt = () => {
        if (controller.signal.aborted) process.exit(130);
        process.stderr.write('\nstopping after this batch; writing a playable partial video (Ctrl-C again to quit at once)…\n');
        controller.abort();
      };
      if (o.farmDir && !o.farm) throw new RhodopsError('BAD_OPTION', '--farm-dir is for farm renders', { hint: 'add --farm redis://HOST:PORT, or leave --farm-dir out' });
      process.on('SIGINT', onInt);
      try {
        const r = await render({
          audio: o.audio ? path.resolve(o.audio) : null,
          model: path.resolve(o.model ?? DEFAULT_MODEL),
          mapping: o.mapping ? (o.mapping in BUILT_IN_MAPPINGS ? o.mapping : path.resolve(o.mapping)) : null,
          preset: o.preset ?? null,
          timeline: o.timeline ?? null,
          replay: o.replay ? path.resolve(o.replay) : null,
          fps: int('fps', o.fps, FPS_RANGE.min, FPS_RANGE.max),
          size: o.preview ? 256 : int('size', o.size, 16, 4096),
          ...(o.smoothing !== undefined ? { smoothing: checkRange('--smoothing', Number(o.smoothing), { min: 0, max: 30, unit: ' s' }) } : {}),
          out: path.resolve(o.out),
          seed: int('seed', o.seed, 0, 2 ** 31 - 1),
          smooth: o.smooth,
          upscale: o.preview || o.upscale === 'none' ? null : o.upscale === 'x2' ? 2 : o.upscale === 'x4' ? 4 : 'auto',
          batch: int('batch', o.batch, 1, 64),
          segmentSeconds: int('segment', o.segment, 1, 3600),
          presetDir: o.presets ? path.resolve(o.presets) : DEFAULT_PRESET_DIR,
          directions: o.directions,
          ...(o.look ? { look: await readLook(path.resolve(o.look)) } : {}),
          ort: ortOptionsFrom(o),
          ...(o.farm ? { farm: { url: o.farm, dir: o.farmDir ? path.resolve(o.farmDir) : null } } : {}),
          signal: controller.signal,
          progress: o.progress && process.stderr.isTTY === true,
        });
        const what = `${r.frames} frames, ${r.width}×${r.height} at ${r.fps} fps (${r.durationS.toFixed(1)} s)`;
        if (r.interrupted) {
          const held = r.heldFrames / r.fps;
          log.warn(held > 0 ? `interrupted: ${r.out} holds the first ${held.toFixed(1)} s; run the same command again to resume` : 'interrupted before any segment was in; run the same command again to resume');
          process.exitCode = 130;
        }
        else log.info(`${r.out}: ${what}; rendered ${r.rendered} in ${r.seconds.toFixed(1)} s (×${r.realtimeMultiple.toFixed(2)} real time)${r.resumedAt ? `, resumed at frame ${r.resumedAt}` : ''}`);
        if (r.replayExact !== undefined) log.info(`replay: ${r.replayExact} of ${r.rendered} frames had exactly the live latent`);
      } finally {
        process.off('SIGINT', onInt);
      }
    });
}

interface SheetCliOptions extends OrtCliOptions {
  model?: string;
  out: string;
  count: string;
  seed: string;
  bank?: string;
  presets?: string;
  columns: string;
  cell: string;
}

export function sheetCommand(): Command {
  return addOrtOptions(new Command('sheet'))
    .description("a contact sheet to choose a look: the model's pictures for a run of seeds (render --seed N starts there), or for a bank's presets")
    .option('--model <path>', `checkpoint directory or .onnx generator (default: the bundled ${path.basename(DEFAULT_MODEL)})`)
    .requiredOption('--out <file>', 'the PNG to write')
    .option('--count <n>', 'how many seeds', '16')
    .option('--seed <n>', 'the first seed', '1')
    .option('--bank <name>', "the presets of this bank instead of seeds")
    .option('--presets <dir>', "preset folder (default: the server's)")
    .option('--columns <n>', 'pictures per row', '4')
    .option('--cell <px>', 'pixels per picture', '192')
    .action(async (o: SheetCliOptions) => {
      await renderSheet({
        model: path.resolve(o.model ?? DEFAULT_MODEL),
        out: path.resolve(o.out),
        count: int('count', o.count, 1, 256),
        seed: int('seed', o.seed, 0, 2 ** 31 - 1),
        bank: o.bank ?? null,
        presetDir: o.presets ? path.resolve(o.presets) : DEFAULT_PRESET_DIR,
        columns: int('columns', o.columns, 1, 32),
        cell: int('cell', o.cell, 16, 1024),
        ort: ortOptionsFrom(o),
      });
    });
}

