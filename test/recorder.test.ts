// Recording takes with the real ffmpeg and ffprobe: streams, frame counts and durations of what lands on disk,
// backpressure (bounded queue, dropped frames counted, pushFrame never waits), and ffmpeg killed mid-take.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { isRhodopsError } from '../core/errors.ts';
import { setLogLevel } from '../core/log.ts';
import { Recorder, defaultQueueFrames, type Take } from '../server/recorder/index.ts';
import { evenSize, videoFilter } from '../core/video.ts';
import { FrameQueue } from '../server/recorder/queue.ts';
import { rejectsWith } from './helpers/assert.ts';

const run = promisify(execFile);

interface Stream {
  codec_type: string;
  codec_name: string;
  pix_fmt?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  nb_read_frames?: string;
  duration?: string;
}

async function ffprobe(file: string): Promise<{ streams: Stream[]; duration: number }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-show_format', '-of', 'json', file]);
  const j = JSON.parse(stdout) as { streams: Stream[]; format: { duration: string } };
  return { streams: j.streams, duration: Number(j.format.duration) };
}

function only(streams: Stream[], type: string): Stream {
  const s = streams.filter((x) => x.codec_type === type);
  assert.equal(s.length, 1, `one ${type} stream, got ${s.length}`);
  return s[0]!;
}

/** A gradient that moves with i, so every frame differs. */
function gradient(width: number, height: number, i: number, out = new Uint8Array(width * height * 3)): Uint8Array {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      out[o] = (x * 4 + i * 6) & 255;
      out[o + 1] = (y * 5 + i * 2) & 255;
      out[o + 2] = (x + y + i * 9) & 255;
    }
  }
  return out;
}

async function record(take: Take, frames: number): Promise<void> {
  const buf = new Uint8Array(take.options.width * take.options.height * 3);
  // One buffer reused for every frame: the take copies what it queues.
  for (let i = 0; i < frames; i++) assert.equal(take.pushFrame(gradient(take.options.width, take.options.height, i, buf)), true);
}

const FRAME_S = 1 / 30;
let root: string;
let sine3s: string;

/** Every take started, so a failed test cannot leave an ffmpeg waiting on stdin (and the test process with it). */
const started: Take[] = [];
async function start(opts: Parameters<typeof Recorder.start>[0]): Promise<Take> {
  const take = await Recorder.start(opts);
  started.push(take);
  return take;
}

describe('recorder', () => {
  before(async () => {
    setLogLevel('silent');
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-rec-'));
    sine3s = path.join(root, 'sine-3s.wav');
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=3', sine3s]);
  });
  after(async () => {
    await Promise.all(started.map((t) => t.stop()));
    await fs.rm(root, { recursive: true, force: true });
  });

  it('records 60 frames at 30 fps into an H.264 yuv420p MP4 of 2.0 s; the verified MKV is removed; list() shows it', async () => {
    const dir = path.join(root, 'plain');
    const take = await start({ dir, name: 'plain', width: 64, height: 48, fps: 30 });
    assert.equal(take.state, 'recording');
    await record(take, 60);
    const s = await take.stop();
    assert.equal(take.state, 'done');
    assert.equal(s.error, undefined);
    assert.deepEqual(s.files, { mp4: path.join(dir, 'plain.mp4') });
    assert.equal(s.framesWritten, 60);
    assert.equal(s.framesDropped, 0);
    assert.equal(s.durationS, 2);
    assert.equal(s.audio, false);
    assert.equal(s.verified, true);

    const p = await ffprobe(s.files.mp4!);
    assert.equal(p.streams.length, 1);
    const v = only(p.streams, 'video');
    assert.equal(v.codec_name, 'h264');
    assert.equal(v.pix_fmt, 'yuv420p');
    assert.equal(`${v.width}x${v.height}`, '64x48');
    assert.equal(v.nb_read_frames, '60');
    assert.equal(v.avg_frame_rate, '30/1', 'constant 30 fps, not millisecond-rounded timestamps');
    assert.ok(Math.abs(p.duration - 2) <= FRAME_S, `duration ${p.duration}`);

    const listed = await Recorder.list(dir);
    assert.deepEqual(
      listed.map((t) => [t.file, t.kind, t.take, t.recording]),
      [['plain.mp4', 'mp4', 'plain', false]],
    );
    assert.ok(listed[0]!.bytes > 0);
    assert.ok(Math.abs(listed[0]!.durationS! - 2) <= FRAME_S);
    // Pushing after stop is refused quietly; stopping again gives the same summary.
    assert.equal(take.pushFrame(new Uint8Array(64 * 48 * 3)), false);
    assert.equal(await take.stop(), s);
  });

  it('muxes an audio file as AAC, cut to the take’s length', async () => {
    const take = await start({ dir: path.join(root, 'audio'), width: 64, height: 48, fps: 30, audio: sine3s });
    await record(take, 60);
    const s = await take.stop();
    assert.equal(s.audio, true);
    const p = await ffprobe(s.files.mp4!);
    assert.equal(only(p.streams, 'video').nb_read_frames, '60');
    const a = only(p.streams, 'audio');
    assert.equal(a.codec_name, 'aac');
    assert.ok(Math.abs(Number(a.duration) - 2) <= FRAME_S, `audio lasts ${a.duration} s, the take 2 s (the file 3 s)`);
    assert.ok(Math.abs(p.duration - 2) <= FRAME_S, `duration ${p.duration}`);
  });

  it('a song played along in a loop stays audible after it wraps: the take loops it from where it was', async () => {
    // A 3 s tone joined by the take at 2.5 s, for a 2 s take: the song wraps 0.5 s in.
    const audioAfterWrap = async (audioLoop: boolean) => {
      const take = await start({ dir: path.join(root, 'looped'), width: 64, height: 48, fps: 30, audio: sine3s, audioOffset: 2.5, audioLoop });
      await record(take, 60);
      const s = await take.stop();
      const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', s.files.mp4!, '-vn', '-ac', '1', '-ar', '8000', '-f', 'f32le', '-'], { encoding: 'buffer', maxBuffer: 1 << 24 });
      const pcm = new Float32Array(stdout.buffer, stdout.byteOffset, stdout.byteLength / 4);
      assert.ok(pcm.length >= 1.95 * 8000, `${(pcm.length / 8000).toFixed(2)} s of audio`);
      // RMS from 1 s to 1.9 s (the sine source's amplitude is 1/8: RMS 0.088).
      return Math.sqrt(pcm.subarray(8000, 15200).reduce((t, v) => t + v * v, 0) / 7200);
    };
    const looped = await audioAfterWrap(true);
    assert.ok(looped > 0.06, `the tone goes on after the wrap (RMS ${looped.toFixed(3)})`);
    const once = await audioAfterWrap(false);
    assert.ok(once < 0.01, `without the loop it falls silent (RMS ${once.toFixed(3)})`);
  });

  it('refuses a missing audio file and bad options before starting ffmpeg', async () => {
    const dir = path.join(root, 'bad');
    await rejectsWith(Recorder.start({ dir, width: 64, height: 48, fps: 30, audio: path.join(root, 'nope.wav') }), 'RECORDING_AUDIO_INVALID', 'nope.wav');
    const notAudio = path.join(root, 'not-audio.txt');
    await fs.writeFile(notAudio, 'hello');
    await rejectsWith(Recorder.start({ dir, width: 64, height: 48, fps: 30, audio: notAudio }), 'RECORDING_AUDIO_INVALID', 'not-audio.txt');
    await assert.rejects(Recorder.start({ dir, width: 64, height: 48, fps: 29.97 }), (e) => isRhodopsError(e, 'BAD_OPTION') && /fps/.test(e.message));
    await assert.rejects(Recorder.start({ dir, name: '../escape', width: 64, height: 48, fps: 30 }), (e) => isRhodopsError(e, 'BAD_OPTION'));
    await assert.rejects(Recorder.start({ dir, width: 0, height: 48, fps: 30 }), (e) => isRhodopsError(e, 'BAD_OPTION') && /width/.test(e.message));
    const file = path.join(root, 'a-file');
    await fs.writeFile(file, '');
    await rejectsWith(Recorder.start({ dir: path.join(file, 'sub'), width: 64, height: 48, fps: 30 }), 'RECORDING_DIR_UNWRITABLE', 'a-file');
    assert.deepEqual(await Recorder.list(dir), []);
  });

  it('smooth: writes a 2×fps copy through minterpolate with about twice the frames', async () => {
    const take = await start({ dir: path.join(root, 'smooth'), width: 64, height: 48, fps: 30, smooth: true });
    await record(take, 30);
    const s = await take.stop();
    assert.ok(s.files.smooth?.endsWith('.smooth.mp4'));
    const p = await ffprobe(s.files.smooth!);
    const v = only(p.streams, 'video');
    assert.equal(v.avg_frame_rate, '60/1');
    const n = Number(v.nb_read_frames);
    assert.ok(n >= 2 * 30 - 4 && n <= 2 * 30, `${n} frames from 30`);
  });

  it('odd sizes (63×47) are padded to even (64×48) and record', async () => {
    assert.deepEqual(evenSize(63, 47), { width: 64, height: 48 });
    assert.match(videoFilter(63, 47), /^pad=64:48:0:0/);
    assert.doesNotMatch(videoFilter(64, 48), /pad/);
    const take = await start({ dir: path.join(root, 'odd'), width: 63, height: 47, fps: 30 });
    assert.deepEqual(take.encodedSize, { width: 64, height: 48 });
    await record(take, 30);
    const s = await take.stop();
    assert.equal(s.verified, true);
    const v = only((await ffprobe(s.files.mp4!)).streams, 'video');
    assert.equal(`${v.width}x${v.height}`, '64x48');
    assert.equal(v.nb_read_frames, '30');
  });

  it('capture times: ticks the render loop skipped are filled with the previous frame, so the take stays on the clock', async () => {
    const take = await start({ dir: path.join(root, 'clock'), width: 64, height: 48, fps: 30, queueFrames: 120 });
    const t0 = 1_000_000;
    // Every other tick missing: 30 frames over 2 s.
    for (let i = 0; i < 30; i++) assert.equal(take.pushFrame(gradient(64, 48, i), t0 + (i * 2000) / 30), true);
    // A wrong-sized frame (a model switch to another resolution) is refused, not thrown.
    assert.equal(take.pushFrame(new Uint8Array(10)), false);
    const st = take.stats();
    assert.equal(st.repeated, 29);
    assert.equal(st.rejected, 1);
    const s = await take.stop();
    assert.equal(s.framesWritten, 59);
    assert.equal(s.framesRepeated, 29);
    assert.equal(only((await ffprobe(s.files.mp4!)).streams, 'video').nb_read_frames, '59');
  });

  it('backpressure: a stalled ffmpeg (SIGSTOP) cannot block pushFrame; the queue stays at its cap, drops are counted, and the take completes once ffmpeg resumes', async (t) => {
    const [w, h, cap] = [1280, 720, 10];
    assert.equal(defaultQueueFrames({ width: w, height: h, fps: 30 }), 60, '2 s of frames by default');
    assert.equal(defaultQueueFrames({ width: 4096, height: 4096, fps: 60 }), 5, 'at most 256 MiB by default');
    const take = await start({ dir: path.join(root, 'pressure'), width: w, height: h, fps: 30, queueFrames: cap });
    const frames = Array.from({ length: 4 }, (_, i) => gradient(w, h, i * 10));
    const pid = take.pid!;
    // ffmpeg takes no more bytes: the pipe fills within the first frame (2.6 MiB against a 64 KiB pipe), so a
    // writer that waited on ffmpeg would wait forever, and every frame after the cap's worth must be dropped.
    process.kill(pid, 'SIGSTOP');
    const stalled = 300;
    const rss0 = process.memoryUsage().rss;
    let rssMax = rss0;
    let maxQueued = 0;
    let accepted = 0;
    try {
      for (let i = 0; i < stalled; i++) {
        // pushFrame is synchronous: if it returns at all while ffmpeg is stopped, it did not wait for ffmpeg.
        if (take.pushFrame(frames[i % frames.length]!)) accepted++;
        maxQueued = Math.max(maxQueued, take.stats().queued);
        if (i % 8 === 0) rssMax = Math.max(rssMax, process.memoryUsage().rss);
        await tick(); // a render loop yields between frames; the writer runs then and finds the pipe full
      }
      const st = take.stats();
      // Nothing moves while ffmpeg is stopped: more frames only add to the dropped count.
      const acceptedBefore = accepted;
      for (let i = 0; i < 50; i++) {
        if (take.pushFrame(frames[i % frames.length]!)) accepted++;
        await tick();
      }
      assert.equal(accepted, acceptedBefore, 'no frame was taken while the queue was full and ffmpeg stopped');
      assert.equal(take.stats().pushed, stalled + 50);
      assert.equal(st.pushed, stalled);
      assert.ok(maxQueued <= cap && st.queuedMax <= cap, `queue held ${st.queuedMax} frames, cap ${cap}`);
      // Accepted frames are queued or handed on; while ffmpeg is stopped at most two are handed on (one stuck in
      // ffmpeg's stdin pipe, one in the stream that feeds it), whatever the number pushed.
      assert.equal(accepted, st.queued + st.written);
      assert.ok(st.written <= 2, `${st.written} frames handed to a stopped ffmpeg`);
      assert.equal(take.stats().dropped, stalled + 50 - accepted, 'every frame is either queued or counted as dropped');
      const frameMb = (w * h * 3) / 2 ** 20;
      const grewMb = (rssMax - rss0) / 2 ** 20;
      assert.ok(grewMb < (cap + 4) * frameMb + 64, `RSS grew ${grewMb.toFixed(0)} MiB (queue cap ${(cap * frameMb).toFixed(0)} MiB)`);
      t.diagnostic(`stalled: pushed ${st.pushed + 50}, accepted ${accepted} (${st.written} handed to ffmpeg), queue max ${st.queuedMax}; RSS +${grewMb.toFixed(0)} MiB`);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // Resumed, ffmpeg drains the queue; new frames are accepted again and everything accepted reaches the MP4.
    while (take.stats().queued > 0) await sleep(20);
    assert.equal(take.pushFrame(frames[0]!), true, 'frames are taken again once ffmpeg keeps up');
    accepted++;
    const s = await take.stop();
    assert.equal(s.framesWritten, accepted);
    assert.equal(s.framesDropped, take.stats().dropped);
    assert.equal(s.verified, true, 'every frame written reached the MP4');
  });

  it('ffmpeg killed mid-take: the take fails with FFMPEG_FAILED, refuses frames quietly, and the MKV keeps the frames before the kill', async () => {
    const [w, h] = [320, 240];
    const take = await start({ dir: path.join(root, 'killed'), name: 'killed', width: w, height: h, fps: 30 });
    const errors: unknown[] = [];
    take.on('error', (e) => errors.push(e));
    const ended = new Promise<{ error?: unknown }>((resolve) => take.once('ended', resolve));
    // Past the first closed Matroska cluster (≤ 1 s of video) so something is on disk.
    for (let i = 0; i < 90; i++) {
      take.pushFrame(gradient(w, h, i));
      await tick();
    }
    for (let i = 0; i < 100 && take.stats().bytes < 8192; i++) await sleep(50);
    assert.ok(take.stats().bytes >= 8192, `the MKV has ${take.stats().bytes} bytes`);
    process.kill(take.pid!, 'SIGKILL');
    const end = await ended;
    assert.ok(isRhodopsError(end.error, 'FFMPEG_FAILED') && /SIGKILL/.test(end.error.message) && end.error.hint, String(end.error));
    assert.equal(errors.length, 1);
    assert.equal(errors[0], end.error);
    assert.equal(take.state, 'failed');
    for (let i = 0; i < 5; i++) assert.equal(take.pushFrame(gradient(w, h, i)), false);
    assert.equal(take.stats().queued, 0);

    const mkv = take.mkvPath;
    const inMkv = Number(only((await ffprobe(mkv)).streams, 'video').nb_read_frames);
    assert.ok(inMkv > 0, `the MKV holds ${inMkv} frames`);

    // stop() after a failure salvages an MP4 from the MKV, keeps the MKV, and reports the failure.
    const s = await take.stop();
    assert.equal(s.error?.code, 'FFMPEG_FAILED');
    assert.equal(s.files.mkv, mkv);
    assert.equal(s.verified, false);
    assert.ok(s.files.mp4);
    assert.equal(Number(only((await ffprobe(s.files.mp4)).streams, 'video').nb_read_frames), inMkv);
  });

  it('SIGINT to ffmpeg (a Ctrl-C in the terminal reaches it too): reported as an interruption; the MKV is closed and stop() makes the MP4', async () => {
    const take = await start({ dir: path.join(root, 'sigint'), width: 64, height: 48, fps: 30 });
    await record(take, 30);
    while (take.stats().queued > 0) await sleep(10);
    await sleep(200);
    process.kill(take.pid!, 'SIGINT');
    await sleep(200);
    // Debian's ffmpeg 5.1 exits at once; the bundled 2018 build waits for the end of stdin, which stop() gives it.
    const s = await take.stop();
    assert.ok(isRhodopsError(take.error, 'FFMPEG_FAILED') && /interrupted/.test(take.error.message), String(take.error));
    assert.equal(s.error?.code, 'FFMPEG_FAILED');
    assert.equal(s.files.mkv, take.mkvPath, 'kept: the take did not end cleanly');
    const inMkv = Number(only((await ffprobe(take.mkvPath)).streams, 'video').nb_read_frames);
    assert.ok(inMkv > 0, `the MKV holds ${inMkv} frames`);
    assert.equal(Number(only((await ffprobe(s.files.mp4!)).streams, 'video').nb_read_frames), inMkv);
  });

  it('a take nobody listens to can fail without crashing the process', async () => {
    const take = await start({ dir: path.join(root, 'unwatched'), width: 64, height: 48, fps: 30 });
    const ended = new Promise<void>((resolve) => take.once('ended', () => resolve()));
    process.kill(take.pid!, 'SIGKILL');
    await ended;
    assert.equal(take.pushFrame(new Uint8Array(64 * 48 * 3)), false);
    const s = await take.stop();
    assert.equal(s.error?.code, 'FFMPEG_FAILED');
    assert.deepEqual(s.files, {}, 'no frames, no files');
  });

  it('never overwrites an earlier take of the same name', async () => {
    const dir = path.join(root, 'names');
    const a = await start({ dir, name: 'set.mp4', width: 64, height: 48, fps: 30 });
    const b = await start({ dir, name: 'set', width: 64, height: 48, fps: 30 });
    assert.deepEqual([a.name, b.name], ['set', 'set-2']);
    const live = await Recorder.list(dir);
    assert.deepEqual(live.map((t) => [t.file, t.recording]).sort(), [['set-2.mkv', true], ['set.mkv', true]]);
    await record(a, 3);
    await Promise.all([a.stop(), b.stop()]);
    assert.deepEqual((await Recorder.list(dir)).map((t) => t.file), ['set.mp4']);
  });

  it('the frame queue is a bounded FIFO', () => {
    const q = new FrameQueue(3);
    const f = (n: number) => Buffer.from([n]);
    assert.ok(q.push(f(1)) && q.push(f(2)) && q.push(f(3)));
    assert.equal(q.push(f(4)), false);
    assert.equal(q.shift()?.[0], 1);
    assert.ok(q.push(f(5)));
    assert.deepEqual([q.shift()?.[0], q.shift()?.[0], q.shift()?.[0], q.shift()], [2, 3, 5, undefined]);
    assert.equal(q.highWater, 3);
  });
});
