/** Audio sources: files (decoded whole, or played along a clock), browser PCM, and live capture through ffmpeg. */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrowserPcmSource } from '../core/audio/browser.ts';
import { CaptureAudioSource, captureInputArgs, parseCaptureSpec } from '../core/audio/capture.ts';
import { extractFeatures, type FeatureFrame } from '../core/audio/features.ts';
import { decodeAudioFile, FileAudioSource } from '../core/audio/file.ts';
import { LinearResampler } from '../core/audio/pcm.ts';
import { isRhodopsError, type RhodopsError } from '../core/errors.ts';
import { rejectsWith, throwsWith } from './helpers/assert.ts';

const RATE = 44100;

/** A mono IEEE-float WAV file (format 3), written by hand. */
async function writeWav(file: string, samples: Float32Array, rate: number): Promise<void> {
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8);
  h.write('fmt ', 12);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(3, 20); // IEEE float
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 4, 28);
  h.writeUInt16LE(4, 32);
  h.writeUInt16LE(32, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  await fs.writeFile(file, Buffer.concat([h, data]));
}

function tone(freq: number, seconds: number, rate = RATE, amp = 0.5): Float32Array {
  const x = new Float32Array(Math.round(seconds * rate));
  for (let i = 0; i < x.length; i++) x[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate);
  return x;
}

async function until(cond: () => boolean, what: string, timeoutMs = 5000, step?: () => void): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    step?.();
    if (cond()) return;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

let dir = '';
let wav = '';
let signal: Float32Array;

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-audio-'));
  wav = path.join(dir, 'song.wav');
  // 1.5 s: a tone with a click every 0.25 s, so the frames have onsets as well as levels.
  signal = tone(440, 1.5, RATE, 0.3);
  for (let t = 0.1; t < 1.5; t += 0.25) {
    const at = Math.round(t * RATE);
    for (let j = 0; j < 200; j++) signal[at + j] = signal[at + j]! + 0.6 * Math.exp(-j / 30) * (j % 2 ? -1 : 1);
  }
  await writeWav(wav, signal, RATE);
});

after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('decodeAudioFile', () => {
  it('returns the written samples', async () => {
    const x = await decodeAudioFile(wav, RATE);
    assert.equal(x.length, signal.length, 'same length');
    let maxDiff = 0;
    for (let i = 0; i < x.length; i++) maxDiff = Math.max(maxDiff, Math.abs(x[i]! - signal[i]!));
    assert.ok(maxDiff < 1e-6, `largest difference ${maxDiff}`);
  });

  it('resamples to the rate asked for', async () => {
    const low = path.join(dir, 'low.wav');
    await writeWav(low, tone(1000, 1, 22050), 22050);
    const x = await decodeAudioFile(low, RATE);
    assert.ok(Math.abs(x.length - RATE) <= 64, `1 s at ${RATE} Hz: ${x.length} samples`);
    const f = extractFeatures(x)[40]!;
    assert.ok(Math.abs(f.centroid - 1000) < 30, `still a 1 kHz tone: centroid ${f.centroid.toFixed(1)} Hz`);
  });

  it('refuses a missing file and a file without audio, naming it', async () => {
    await rejectsWith(decodeAudioFile(path.join(dir, 'nope.wav')), 'AUDIO_FILE_INVALID', 'nope.wav', 'no such file');
    const text = path.join(dir, 'notes.txt');
    await fs.writeFile(text, 'not audio at all\n');
    await rejectsWith(decodeAudioFile(text), 'AUDIO_FILE_INVALID', 'notes.txt');
  });
});

describe('FileAudioSource', () => {
  it('plays along the clock it is given: positions, duration, then the end', async () => {
    let now = 100;
    const src = new FileAudioSource({ path: wav, clock: () => now, pumpIntervalMs: 0, readAheadS: 5 });
    const frames: FeatureFrame[] = [];
    let ends = 0;
    src.on('features', (f) => frames.push(f));
    src.on('end', () => ends++);
    await src.start();
    assert.ok(src.durationS !== null && Math.abs(src.durationS - 1.5) < 0.01, `duration ${src.durationS}`);
    src.pump();
    assert.equal(src.position(), 0, 'nothing played before the clock moves');
    assert.equal(frames.length, 0, 'no frames before the clock moves');

    now = 100.5;
    await until(() => src.position() >= 0.5, 'half a second played', 5000, () => src.pump());
    assert.equal(src.position(), 0.5, 'exactly the samples the clock passed');
    // Frame k needs samples up to k·512 + 512: 22050 samples make frames 0…42.
    assert.equal(frames.length, 43, `frames after 0.5 s: ${frames.length}`);
    assert.equal(src.status().running, true, 'still running');
    assert.ok(src.status().rms > 0.1, `level meter: ${src.status().rms}`);

    now = 110;
    await until(() => ends === 1, 'the end of the file', 5000, () => src.pump());
    assert.equal(src.position(), 1.5, 'played to the end');
    assert.equal(src.status().running, false, 'stopped at the end');
    // The frames equal those of the whole file decoded at once: live and offline agree.
    const offline = extractFeatures(await decodeAudioFile(wav, RATE));
    assert.deepEqual(frames, offline, 'played frames = offline frames');
    await src.stop();
    assert.equal(ends, 1, "'end' once");
  });

  it('loops, restarting the position at each pass', async () => {
    let now = 0;
    const src = new FileAudioSource({ path: wav, clock: () => now, pumpIntervalMs: 0, loop: true });
    let frames = 0;
    src.on('features', () => frames++);
    await src.start();
    now = 2.0;
    await until(() => src.position() > 0 && src.position() < 1, 'the second pass', 5000, () => src.pump());
    await until(() => Math.abs(src.position() - 0.5) < 1e-9, 'position 0.5 in the second pass', 5000, () => src.pump());
    assert.equal(src.status().running, true, 'a loop keeps running');
    assert.ok(frames >= Math.floor((2 * RATE) / 512) - 2, `frames over 2 s: ${frames}`);
    await src.stop();
    assert.equal(src.status().running, false, 'stopped');
  });

  it('paces itself with its own timer on the real clock', async () => {
    const src = new FileAudioSource({ path: wav });
    await src.start();
    await sleep(300);
    const p = src.position();
    await src.stop();
    assert.ok(p > 0.15 && p < 0.6, `position after ~0.3 s of real time: ${p}`);
  });

  it('refuses to start on a missing file', async () => {
    const src = new FileAudioSource({ path: path.join(dir, 'missing.mp3') });
    let errors = 0;
    src.on('error', () => errors++);
    await rejectsWith(src.start(), 'AUDIO_FILE_INVALID', 'missing.mp3');
    assert.equal(errors, 0, 'a refused start is not also an error event');
    assert.equal(src.status().running, false, 'not running');
  });
});

describe('BrowserPcmSource', () => {
  it('takes int16 at 48 kHz, resamples to 44.1 kHz and extracts features', async () => {
    const src = new BrowserPcmSource();
    const frames: FeatureFrame[] = [];
    src.on('features', (f) => frames.push(f));
    await src.start();
    const x = tone(440, 1, 48000, 0.5);
    const pcm = new Int16Array(x.length);
    for (let i = 0; i < x.length; i++) pcm[i] = Math.round(x[i]! * 32767);
    let added = 0;
    for (let i = 0; i < pcm.length; i += 480) added += src.pushPcm(pcm.subarray(i, i + 480), 's16', 48000);
    assert.ok(Math.abs(added - RATE) <= 2, `1 s at 48 kHz became ${added} samples at 44.1 kHz`);
    assert.ok(Math.abs(frames.length - Math.floor((RATE - 512) / 512) - 1) <= 1, `frames: ${frames.length}`);
    const f = frames[40]!;
    assert.equal(f.chroma.indexOf(1), 9, `A is the strongest pitch class: ${f.chroma.map((c) => c.toFixed(2)).join(' ')}`);
    assert.ok(Math.abs(f.rms - 0.5 / Math.SQRT2) < 0.01, `rms ${f.rms}`);
    assert.equal(src.status().kind, 'browser');
    await src.stop();
    assert.equal(src.pushPcm(new Float32Array(128), 'f32', 48000), 0, 'a stopped source ignores PCM');
  });

  it('rejects a bad rate, a partial sample, an unknown format, non-finite floats and oversized chunks', async () => {
    const src = new BrowserPcmSource();
    await src.start();
    let frames = 0;
    src.on('features', () => frames++);
    throwsWith(() => src.pushPcm(new Float32Array(64), 'f32', 0), 'AUDIO_PCM_INVALID', 'sample rate', '0');
    throwsWith(() => src.pushPcm(new Float32Array(64), 'f32', 44100.5), 'AUDIO_PCM_INVALID', 'sample rate');
    throwsWith(() => src.pushPcm(new Float32Array(64), 'f32', 1_000_000), 'AUDIO_PCM_INVALID', '192000');
    throwsWith(() => src.pushPcm(new Uint8Array(7), 's16', 44100), 'AUDIO_PCM_INVALID', '7 bytes', 's16');
    throwsWith(() => src.pushPcm(new Uint8Array(6), 'f32', 44100), 'AUDIO_PCM_INVALID', '6 bytes', 'f32');
    throwsWith(() => src.pushPcm(new Uint8Array(8), 'u8' as 'f32', 44100), 'AUDIO_PCM_INVALID', 'u8');
    throwsWith(() => src.pushPcm(new Float32Array([0, Number.NaN]), 'f32', 44100), 'AUDIO_PCM_INVALID', 'sample 1', 'NaN');
    throwsWith(() => src.pushPcm(new Float32Array(50000), 'f32', 44100), 'AUDIO_PCM_INVALID', '50000 samples');
    assert.equal(frames, 0, 'refused chunks change nothing');
    assert.equal(src.extractor.frameCount, 0, 'the extractor saw nothing');
    await src.stop();
  });

  it('the resampler does not depend on how the input is chunked', () => {
    const x = tone(997, 0.2, 48000);
    const whole = new LinearResampler(48000, 44100).process(x);
    const r = new LinearResampler(48000, 44100);
    const parts: number[] = [];
    for (let i = 0, n = 1; i < x.length; i += n, n = (n * 7) % 301 + 1) parts.push(...r.process(x.subarray(i, i + n)));
    assert.deepEqual(Float32Array.from(parts), whole, 'chunked = whole');
    assert.ok(Math.abs(whole.length - x.length * (44100 / 48000)) <= 1, `length ${whole.length}`);
    // Linear interpolation of a sampled sine stays close to the sine at the new rate.
    let err = 0;
    for (let j = 0; j < whole.length; j++) err = Math.max(err, Math.abs(whole[j]! - 0.5 * Math.sin((2 * Math.PI * 997 * j) / 44100)));
    assert.ok(err < 0.01, `interpolation error ${err}`);
  });
});

describe('CaptureAudioSource', () => {
  it('builds the ffmpeg input for each platform backend', () => {
    assert.deepEqual(captureInputArgs('alsa', undefined, RATE), ['-f', 'alsa', '-i', 'default']);
    assert.deepEqual(captureInputArgs('pulse', 'mic.monitor', RATE).slice(-2), ['-i', 'mic.monitor']);
    assert.ok(captureInputArgs('pulse', undefined, RATE).includes('-fragment_size'), 'pulse asks for small fragments');
    assert.deepEqual(captureInputArgs('avfoundation', '1', RATE), ['-f', 'avfoundation', '-i', ':1']);
    assert.deepEqual(captureInputArgs('dshow', 'Microphone (USB)', RATE).slice(-2), ['-i', 'audio=Microphone (USB)']);
    throwsWith(() => captureInputArgs('dshow', undefined, RATE), 'AUDIO_CAPTURE_FAILED', 'DirectShow');
    assert.deepEqual(parseCaptureSpec('alsa:plughw:CARD=PCH,DEV=0'), { backend: 'alsa', device: 'plughw:CARD=PCH,DEV=0' });
    assert.deepEqual(parseCaptureSpec('pulse:default'), { backend: 'pulse' });
    assert.deepEqual(parseCaptureSpec('dshow:Microphone (USB)'), { backend: 'dshow', device: 'Microphone (USB)' });
    assert.deepEqual(parseCaptureSpec('hw:1'), { device: 'hw:1' });
    assert.deepEqual(parseCaptureSpec(''), {});
  });

  it('captures (from a synthetic lavfi input); a killed ffmpeg is reported once and the source ends cleanly', async () => {
    const src = new CaptureAudioSource({ backend: 'lavfi', device: `sine=frequency=440:sample_rate=${RATE}` });
    const frames: FeatureFrame[] = [];
    const errors: RhodopsError[] = [];
    let ends = 0;
    src.on('features', (f) => frames.push(f));
    src.on('error', (e) => errors.push(e));
    src.on('end', () => ends++);
    await src.start();
    await until(() => frames.length >= 30, '30 frames');
    const f = frames[frames.length - 1]!;
    assert.equal(f.chroma.indexOf(1), 9, 'a 440 Hz tone reads A');
    const pid = src.pid;
    assert.ok(pid !== undefined, 'ffmpeg runs');
    process.kill(pid, 'SIGKILL');
    await until(() => ends === 1, "'end'");
    await sleep(50);
    assert.equal(errors.length, 1, `one error: ${errors.map((e) => e.message).join(' / ')}`);
    assert.ok(isRhodopsError(errors[0], 'AUDIO_CAPTURE_FAILED') && errors[0].message.includes('SIGKILL'), errors[0]?.message);
    assert.equal(ends, 1, "'end' once");
    const st = src.status();
    assert.equal(st.running, false, 'not running');
    assert.ok(st.error?.includes('SIGKILL'), `status says why: ${st.error}`);
    await src.stop(); // harmless after the end
  });

  it('without an error listener a dying ffmpeg is only logged, never thrown', async () => {
    const src = new CaptureAudioSource({ backend: 'lavfi', device: 'anoisesrc=amplitude=0.1' });
    let ends = 0;
    src.on('end', () => ends++);
    await src.start();
    process.kill(src.pid!, 'SIGKILL');
    await until(() => ends === 1, "'end'");
    assert.equal(src.status().running, false, 'ended');
  });

  it('stop() ends the capture without an error', async () => {
    const src = new CaptureAudioSource({ backend: 'lavfi' });
    const errors: unknown[] = [];
    let ends = 0;
    src.on('error', (e) => errors.push(e));
    src.on('end', () => ends++);
    await src.start();
    await src.stop();
    assert.equal(ends, 1, "'end' once");
    assert.equal(errors.length, 0, 'stopping is not an error');
  });

  it('a device that cannot be opened makes start() reject with a hint', async () => {
    const src = new CaptureAudioSource({ backend: 'alsa', device: 'hw:99,0', startTimeoutMs: 3000 });
    let errors = 0;
    src.on('error', () => errors++);
    await rejectsWith(src.start(), 'AUDIO_CAPTURE_FAILED', 'hw:99,0');
    assert.equal(errors, 0, 'reported by the rejection only');
    assert.equal(src.status().running, false, 'not running');
  });
});
