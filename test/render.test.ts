// The offline renderer with real audio, a real model, ONNX Runtime and ffmpeg: clicks at known times move
// the latent at those frames; the video's streams and length match the song; the same inputs give the same
// frames; an interrupted render leaves a playable file and resumes; a logged live session replays exactly.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { decodeAudioFile, extractFeatures } from '../core/audio/index.ts';
import { runFfmpeg } from '../core/ffmpeg.ts';
import { setLogLevel } from '../core/log.ts';
import { parseMapping } from '../core/mapping/index.ts';
import { reactiveMappingJson } from '../core/mapping/defaults.ts';
import { NO_CAMERA } from '../core/camera.ts';
import { DEFAULT_DISPLAY } from '../protocol/display.ts';
import { Look } from '../render/look.ts';
import { OfflinePerformance } from '../render/performance.ts';
import { render, type RenderOptions } from '../render/render.ts';
import { parseTimelineText } from '../render/timeline.ts';
import { readSession } from '../instrument/session-read.ts';
import { probeJson } from '../server/recorder/probe.ts';
import { DEMO_INFOGAN } from '../presets/bundled.ts';
import { sleep, startTestServer, tempRoot, TestClient } from './helpers/server.ts';

const CLICKS = [1.0, 2.2, 3.7, 4.6];
const FPS = 30;

async function clickSong(file: string, seconds: number): Promise<void> {
  const expr = CLICKS.map((c) => `between(t,${c},${c + 0.004})`).join('+');
  await runFfmpeg(['-f', 'lavfi', '-i', `aevalsrc=exprs='(${expr})*(random(0)*2-1)*0.9':s=44100:d=${seconds}`, '-c:a', 'pcm_s16le', file]);
}

const hash = (b: Uint8Array) => createHash('sha1').update(b).digest('hex');

/** The video and audio streams of a file, with packets counted (ffprobe). */
async function streams(file: string) {
  const r = await probeJson(file, ['-count_packets', '-show_entries', 'stream=codec_type,codec_name,duration,nb_read_packets']);
  assert.ok(r?.streams, 'ffprobe ran');
  const video = r.streams.find((s) => s.codec_type === 'video');
  assert.ok(video, `${file} has a video stream`);
  return { video, audio: r.streams.find((s) => s.codec_type === 'audio'), frames: Number(video.nb_read_packets) };
}

describe('offline render', () => {
  const ctl = new AbortController();
  let root: string;
  let song: string;
  const base = (): RenderOptions => ({
    audio: song,
    model: DEMO_INFOGAN,
    mapping: null,
    preset: null,
    timeline: null,
    replay: null,
    fps: FPS,
    size: null,
    out: path.join(root, 'video.mp4'),
    seed: 3,
    smooth: false,
    upscale: null,
    batch: 4,
    segmentSeconds: 1,
    presetDir: path.join(root, 'presets'),
    ort: { intraOpNumThreads: 1 },
    progress: false,
  });
  before(async () => {
    setLogLevel('silent');
    root = await tempRoot('rhodops-render-');
    song = path.join(root, 'clicks.wav');
    await clickSong(song, 6);
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it('the latent changes most at the click frames (± 1 frame)', async () => {
    const samples = await decodeAudioFile(song);
    const features = extractFeatures(samples);
    const mapping = parseMapping({ version: 1, name: 'clicks', routes: [{ source: { kind: 'audio onset' }, transform: { out: [0, 2], envelope: { decay: 0.08 } }, target: { kind: 'direction', index: 0 } }] });
    const layout = { noise: 16, categorical: [], continuous: 0, size: 16, distribution: 'normal' as const };
    const perf = new OfflinePerformance({ layout, seed: 1, fps: FPS, mapping, features, timeline: null, presets: new Map(), smoothing: 0 });
    const frames = Math.ceil(6 * FPS);
    const change: number[] = [];
    let prev = Float32Array.from(perf.next());
    for (let i = 1; i < frames; i++) {
      const z = Float32Array.from(perf.next());
      change[i] = Math.hypot(...z.map((v, k) => v - prev[k]!));
      prev = z;
    }
    for (const c of CLICKS) {
      const at = Math.round(c * FPS);
      let best = at - 6;
      for (let i = at - 6; i <= at + 6; i++) if (change[i]! > change[best]!) best = i;
      assert.ok(Math.abs(best - at) <= 1, `the click at ${c} s (frame ${at}): the largest change is at frame ${best} (changes ${change.slice(at - 3, at + 4).map((x) => x.toFixed(2)).join(' ')})`);
    }
    const sortedChanges = change.filter((x) => x !== undefined).sort((a, b) => a - b);
    const median = sortedChanges[Math.floor(sortedChanges.length / 2)]!;
    assert.ok(Math.min(...CLICKS.map((c) => change[Math.round(c * FPS)] ?? 0)) > 5 * median + 1e-6, 'each click stands out from the frames between');
  });

  let reference: string[] = [];
  it('a music video: H.264 + AAC, as long as the song within a frame, the same frames every time', async () => {
    const hashes: string[] = [];
    const r = await render({ ...base(), onFrame: (i, rgb) => (hashes[i] = hash(rgb)) });
    assert.equal(r.frames, 6 * FPS);
    assert.equal(r.interrupted, false);
    const { video, audio, frames } = await streams(r.out);
    assert.equal(video.codec_name, 'h264');
    assert.equal(audio?.codec_name, 'aac');
    assert.equal(frames, 6 * FPS, 'one video frame per 1/30 s of song');
    const colour = (await probeJson(r.out, ['-select_streams', 'v:0', '-show_entries', 'stream=color_space,color_transfer,color_primaries,color_range,pix_fmt']))?.streams?.[0] as Record<string, string> | undefined;
    assert.deepEqual([colour?.['color_space'], colour?.['color_transfer'], colour?.['color_primaries'], colour?.['color_range'], colour?.['pix_fmt']], ['bt709', 'bt709', 'bt709', 'tv', 'yuv420p'], 'tagged as a live take is (one video writer)');
    const vd = Number(video.duration);
    const ad = Number(audio?.duration);
    assert.ok(Math.abs(vd - 6) < 1 / FPS && Math.abs(ad - vd) < 1 / FPS, `video ${vd} s and audio ${ad} s within one frame of the 6 s song`);
    await assert.rejects(fs.stat(`${r.out}.parts`), 'the segments are removed after a whole render');
    const again: string[] = [];
    await render({ ...base(), out: path.join(root, 'again.mp4'), onFrame: (i, rgb) => (again[i] = hash(rgb)) });
    assert.deepEqual(again, hashes, 'the same song, mapping and seed: byte-identical frames');
    assert.ok(new Set(hashes).size > 20, 'the frames move with the music');
    reference = hashes;
  });

  it('camera moves are drawn on the frames of their time: a flash on a square LFO whitens every other half second', async () => {
    const plain: Uint8Array[] = [];
    const seconds = 2;
    const short = path.join(root, 'two-seconds.wav');
    await runFfmpeg(['-i', song, '-t', String(seconds), '-y', short]);
    await render({ ...base(), audio: short, out: path.join(root, 'plain.mp4'), onFrame: (i, rgb) => (plain[i] = Uint8Array.from(rgb)) });
    const json = reactiveMappingJson();
    json.routes = [...json.routes, { source: { kind: 'lfo', shape: 'square', rate: 1 }, target: { kind: 'camera', move: 'flash' } }];
    const file = path.join(root, 'flash.json');
    await fs.writeFile(file, JSON.stringify(json));
    const kinds = { still: 0, flashed: 0 };
    const look = new Look(DEFAULT_DISPLAY, FPS);
    await render({
      ...base(),
      audio: short,
      mapping: file,
      out: path.join(root, 'flash.mp4'),
      onFrame: (i, rgb) => {
        const want = Uint8Array.from(plain[i]!);
        look.colour(want, { ...NO_CAMERA, flash: 1 });
        const same = (a: Uint8Array) => a.every((v, k) => Math.abs(v - rgb[k]!) <= 1);
        if (same(plain[i]!)) kinds.still++;
        else if (same(want)) kinds.flashed++;
        else assert.fail(`frame ${i} is neither the frame nor the frame flashed`);
      },
    });
    // The square LFO is high for the first half of each second: 15 frames of 30.
    assert.deepEqual(kinds, { still: seconds * 15, flashed: seconds * 15 }, 'the same latents, half of them flashed');
  });

  it('Ctrl-C leaves a playable partial video; the same command resumes and finishes the same video', async () => {
    const controller = new AbortController();
    const out = path.join(root, 'interrupted.mp4');
    const first = await render({ ...base(), out, signal: controller.signal, onFrame: (i) => i === 70 && controller.abort() });
    assert.equal(first.interrupted, true);
    const partial = await streams(out);
    assert.ok(partial.frames >= 70 && partial.frames < 180, `the partial video plays its ${partial.frames} frames`);
    assert.equal(first.heldFrames, partial.frames, 'the summary says how much the partial video holds');
    const rest: string[] = [];
    const second = await render({ ...base(), out, onFrame: (i, rgb) => (rest[i] = hash(rgb)) });
    assert.equal(second.resumedAt, 60, 'resumed at the first segment that was not finished (1 s segments)');
    assert.equal(second.rendered, 120);
    assert.deepEqual(rest.slice(60), reference.slice(60), 'the resumed frames are those of an uninterrupted render');
    assert.equal((await streams(out)).frames, 180);
  });

  it('--upscale x2: ESRGAN doubles each frame, and the picture stays the same picture', async () => {
    const short = path.join(root, 'short.wav');
    await runFfmpeg(['-f', 'lavfi', '-i', 'sine=frequency=100:duration=0.5', short]);
    const plain: Uint8Array[] = [];
    const big: Uint8Array[] = [];
    await render({ ...base(), audio: short, out: path.join(root, 'plain.mp4'), onFrame: (i, rgb) => (plain[i] = Uint8Array.from(rgb)) });
    const r = await render({ ...base(), audio: short, upscale: 2, out: path.join(root, 'big.mp4'), onFrame: (i, rgb) => (big[i] = Uint8Array.from(rgb)) });
    assert.deepEqual([r.width, r.height], [56, 56]);
    assert.equal(big[0]!.length, 56 * 56 * 3);
    const down = await sharp(big[0]!, { raw: { width: 56, height: 56, channels: 3 } }).resize(28, 28, { kernel: 'cubic' }).raw().toBuffer();
    const mad = down.reduce((acc, v, i) => acc + Math.abs(v - plain[0]![i]!), 0) / down.length;
    assert.ok(mad < 12, `the ×2 frame shrunk back is close to the model's frame: mean |Δ| ${mad.toFixed(1)} of 255`);
    assert.equal((await streams(r.out)).frames, 15);
  });

  it('a 3-minute song: audio and video end within one frame of each other; --smooth doubles the frame rate', async () => {
    const long = path.join(root, 'long.wav');
    await runFfmpeg(['-f', 'lavfi', '-i', `aevalsrc=exprs='0.4*sin(2*PI*60*t)*lt(mod(t,0.5),0.1)':s=44100:d=180`, long]);
    const r = await render({ ...base(), audio: long, batch: 8, segmentSeconds: 60, out: path.join(root, 'long.mp4') });
    const { video, audio, frames } = await streams(r.out);
    assert.equal(frames, 180 * FPS);
    const drift = Math.abs(Number(video.duration) - Number(audio?.duration));
    assert.ok(drift < 1 / FPS, `after 3 minutes video ${video.duration} s and audio ${audio?.duration} s differ by ${(drift * 1000).toFixed(1)} ms (< one frame)`);
    const smooth = await render({ ...base(), audio: long, smooth: true, batch: 8, segmentSeconds: 60, out: path.join(root, 'smooth.mp4'), onFrame: (i) => i === 60 * 4 && ctl.abort(), signal: ctl.signal });
    assert.equal(smooth.fps, 60);
    assert.ok((await streams(smooth.out)).frames >= 240, 'twice the frames per second of song');
  });

  it('a timeline of presets: a cut at its time; an unknown preset is named before rendering', async () => {
    await assert.rejects(render({ ...base(), timeline: '0:00 nowhere' }), (e: Error & { code?: string }) => e.code === 'PRESET_NOT_FOUND' && /nowhere/.test(e.message));
    const t = parseTimelineText('0:00 A, 0:32 morph to night/B over 4 s, 1:02.5 cut to C');
    assert.deepEqual(t.events, [
      { at: 0, preset: 'A', morph: 0 },
      { at: 32, preset: 'B', bank: 'night', morph: 4 },
      { at: 62.5, preset: 'C', morph: 0 },
    ]);
  });

  it('mistakes are refused before the song is decoded: a missing preset in the mapping, a bad mapping file, an --out that is a folder', async () => {
    // Not audio at all: decoding it would fail with AUDIO_FILE_INVALID, so these errors prove they came first.
    const notAudio = path.join(root, 'not-audio.mp3');
    await fs.writeFile(notAudio, 'not audio');
    const mappingFile = path.join(root, 'recalls.json');
    await fs.writeFile(mappingFile, JSON.stringify({ version: 1, name: 'pads', routes: [{ source: { kind: 'audio onset' }, target: { kind: 'preset recall', name: 'nowhere' } }] }));
    await assert.rejects(render({ ...base(), audio: notAudio, mapping: mappingFile }), (e: Error & { code?: string }) => e.code === 'PRESET_NOT_FOUND' && /the mapping names preset 'default\/nowhere'/.test(e.message));
    const broken = path.join(root, 'broken.json');
    await fs.writeFile(broken, '{"version": 1, "routes": [');
    await assert.rejects(render({ ...base(), audio: notAudio, mapping: broken }), (e: Error & { code?: string }) => e.code === 'MAPPING_INVALID');
    await assert.rejects(render({ ...base(), audio: notAudio, out: root }), (e: Error & { code?: string; hint?: string }) => e.code === 'BAD_OPTION' && /is a folder/.test(e.message) && /video\.mp4/.test(e.hint ?? ''));
  });

  it('a live session replays at the video frame times with the live latents exactly, and the song starts where it was', async () => {
    // A chirp (200 Hz rising 200 Hz a second): the frequency at any moment says where in the song it is.
    const chirp = path.join(root, 'chirp.wav');
    await runFfmpeg(['-f', 'lavfi', '-i', 'aevalsrc=0.5*sin(2*PI*(200*t+100*t*t)):s=44100:d=8', '-y', chirp]);
    const server = await startTestServer(root, { fps: 30, model: DEMO_INFOGAN });
    try {
      const c = await TestClient.connect(server);
      const playing = await fetch(`${server.url}api/audio`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: { kind: 'file', file: 'chirp.wav' } }) });
      assert.equal(playing.status, 200, await playing.clone().text());
      await sleep(1500);
      const started = (await (await fetch(`${server.url}api/sessions/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { file: string };
      for (const m of [{ type: 'drift', speed: 1 }, { type: 'category', code: 0, value: 7 }, { type: 'midi', bytes: [0xb0, 3, 120] }, { type: 'continuous', index: 1, value: -1.5 }]) {
        c.send(m);
        await sleep(300);
      }
      await fetch(`${server.url}api/sessions/stop`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      c.close();
      const r = await render({ ...base(), audio: null, replay: started.file, out: path.join(root, 'replay.mp4') });
      assert.ok(r.frames >= 30, `about 1.2 s of frames: ${r.frames}`);
      assert.equal(r.replayExact, r.rendered, 'every replayed latent has its live frame\'s hash');

      // With the song: it starts where it was when the log began, without the user saying where.
      const at = (await readSession(started.file)).header.audio?.positionS ?? 0;
      assert.ok(at > 1, `the log says the song was at ${at} s`);
      const withSong = await render({ ...base(), audio: chirp, replay: started.file, out: path.join(root, 'replay-song.mp4') });
      const heard = await decodeAudioFile(withSong.out);
      // Zero crossings over 0.2 s from 0.1 s in (past the AAC encoder's priming): the chirp's frequency there.
      const from = Math.round(0.1 * 44100);
      const span = Math.round(0.2 * 44100);
      let crossings = 0;
      for (let i = from + 1; i < from + span; i++) if (heard[i - 1]! < 0 !== heard[i]! < 0) crossings++;
      const hz = crossings / 2 / 0.2;
      const songTime = (hz - 200) / 200 - 0.2;
      assert.ok(Math.abs(songTime - at) < 0.1, `the video's sound is the song at ${songTime.toFixed(2)} s (${hz.toFixed(0)} Hz); the log began at ${at.toFixed(2)} s`);
    } finally {
      await server.close();
    }
  });
});
