/**
 * `rhodops render`: a song, a model and a mapping into a music video, or a logged live session re-rendered.
 * Frames are made in batches and encoded in segments of a few seconds; a render interrupted (Ctrl-C, a
 * crash) resumes at its first missing segment, and Ctrl-C first writes a playable partial video.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { decodeAudioFile, extractFeatures, probeDuration, type FeatureFrame } from '../core/audio/index.ts';
import { RhodopsError, messageOf } from '../core/errors.ts';
import type { LatentStateJson } from '../core/latent/index.ts';
import { logger } from '../core/log.ts';
import { fileStamp, modelStamp } from '../core/fsutil.ts';
import { DEFAULT_MAPPING, mappingToJson, type Mapping } from '../core/mapping/index.ts';
import { BUILT_IN_MAPPINGS } from '../core/mapping/defaults.ts';
import { ThreadedGenerator } from '../core/runtime/threaded.ts';
import { openUpscaler, type UpscaleFactor, type Upscaler } from '../core/upscale/esrgan.ts';
import type { OrtOptions } from '../core/runtime/ort.ts';
import type { GeneratorInfo } from '../core/runtime/types.ts';
import { checkCompatible } from '../presets/layout.ts';
import { layoutMismatches } from '../core/latent/state.ts';
import { PresetStore } from '../presets/store.ts';
import { readMappingFile } from '../instrument/mapping-files.ts';
import { readSession, replayLatents, type ReplayedFrame, type Session } from '../instrument/session-read.ts';
import { presetKey } from '../instrument/instrument.ts';
import { OfflinePerformance } from './performance.ts';
import { Look } from './look.ts';
import { NO_CAMERA, quantizeCamera, type Camera } from '../core/camera.ts';
import { DEFAULT_DISPLAY, type DisplayChange } from '../protocol/display.ts';
import { cachedGains } from '../instrument/calibration.ts';
import { modelPrincipalDirections } from '../instrument/principal.ts';
import type { LiveGains } from '../instrument/live-state.ts';
import { assembleVideo, segmentName, SegmentEncoder } from './segments.ts';
import { encodeSegment, type FramePipeline } from './segment-frames.ts';
import { FarmCoordinator, type FarmOptions } from './farm/coordinator.ts';
import { loadTimeline, snapToBeats, type Timeline } from './timeline.ts';
import { checkRange } from '../core/options.ts';
import { FPS_RANGE } from '../core/video.ts';

const log = logger('render');
const AUDIO_RATE = 44100;

export interface RenderOptions {
  /** The song: its features drive the mapping and it is muxed into the video. Optional with `replay`. */
  audio: string | null;
  model: string;
  /** A mapping file, or the name of a built-in one (`pulse`, `motion`, `harmony`, `knobs`, `default`). */
  mapping: string | null;
  /** `name` or `bank/name`: the state at 0 s. */
  preset: string | null;
  timeline: string | null;
  /** A session log to re-render (the live latents exactly, at the video's frame times). */
  replay: string | null;
  fps: number;
  /** Output width and height (square models); null = the model's own size. */
  size: number | null;
  out: string;
  seed: number;
  /** Twice the frame rate, by rendering the latents in between. */
  smooth: boolean;
  /** ESRGAN ×2 or ×4 on every frame before any resize to `size`; 'auto' picks it for small models (autoUpscale). */
  upscale: UpscaleFactor | 'auto' | null;
  /** The latent smoothing time constant (s); null: the start preset's, else the instrument's default. */
  smoothing?: number | null;
  batch: number;
  segmentSeconds: number;
  presetDir: string;
  ort: Partial<OrtOptions>;
  /** Where model calibrations are cached (default ~/.cache/rhodops/calibration). */
  calibrationCacheDir?: string;
  /** The output pages' look (sharpening, colour, trails; render/look.ts), so the video looks like the show. */
  look?: DisplayChange;
  /** The latent directions: seeded random ones (default), or the model's principal ones, as `serve --directions`. */
  directions?: 'random' | 'principal';
  directionsCacheDir?: string;
  /** Aborting stops after the current batch and writes a playable partial video. */
  signal?: AbortSignal;
  progress: boolean;
  /** Each frame's RGB as encoded (tests compare them). */
  onFrame?: (index: number, rgb: Uint8Array) => void;
  /** Render the segments on a farm of workers (render/farm/): its Redis, and optionally a shared folder. */
  farm?: FarmOptions;
}

export interface RenderSummary {
  out: string;
  frames: number;
  /** Frames rendered by this run (fewer than `frames` when it resumed). */
  rendered: number;
  resumedAt: number;
  fps: number;
  durationS: number;
  width: number;
  height: number;
  seconds: number;
  /** Seconds of video made per second of rendering. */
  realtimeMultiple: number;
  interrupted: boolean;
  /** Frames the video at `out` holds from the start: all of them, unless interrupted. */
  heldFrames: number;
  /** With `replay`: frames whose latent had the live frame's hash (of the frames rendered). */
  replayExact?: number;
}

/** Where the video's frames come from: a performance computed from the song, or a session replayed. */
interface LatentSequence {
  next(): Float32Array;
  /** The camera moves of the frame `next()` returned last. */
  readonly camera: Camera;
}

/** The live frames at the video's times: for video frame i, the last live frame made at or before i/fps. */
class ReplaySource implements LatentSequence {
  private readonly frames: Generator<ReplayedFrame>;
  private current: ReplayedFrame | null = null;
  private ahead: ReplayedFrame | null = null;
  private index = 0;
  exact = 0;
  constructor(
    session: Session,
    private readonly fps: number,
    mapping: Mapping | undefined,
  ) {
    this.frames = replayLatents(session, mapping ? { mapping } : {});
  }
  next(): Float32Array {
    const t = this.index++ / this.fps;
    for (;;) {
      this.ahead ??= this.frames.next().value ?? null;
      if (!this.ahead || (this.current && this.ahead.time > t + 1e-9)) break;
      this.current = this.ahead;
      this.ahead = null;
    }
    if (!this.current) throw new RhodopsError('SESSION_INVALID', 'the session log has no frames to replay');
    if (this.current.exact) this.exact++;
    return this.current.latent;
  }
  get camera(): Camera {
    return this.current?.camera ?? NO_CAMERA;
  }
}

/**
 * ESRGAN where it pays: ×4 for models up to 128² that the output is more than twice as wide as, ×2 for models up to
 * 256² that it is wider than; lanczos alone otherwise (ESRGAN on larger frames costs more than it shows).
 */
export function autoUpscale(side: number, size: number | null): UpscaleFactor | null {
  if (size === null) return null;
  if (side <= 128 && side * 2 < size) return 4;
  if (side <= 256 && side < size) return 2;
  return null;
}

async function loadPresets(dir: string, spec: GeneratorInfo['latent'], modelName: string, presetSmoothing: Map<string, number>): Promise<Map<string, LatentStateJson>> {
  const store = new PresetStore({ dir });
  const out = new Map<string, LatentStateJson>();
  const list = await store.list().catch(() => null);
  for (const p of list?.presets ?? []) {
    const preset = await store.load(p.bank, p.name).catch(() => null);
    if (!preset) continue;
    try {
      checkCompatible(preset, spec, modelName);
      out.set(presetKey(p.bank, p.name), preset.state);
      if (preset.smoothing?.timeConstant !== undefined) presetSmoothing.set(presetKey(p.bank, p.name), preset.smoothing.timeConstant);
    } catch (e) {
      log.debug(`preset ${p.bank}/${p.name} left out: ${messageOf(e)}`);
    }
  }
  return out;
}

function needPreset(presets: ReadonlyMap<string, LatentStateJson>, ref: string, dir: string, who = 'render'): LatentStateJson {
  const key = ref.includes('/') ? ref : presetKey(undefined, ref);
  const state = presets.get(key);
  if (!state) throw new RhodopsError('PRESET_NOT_FOUND', `${who} names preset '${key}', which is not in ${dir} (or is for another latent layout)`, { hint: `presets there: ${[...presets.keys()].join(', ') || 'none'}` });
  return state;
}

/**
 * Where a replay's song starts: where it was when the session log began, if `--audio` is that song (by name);
 * and whether it looped. A render of a song (no replay) starts it at 0.
 */
function songPlacement(session: Session | null, audio: string | null): { audioOffset?: number; audioLoop?: boolean } {
  const playing = session?.header.audio;
  if (!playing || !audio) return {};
  if (path.basename(playing.file) !== path.basename(audio)) {
    log.warn(`the session was played over ${path.basename(playing.file)}, not ${path.basename(audio)}: the song starts at 0`);
    return {};
  }
  return { audioOffset: playing.positionS, audioLoop: playing.loop };
}

/** `bank/name` of every preset the mapping recalls or morphs between. */
function mappingPresetRefs(mapping: Mapping): string[] {
  const refs: string[] = [];
  for (const r of mapping.routes) {
    if (!r.enabled) continue;
    const t = r.target;
    if (t.kind === 'preset recall') refs.push(presetKey(t.bank, t.name));
    if (t.kind === 'morph') refs.push(presetKey(t.from.bank, t.from.name), presetKey(t.to.bank, t.to.name));
  }
  return refs;
}

/**
 * Refuses an output that cannot be written before anything renders: a folder, a folder that cannot be made or
 * written, or a disk with less room than the video will take (a generous 2 MB a second, twice: segments, then the MP4).
 */
async function checkOutput(out: string, durationS: number | null): Promise<void> {
  const st = await fs.stat(out).catch(() => null);
  if (st?.isDirectory()) throw new RhodopsError('BAD_OPTION', `--out ${out} is a folder`, { hint: `name the video file, e.g. --out ${path.join(out, 'video.mp4')}` });
  const dir = path.dirname(out);
  try {
    await fs.mkdir(dir, { recursive: true });
    const probe = path.join(dir, `.${path.basename(out)}.write-test`);
    await fs.writeFile(probe, '');
    await fs.rm(probe, { force: true });
  } catch (e) {
    throw new RhodopsError('OUTPUT_UNWRITABLE', `cannot write into ${dir}: ${messageOf(e)}`, { hint: 'pick a folder you can write to (--out), or fix its permissions' });
  }
  const fsStat = await fs.statfs(dir).catch(() => null);
  const need = ((durationS ?? 60) * 2 * 2 + 20) * 2 ** 20;
  if (fsStat && fsStat.bavail * fsStat.bsize < need) {
    throw new RhodopsError('OUTPUT_UNWRITABLE', `${dir} has ${(fsStat.bavail * fsStat.bsize / 2 ** 20).toFixed(0)} MB free; this render needs about ${(need / 2 ** 20).toFixed(0)} MB`, { hint: 'free some space, or write the video elsewhere (--out)' });
  }
}

export async function render(o: RenderOptions): Promise<RenderSummary> {
  checkRange('--fps', o.fps, FPS_RANGE);
  if (!o.audio && !o.replay) throw new RhodopsError('BAD_OPTION', 'render needs --audio SONG (or --replay SESSION)', { hint: 'rhodops render --audio song.mp3 --out video.mp4' });
  if (o.size !== null) checkRange('--size', o.size, { min: 16, max: 4096, integer: true });
  const started = performance.now();
  const fps = o.smooth ? o.fps * 2 : o.fps;
  const session = o.replay ? await readSession(o.replay) : null;
  if (session && !session.end) log.warn(`${o.replay} has no end line (the server stopped without closing it); replaying what it has`);
  // On its own thread: ONNX Runtime blocks the thread it runs on, and this one feeds ffmpeg meanwhile.
  const gen = await ThreadedGenerator.open(o.model, { engine: 'ort', ort: o.ort });
  let upscaler: Upscaler | null = null;
  let farm: FarmCoordinator | null = null;
  try {
    // Before the song is decoded: an unreachable Redis, or a look that cannot be split, is said at once.
    if (o.farm) farm = await FarmCoordinator.connect(o.farm, o.look);
    const info = gen.info;
    const diffs = session ? layoutMismatches(session.header.live.spec, info.latent, `${info.name}'s`, 'the session') : [];
    if (diffs.length > 0) {
      throw new RhodopsError('BAD_OPTION', `the session was played on ${session!.header.model.name}, whose latent differs from ${info.name}'s: ${diffs.join('; ')}`, { hint: 'replay it with that model, or another checkpoint of the same latent layout' });
    }
    // Everything that can be refused is checked before the song is decoded (seconds for a long one).
    const builtIn = o.mapping === null ? undefined : BUILT_IN_MAPPINGS[o.mapping];
    const mapping: Mapping = builtIn ? builtIn() : o.mapping ? await readMappingFile(o.mapping) : DEFAULT_MAPPING;
    const presetSmoothing = new Map<string, number>();
    const presets = await loadPresets(o.presetDir, info.latent, info.name, presetSmoothing);
    let timeline: Timeline | null = o.timeline ? await loadTimeline(o.timeline) : null;
    for (const e of timeline?.events ?? []) needPreset(presets, e.bank ? `${e.bank}/${e.preset}` : e.preset, o.presetDir);
    if (!session) for (const ref of mappingPresetRefs(mapping)) needPreset(presets, ref, o.presetDir, 'the mapping');
    const start = o.preset ? needPreset(presets, o.preset, o.presetDir) : undefined;
    await checkOutput(o.out, o.audio ? await probeDuration(o.audio) : null);

    let features: FeatureFrame[] = [];
    let durationS: number;
    if (o.audio) {
      const samples = await decodeAudioFile(o.audio, AUDIO_RATE);
      durationS = samples.length / AUDIO_RATE;
      const said = await probeDuration(o.audio);
      if (said !== null && durationS < said - 0.5) {
        log.warn(`${path.basename(o.audio)} says it lasts ${said.toFixed(1)} s but decodes to ${durationS.toFixed(1)} s: the file may be cut short; the video follows what decodes`);
      }
      if (!session) features = extractFeatures(samples, { sampleRate: AUDIO_RATE });
    }
    if (session) {
      const last = [...session.events].reverse().find((e) => e.kind === 'frame');
      durationS = last ? last.t - session.header.t0 : 0;
    }
    durationS = durationS!;
    const total = Math.max(1, Math.ceil(durationS * fps - 1e-9));
    if (timeline) timeline = snapToBeats(timeline, features.filter((f) => f.beat).map((f) => f.time));
    const smoothing = o.smoothing ?? (o.preset ? presetSmoothing.get(o.preset.includes('/') ? o.preset : presetKey(undefined, o.preset)) : undefined);
    let gains: LiveGains | null = null;
    let source: LatentSequence & { exact?: number };
    if (session) source = new ReplaySource(session, fps, o.mapping ? mapping : undefined);
    else {
      const performance = new OfflinePerformance({ layout: info.latent, seed: o.seed, fps, mapping, features, timeline, presets, ...(start ? { start } : {}), ...(smoothing !== undefined ? { smoothing } : {}) });
      if (o.directions === 'principal') {
        const dirs = await modelPrincipalDirections({ path: o.model, name: info.name, latent: info.latent, generate: (l, n) => gen.generate(l, n) }, performance.directions.length, o.directionsCacheDir);
        performance.setDirections(dirs);
      }
      // The same gains as the live server's for this model, so a mapping moves the picture alike in both.
      gains = await cachedGains({ latent: info.latent, id: await modelStamp(o.model), generate: (l, n) => gen.generate(l, n) }, performance.directions, o.calibrationCacheDir);
      performance.setGains(gains);
      source = performance;
    }

    // The camera moves of a mapping are drawn even without a look of the page's.
    const look = new Look({ ...DEFAULT_DISPLAY, ...o.look }, fps);
    // Odd sides are padded by the encoder (core/video.ts), as a live take's are.
    const upscale = o.upscale === 'auto' ? autoUpscale(info.width, o.size) : o.upscale;
    const factor = upscale ?? 1;
    const width = o.size ?? info.width * factor;
    const height = o.size ? Math.round((o.size * info.height) / info.width) : info.height * factor;
    const workDir = `${o.out}.parts`;
    // What decides the frames: a change of any of it starts the render over instead of resuming.
    const plan = createHash('sha256')
      .update(JSON.stringify({ v: 1, upscale, smoothing: smoothing ?? null, audio: await fileStamp(o.audio), model: await modelStamp(o.model), mapping: mappingToJson(mapping), preset: start ?? null, timeline, gains, directions: o.directions ?? 'random', look: o.look ? look.settings : null, replay: await fileStamp(o.replay), fps, width, height, seed: o.seed, batch: o.batch, seg: o.segmentSeconds, precision: o.ort.precision ?? 'fp32' }))
      .digest('hex');
    await fs.mkdir(workDir, { recursive: true });
    const planFile = path.join(workDir, 'plan.txt');
    if ((await fs.readFile(planFile, 'utf8').catch(() => '')) !== plan) {
      const old = (await fs.readdir(workDir)).filter((f) => f.startsWith('segment-'));
      if (old.length) log.info(`${workDir}: the inputs changed since those ${old.length} segments; starting over`);
      for (const f of old) await fs.rm(path.join(workDir, f), { force: true });
      await fs.writeFile(planFile, plan);
    }
    // Batches start at each segment's first frame, so a resumed render batches (and rounds) as an uninterrupted one.
    const segFrames = Math.max(1, Math.round(o.segmentSeconds * fps));
    const segments = Math.ceil(total / segFrames);
    const done = new Set(await fs.readdir(workDir));
    let first = 0;
    while (first < segments && done.has(segmentName(first))) first++;
    if (first > 0 && look.remembers) {
      log.info('trails carry every frame into the next: rendering from the start, not resuming');
      first = 0;
    }
    const resumedAt = first * segFrames;
    if (resumedAt > 0) log.info(`resuming at frame ${resumedAt} of ${total} (${first} segments done)`);
    // The latents of the frames already encoded are computed again, without rendering: cheap, and exact.
    for (let i = 0; i < Math.min(resumedAt, total); i++) source.next();

    const t0 = performance.now();
    let rendered = 0;
    let interrupted = false;
    const segmentFiles: string[] = [];
    for (let s = 0; s < first; s++) segmentFiles.push(path.join(workDir, segmentName(s)));
    let tail: string | null = null;
    let held = 0;
    if (farm) {
      // Segments are rendered by workers elsewhere; the latents (cheap) are computed here, in order, as below.
      const r = await farm.render({
        plan, workDir, first, segments, segFrames, total, fps, width, height, batch: o.batch, upscale, look: o.look ?? null,
        precision: o.ort.precision ?? 'fp32', model: o.model, progress: o.progress, ...(o.signal ? { signal: o.signal } : {}),
        next: () => ({ latent: source.next(), camera: quantizeCamera(source.camera) }),
      });
      segmentFiles.push(...r.files);
      rendered = r.rendered;
      interrupted = r.interrupted;
      // Segments that came in out of order are kept for the next run, but the video stops at the first gap.
      held = Math.min(total, segmentFiles.length * segFrames);
    } else {
      upscaler = upscale ? await openUpscaler(upscale, { ort: o.ort }) : null;
      const pipeline: FramePipeline = { gen, upscaler, width, height, look, batch: o.batch };
      const bar = o.progress
        ? new cliProgress.SingleBar(
            { format: 'render |{bar}| {value}/{total} frames | ×{speed} real time | ETA {eta_formatted}', stream: process.stderr, hideCursor: true, etaBuffer: 100 },
            cliProgress.Presets.shades_classic,
          )
        : null;
      bar?.start(total, resumedAt, { speed: '-' });
      // Without a terminal (a log file, CI), a line every 10 s instead of the bar.
      let lastLine = performance.now();
      try {
        for (let s = first; s < segments && !interrupted; s++) {
          const from = s * segFrames;
          const to = Math.min(total, from + segFrames);
          const enc = await SegmentEncoder.start(path.join(workDir, segmentName(s)), { width, height, fps });
          try {
            const written = await encodeSegment(pipeline, to - from, () => ({ latent: source.next(), camera: quantizeCamera(source.camera) }), enc, {
              ...(o.onFrame ? { onFrame: (k: number, rgb: Uint8Array) => o.onFrame!(from + k, rgb) } : {}),
              stop: () => !!o.signal?.aborted,
              onBatch: (k) => {
                const i = from + k;
                rendered = i - resumedAt;
                const secs = (performance.now() - t0) / 1000;
                bar?.update(i, { speed: (rendered / fps / Math.max(secs, 1e-3)).toFixed(2) });
                if (!bar && performance.now() - lastLine > 10_000) {
                  lastLine = performance.now();
                  const speed = rendered / fps / Math.max(secs, 1e-3);
                  log.info(`${i}/${total} frames (${((100 * i) / total).toFixed(0)} %), ×${speed.toFixed(2)} real time, ${((total - i) / fps / Math.max(speed, 1e-3)).toFixed(0)} s to go`);
                }
              },
            });
            if (written < to - from) interrupted = true;
            if (interrupted) {
              // A short last piece for the partial video; not a segment, so a resume renders this one again.
              tail = path.join(workDir, 'interrupted.mkv');
              await enc.finish();
              await fs.rename(enc.file, tail);
            } else {
              await enc.finish();
              segmentFiles.push(enc.file);
              if (o.signal?.aborted) interrupted = s + 1 < segments;
            }
          } catch (e) {
            await enc.abort();
            throw e;
          }
        }
      } finally {
        bar?.stop();
      }
      held = resumedAt + rendered;
    }
    // A farm render stopped before its first segment came in has nothing to show yet (its segments stay queued).
    if (segmentFiles.length > 0 || tail) await assembleVideo({ segments: tail ? [...segmentFiles, tail] : segmentFiles, audio: o.audio, out: o.out, workDir, ...songPlacement(session, o.audio) });
    if (tail) await fs.rm(tail, { force: true });
    if (!interrupted) await fs.rm(workDir, { recursive: true, force: true });
    const seconds = (performance.now() - started) / 1000;
    const renderSecs = (performance.now() - t0) / 1000;
    return {
      out: o.out,
      frames: total,
      rendered,
      resumedAt,
      fps,
      durationS,
      width,
      height,
      seconds,
      realtimeMultiple: rendered / fps / Math.max(renderSecs, 1e-3),
      interrupted,
      heldFrames: held,
      ...(session ? { replayExact: (source as ReplaySource).exact } : {}),
    };
  } finally {
    await farm?.close();
    await upscaler?.dispose();
    await gen.dispose();
  }
}
