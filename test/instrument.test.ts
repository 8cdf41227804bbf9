// The instrument on a fake clock: mapping, operations, journal, preset effects, learn; and the three ways it is
// driven (the live render loop, the offline renderer, a session replay) giving the same latents frame by frame.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extractFeatures, type FeatureFrame } from '../core/audio/index.ts';
import { stateToJson, randomState, type LatentStateJson } from '../core/latent/index.ts';
import { setLogLevel } from '../core/log.ts';
import { audioInputFrom, parseMapping, type Mapping } from '../core/mapping/index.ts';
import { Instrument, type InstrumentJournal } from '../instrument/instrument.ts';
import type { LiveOp } from '../instrument/live-state.ts';
import { latentHash } from '../instrument/session-format.ts';
import { SessionLog } from '../instrument/session-log.ts';
import { readSession, replayLatents } from '../instrument/session-read.ts';
import { OfflinePerformance } from '../render/performance.ts';
import { quantizeCamera, type Camera } from '../core/camera.ts';
import { decodeFrameMessage } from '../protocol/frames.ts';
import { Engine } from '../server/engine.ts';
import { Hub } from '../server/hub.ts';
import { RenderLoop } from '../server/loop.ts';
import { tempRoot, tinyModel } from './helpers/server.ts';

const LAYOUT = { size: 12, noise: 8, categorical: [3], continuous: 1, distribution: 'normal' as const };

/** A journal that keeps what it hears. */
function recorder() {
  const ops: { t: number; e: LiveOp; mapped: boolean }[] = [];
  const frames: { t: number; hash: string }[] = [];
  const journal: InstrumentJournal = {
    op: (t, e, mapped) => ops.push({ t, e, mapped }),
    frame: (t, _dt, latent) => frames.push({ t, hash: latentHash(latent) }),
    input: () => undefined,
    mapping: () => undefined,
    presets: () => undefined,
  };
  return { ops, frames, journal };
}

const cc = (time: number, controller: number, value: number) => ({ type: 'cc' as const, time, channel: 0, controller, value, port: 'test' });

describe('instrument (fake clock)', () => {
  before(() => setLogLevel('silent'));

  it('maps inputs at frame times; the operations the mapping makes are marked in the journal, a page\'s are not', () => {
    let clock = 0;
    const mapping = parseMapping({ version: 1, name: 'knob', routes: [{ source: { kind: 'midi cc', controller: 1 }, target: { kind: 'direction', index: 0 } }] });
    const inst = new Instrument({ layout: LAYOUT, seed: 3, mapping, now: () => clock });
    const { ops, journal } = recorder();
    inst.journal = journal;
    let changed = 0;
    inst.on('changed', () => changed++);
    inst.frameAt(0, 1 / 30);
    assert.equal(inst.snapshot().controls.directions[0], 0);
    inst.push(cc(0.01, 1, 1));
    clock = 1 / 30;
    inst.frameAt(clock, 1 / 30);
    assert.ok(inst.snapshot().controls.directions[0]! > 0, 'the knob moved direction 0 at the next frame');
    assert.equal(changed, 1);
    inst.apply({ op: 'setTruncation', args: [0.7] });
    assert.equal(changed, 2);
    assert.deepEqual(ops.map((o) => [o.e.op, o.mapped]), [['setDirection', true], ['setTruncation', false]]);
    assert.equal(ops[1]!.t, clock, 'an operation carries the clock reading it used');
  });

  it('camera moves: the mapping drives them (clamped to their ranges), and a new mapping without them leaves the picture still', () => {
    let clock = 0;
    const mapping = parseMapping({
      version: 1,
      name: 'camera',
      routes: [
        { source: { kind: 'midi cc', controller: 1 }, transform: { out: [0, 5] }, target: { kind: 'camera', move: 'zoom' } },
        { source: { kind: 'midi cc', controller: 1 }, transform: { out: [0, -3] }, target: { kind: 'camera', move: 'rotate' } },
      ],
    });
    const inst = new Instrument({ layout: LAYOUT, seed: 3, mapping, now: () => clock });
    inst.frameAt(0, 1 / 30);
    assert.deepEqual(inst.camera, { flash: 0, contrast: 0, zoom: 0, rotate: 0 }, 'still until a source speaks');
    inst.push(cc(0.01, 1, 1));
    clock = 0.1;
    inst.frameAt(clock, 1 / 30);
    assert.deepEqual(inst.camera, { flash: 0, contrast: 0, zoom: 1, rotate: -1 }, 'clamped: zoom 0..1, rotate -1..1');
    inst.setMapping({ version: 1, name: 'none', routes: [] });
    inst.frameAt(0.2, 1 / 30);
    assert.deepEqual(inst.camera, { flash: 0, contrast: 0, zoom: 0, rotate: 0 });
    assert.throws(() => inst.apply({ op: 'setCamera', args: ['flash', 2] }), /camera flash must be from 0 to 1, got 2/);
  });

  it('the same inputs and operations on two instruments give the same latents, whatever the frame rate in between', () => {
    const mapping = parseMapping({ version: 1, name: 'lfo', routes: [{ source: { kind: 'lfo', rate: 0.7 }, target: { kind: 'direction', index: 1 } }, { source: { kind: 'midi cc', controller: 2 }, target: { kind: 'continuous', index: 0 } }] });
    const run = (fps: number) => {
      let clock = 0;
      const inst = new Instrument({ layout: LAYOUT, seed: 9, mapping, now: () => clock });
      inst.push(cc(0.2, 2, 0.7));
      const out: string[] = [];
      for (let k = 0; k <= fps; k++) {
        clock = k / fps;
        const v = inst.frameAt(clock, 1 / fps);
        if (k === fps) out.push(latentHash(v));
      }
      return out[0];
    };
    assert.equal(run(30), run(30));
  });

  it('a morph target moves between two presets\' states (it did nothing before)', () => {
    let clock = 0;
    const a = stateToJson(randomState(LAYOUT, 1));
    const b = stateToJson(randomState(LAYOUT, 2));
    const mapping = parseMapping({ version: 1, name: 'morph', routes: [{ source: { kind: 'midi cc', controller: 5 }, target: { kind: 'morph', from: { name: 'A' }, to: { name: 'B' } } }] });
    const inst = new Instrument({ layout: LAYOUT, seed: 4, mapping, now: () => clock, presets: new Map([['default/A', a], ['default/B', b]]) });
    const at = (value: number) => {
      inst.push(cc(clock + 0.001, 5, value));
      clock += 0.1;
      inst.frameAt(clock, 0.1);
      return inst.snapshot().state.noise;
    };
    const close = (x: number[], y: number[]) => x.every((v, i) => Math.abs(v - y[i]!) < 1e-5);
    assert.ok(close(at(0), a.noise), 'knob at the bottom: preset A');
    assert.ok(close(at(1), b.noise), 'knob at the top: preset B');
    const mid = at(0.5);
    assert.ok(!close(mid, a.noise) && !close(mid, b.noise), 'in between: neither');
  });

  it('a mapped recall takes the preset state it was given, at the frame it fires; an unknown preset does nothing', () => {
    let clock = 0;
    const target = stateToJson(randomState(LAYOUT, 11));
    const mapping = parseMapping({
      version: 1,
      name: 'pads',
      routes: [
        { source: { kind: 'midi note', note: 36 }, target: { kind: 'preset recall', name: 'drop', crossfade: 0 } },
        { source: { kind: 'midi note', note: 37 }, target: { kind: 'preset recall', name: 'nowhere', crossfade: 0 } },
      ],
    });
    const inst = new Instrument({ layout: LAYOUT, seed: 5, mapping, now: () => clock, presets: new Map([['default/drop', target]]) });
    inst.frameAt(0, 0.1);
    const before = inst.snapshot().state;
    inst.push({ type: 'noteOn', time: 0.05, channel: 0, note: 37, velocity: 100 });
    clock = 0.1;
    inst.frameAt(clock, 0.1);
    assert.deepEqual(inst.snapshot().state, before, 'an unknown preset changes nothing');
    inst.push({ type: 'noteOn', time: 0.15, channel: 0, note: 36, velocity: 100 });
    clock = 0.2;
    inst.frameAt(clock, 0.1);
    assert.deepEqual(inst.snapshot().state, target);
  });

  it('gains scale directions and the drift, and the largest gain on the fastest drift stays a valid speed', () => {
    let clock = 0;
    const inst = new Instrument({ layout: LAYOUT, seed: 2, mapping: parseMapping({ version: 1, name: 'none', routes: [] }), now: () => clock });
    inst.apply({ op: 'setSmoothing', args: [0] });
    inst.apply({ op: 'setDirection', args: [0, 1] });
    const a = Float32Array.from(inst.frameAt(0, 0.1));
    inst.apply({ op: 'setGains', args: [{ directions: [3], drift: 50 }] });
    const b = Float32Array.from(inst.frameAt(0, 0.1));
    const zero = new Instrument({ layout: LAYOUT, seed: 2, mapping: parseMapping({ version: 1, name: 'none', routes: [] }), now: () => clock });
    const z = zero.frameAt(0, 0.1);
    const along = (v: Float32Array) => Math.hypot(...v.map((x, i) => x - z[i]!));
    assert.ok(Math.abs(along(b) / along(a) - 3) < 1e-3, `a gain of 3 moves three times as far: ${(along(b) / along(a)).toFixed(4)}`);
    inst.apply({ op: 'setDrift', args: [10] });
    clock = 0.1;
    assert.ok(inst.frameAt(clock, 0.1).every(Number.isFinite), 'drift 10 × gain 50 is capped, not refused');
  });

  it('MIDI learn: the next control moved makes the route, and the mapping event says so', () => {
    const inst = new Instrument({ layout: LAYOUT, seed: 1, now: () => 0 });
    const learned: number[] = [];
    inst.on('learned', (_m, route) => learned.push(route));
    inst.armLearn({ kind: 'direction', index: 3 });
    inst.push(cc(0, 20, 0.1));
    inst.push(cc(0, 20, 0.7));
    assert.equal(learned.length, 1);
    const route = inst.mapping.routes[learned[0]!]!;
    assert.deepEqual([route.source.kind, route.target], ['midi cc', { kind: 'direction', index: 3 }]);
    assert.equal(inst.learning, null);
  });
});

describe('one instrument, three drivers', () => {
  let root: string;
  let engine: Engine;
  const FPS = 40; // 25 ms a frame: the live clock's milliseconds divide into seconds without rounding
  const FRAMES = 120;
  let features: FeatureFrame[];
  let mapping: Mapping;
  let drop: LatentStateJson;
  before(async () => {
    setLogLevel('silent');
    root = await tempRoot('rhodops-instrument-');
    engine = await Engine.open(await tinyModel(root));
    // Kicks (decaying 60 Hz bursts) every half second over a chord: onsets, bass, chroma and a tempo.
    const rate = 44100;
    const pcm = new Float32Array(rate * 3);
    for (let i = 0; i < pcm.length; i++) {
      const t = i / rate;
      const k = t % 0.5;
      pcm[i] = 0.6 * Math.sin(2 * Math.PI * 60 * t) * Math.exp(-k * 30) + 0.1 * (Math.sin(2 * Math.PI * 261.6 * t) + Math.sin(2 * Math.PI * 329.6 * t));
    }
    features = extractFeatures(pcm, { sampleRate: rate });
    mapping = parseMapping({
      version: 1,
      name: 'three drivers',
      routes: [
        { source: { kind: 'audio bass' }, target: { kind: 'direction', index: 0 }, transform: { out: [0, 3], attack: 0.01, release: 0.2 } },
        { source: { kind: 'audio onset' }, target: { kind: 'direction', index: 1 } },
        { source: { kind: 'audio chroma', bin: 4 }, target: { kind: 'continuous', index: 0 } },
        { source: { kind: 'lfo', rate: 0.5 }, target: { kind: 'category crossfade', code: 0, values: [0, 2] } },
        { source: { kind: 'audio onset' }, target: { kind: 'camera', move: 'flash' }, transform: { envelope: { decay: 0.1 } } },
        { source: { kind: 'lfo', rate: 0.7 }, target: { kind: 'camera', move: 'rotate' }, transform: { out: [-1, 1] } },
      ],
    });
    drop = stateToJson(randomState(engine.model.info.latent, 77));
  });
  after(async () => {
    await engine.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('the live loop, the offline renderer and a replay of the live session make the same latents and camera moves, frame by frame', async () => {
    const layout = engine.model.info.latent;
    const recallAt = 1.2;

    // Offline: the song's frames and a timeline recall, on the video's clock.
    const offline = new OfflinePerformance({ layout, seed: 5, fps: FPS, mapping, features, presets: new Map([['default/drop', drop]]), timeline: { snapToBeats: false, events: [{ at: recallAt, preset: 'drop', morph: 0.5 }] } });
    const offlineHashes: string[] = [];
    const offlineCameras: Camera[] = [];
    for (let k = 0; k < FRAMES; k++) {
      offlineHashes.push(latentHash(offline.next()));
      offlineCameras.push(quantizeCamera(offline.camera));
    }

    // Live: the render loop on a fake clock, the same features pushed as they are heard, the recall as a page's operation.
    let ms = 0;
    const now = () => ms / 1000;
    const instrument = new Instrument({ layout, seed: 5, mapping, now });
    const hub = new Hub({}, { control: () => undefined, binary: () => undefined, left: () => undefined });
    const loop = new RenderLoop(engine, instrument, hub, { fps: FPS, jpegQuality: 80, displaySize: 64, clock: () => ms });
    // The camera moves as the pages get them: in each frame's header.
    const liveCameras: Camera[] = [];
    hub.broadcastFrame = (msg: Buffer) => void liveCameras.push(decodeFrameMessage(msg)!.header.camera);
    const file = path.join(root, 'live.session.jsonl');
    const log = await SessionLog.open(file, () => ({ startedAt: new Date().toISOString(), t0: now(), fps: FPS, model: { name: 'tiny', kind: 'infogan', path: root, width: 28, height: 28, latent: layout }, audio: null, ...instrument.internals() }), { attach: (l) => (instrument.journal = l) });
    let next = 0;
    let recalled = false;
    for (let k = 0; k < FRAMES; k++) {
      ms = k * (1000 / FPS);
      while (next < features.length && features[next]!.time <= now()) instrument.push(audioInputFrom(features[next++]!));
      if (!recalled && now() >= recallAt) {
        instrument.apply({ op: 'setState', args: [drop, 0.5] });
        recalled = true;
      }
      await loop.frame();
    }
    await loop.flushed();
    instrument.journal = null;
    await log.close();
    assert.equal(loop.stats().seq, FRAMES, 'every frame was made and sent');

    const session = await readSession(file);
    const liveHashes = session.events.flatMap((e) => (e.kind === 'frame' ? [e.hash] : []));
    const replayed = [...replayLatents(session)];
    const remapped = [...replayLatents(session, { mapping })];

    assert.equal(liveHashes.length, FRAMES);
    const firstDiff = (a: string[], b: string[]) => a.findIndex((h, i) => h !== b[i]);
    assert.equal(firstDiff(liveHashes, offlineHashes), -1, 'live = offline');
    assert.ok(replayed.every((f) => f.exact), 'replay = live');
    assert.equal(firstDiff(remapped.map((f) => latentHash(f.latent)), liveHashes), -1, 'the inputs mapped again = live');
    assert.ok(new Set(liveHashes).size > FRAMES / 2, 'the latent moved');
    assert.deepEqual(liveCameras, offlineCameras, 'the camera moves: live frames = offline');
    assert.deepEqual(replayed.map((f) => quantizeCamera(f.camera)), liveCameras, 'the camera moves: replay = live');
    assert.ok(new Set(liveCameras.map((c) => c.flash)).size > 3 && new Set(liveCameras.map((c) => c.rotate)).size > 10, 'the camera moved');
    assert.ok(session.events.some((e) => e.kind === 'op' && e.mapped) && session.events.some((e) => e.kind === 'op' && !e.mapped));
  });

  it('a replay with another mapping maps the logged inputs again: different latents, same length', async () => {
    let ms = 0;
    const layout = engine.model.info.latent;
    const instrument = new Instrument({ layout, seed: 5, mapping, now: () => ms / 1000 });
    const file = path.join(root, 'other.session.jsonl');
    const log = await SessionLog.open(file, () => ({ startedAt: new Date().toISOString(), t0: 0, fps: FPS, model: { name: 'tiny', kind: 'infogan', path: root, width: 28, height: 28, latent: layout }, audio: null, ...instrument.internals() }), { attach: (l) => (instrument.journal = l) });
    let next = 0;
    for (let k = 0; k < 40; k++) {
      ms = k * 25;
      while (next < features.length && features[next]!.time <= ms / 1000) instrument.push(audioInputFrom(features[next++]!));
      instrument.frameAt(ms / 1000, 1 / FPS);
    }
    instrument.journal = null;
    await log.close();
    const session = await readSession(file);
    const other = parseMapping({ version: 1, name: 'other', routes: [{ source: { kind: 'audio bass' }, target: { kind: 'direction', index: 2 }, transform: { out: [0, 5] } }] });
    const a = [...replayLatents(session)].map((f) => latentHash(f.latent));
    const b = [...replayLatents(session, { mapping: other })].map((f) => latentHash(f.latent));
    assert.equal(b.length, a.length);
    assert.notDeepEqual(b, a);
  });
});
