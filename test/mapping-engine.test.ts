// The mapping engine: smoothing against its time constants at different evaluation rates, envelopes,
// determinism whatever the push chunking, summing, LFOs, beats (MIDI clock and audio), notes, actions, and
// applying outputs to a LiveState-like object.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  audioInputFrom,
  MappingApplier,
  midiInputFrom,
  MappingEngine,
  parseMapping,
  type LiveControlsLike,
  type MappingInput,
  type MappingOutput,
  type RouteInput,
} from '../core/mapping/index.ts';
import { rng } from '../core/random.ts';

const INFOGAN = { noise: 62, categorical: [10], continuous: 2 };
const close = (a: number | undefined, b: number, tol = 1e-9) => a !== undefined && Math.abs(a - b) <= tol;

function engineFor(routes: RouteInput[], extra: Record<string, unknown> = {}): MappingEngine {
  return new MappingEngine(parseMapping({ version: 1, name: 'test', routes, ...extra }), { layout: INFOGAN });
}

const knob = (transform: RouteInput['transform'] = {}, index = 0): RouteInput => ({
  source: { kind: 'midi cc', controller: 1 },
  transform,
  target: { kind: 'direction', index },
});
const cc = (time: number, value: number, controller = 1, channel = 0): MappingInput => ({ type: 'cc', time, channel, controller, value });

/** Evaluates at `fps` from `from` to `to` (inclusive of both ends) and returns the outputs by time. */
function run(engine: MappingEngine, events: MappingInput[], fps: number, from: number, to: number): Map<number, MappingOutput> {
  for (const e of events) engine.push(e);
  const out = new Map<number, MappingOutput>();
  const n = Math.round((to - from) * fps);
  for (let i = 0; i <= n; i++) {
    const t = from + i / fps;
    out.set(Math.round(t * 1e6), engine.evaluate(t));
  }
  return out;
}

describe('mapping engine: smoothing is frame-rate independent', () => {
  it('a knob step reaches 63% after one attack time constant, at 30 and at 120 evaluations a second', () => {
    const tau = 0.2;
    for (const fps of [30, 120]) {
      const e = engineFor([knob({ attack: tau, release: 0.5 })]);
      e.push(cc(0, 0));
      e.push(cc(1, 1));
      let t = 0;
      for (; t < 1 + tau - 1e-9; t += 1 / fps) e.evaluate(t);
      const at = e.evaluate(1 + tau).directions[0];
      assert.ok(close(at, 1 - Math.exp(-1)), `${fps}/s: ${at} after one τ`);
      // Release: settle, step down, 37% left after one release time constant.
      e.push(cc(4, 0));
      for (t = 1.5; t < 4.5; t += 1 / fps) e.evaluate(t);
      const down = e.evaluate(4.5).directions[0] as number;
      assert.ok(Math.abs(down - Math.exp(-1)) < 1e-6, `${fps}/s: ${down} one release τ after stepping down`);
    }
  });

  it('30 and 120 evaluations a second give the same values at shared times (audio, knobs, notes)', () => {
    const routes: RouteInput[] = [
      { source: { kind: 'audio bass' }, transform: { attack: 0.05, release: 0.3 }, target: { kind: 'direction', index: 0 } },
      knob({ attack: 0.1, release: 0.1, curve: 's-curve' }, 1),
      { source: { kind: 'midi note', mode: 'velocity' }, transform: { attack: 0.02, release: 0.2 }, target: { kind: 'continuous', index: 0 } },
    ];
    const r = rng(3);
    const events: MappingInput[] = [];
    for (let i = 0; i < 172; i++) events.push({ type: 'audio', time: i / 86, features: { bass: r() } });
    for (let i = 0; i < 20; i++) events.push(cc(r() * 2, r()));
    events.push({ type: 'noteOn', time: 0.3, channel: 0, note: 60, velocity: 0.7 }, { type: 'noteOff', time: 0.9, channel: 0, note: 60 });
    const slow = run(engineFor(routes), events, 30, 0, 2);
    const fast = run(engineFor(routes), events, 120, 0, 2);
    let compared = 0;
    for (const [t, a] of slow) {
      const b = fast.get(t);
      assert.ok(b, `120/s has time ${t}`);
      for (const [k, v] of Object.entries(a.directions)) assert.ok(close(b.directions[Number(k)], v, 1e-12), `direction ${k} at ${t / 1e6} s: ${v} vs ${b.directions[Number(k)]}`);
      for (const [k, v] of Object.entries(a.continuous)) assert.ok(close(b.continuous[Number(k)], v, 1e-12), `continuous ${k} at ${t / 1e6} s`);
      compared++;
    }
    assert.ok(compared === 61, `compared every 30/s frame: ${compared}`);
  });

  it('an onset envelope decays to 37% after its decay time, whatever the evaluation rate', () => {
    for (const fps of [30, 120]) {
      const e = engineFor([{ source: { kind: 'audio onset' }, transform: { out: [0, 2], envelope: { decay: 0.25 } }, target: { kind: 'direction', index: 1 } }]);
      const events: MappingInput[] = [];
      for (let i = 0; i < 86; i++) events.push({ type: 'audio', time: i / 86, features: {}, onset: i === 43 });
      const out = run(e, events, fps, 0, 1);
      const t0 = 43 / 86;
      e.evaluate(1);
      const before = [...out.values()].filter((o) => o.time < t0);
      assert.ok(before.every((o) => o.directions[1] === 0), `${fps}/s: nothing before the onset`);
      const after = [...out.values()].filter((o) => o.time >= t0);
      for (const o of after) assert.ok(close(o.directions[1], 2 * Math.exp(-(o.time - t0) / 0.25), 1e-9), `${fps}/s: exact decay at ${o.time}`);
      const e2 = engineFor([{ source: { kind: 'audio onset' }, transform: { out: [0, 2], envelope: { decay: 0.25 } }, target: { kind: 'direction', index: 1 } }]);
      e2.push({ type: 'audio', time: 0, features: {}, onset: true });
      assert.ok(close(e2.evaluate(0.25).directions[1], 2 * Math.exp(-1)), '37% of the peak after one decay time');
    }
  });
});

describe('mapping engine: determinism', () => {
  const routes: RouteInput[] = [
    { source: { kind: 'audio bass' }, transform: { attack: 0.05, release: 0.3 }, target: { kind: 'direction', index: 0 } },
    { source: { kind: 'audio chroma', bin: 4 }, transform: { attack: 0.1, release: 0.1 }, target: { kind: 'direction', index: 2 } },
    { source: { kind: 'audio onset' }, target: { kind: 'reseed' } },
    { source: { kind: 'beat' }, transform: { envelope: { decay: 0.1 } }, target: { kind: 'direction', index: 3 } },
    { source: { kind: 'lfo', beats: 2, shape: 'triangle' }, transform: { attack: 0.1, release: 0.1 }, target: { kind: 'truncation' } },
    knob({ attack: 0.1, release: 0.2 }, 1),
    { source: { kind: 'midi note', range: [60, 69], mode: 'pitch' }, target: { kind: 'category select', code: 0 } },
    { source: { kind: 'midi note', note: 36 }, target: { kind: 'preset recall', name: 'drop', crossfade: 2 } },
  ];
  function timeline(): MappingInput[] {
    const r = rng(11);
    const ev: MappingInput[] = [];
    for (let i = 0; i < 5 * 86; i++) {
      ev.push({ type: 'audio', time: i / 86, features: { bass: r() }, chroma: Array.from({ length: 12 }, () => r()), onset: r() < 0.05, beatPhase: ((i / 86) * 2.1) % 1, tempo: 126 });
    }
    for (let i = 0; i < 60; i++) ev.push(cc(r() * 5, r()));
    for (let i = 0; i < 12; i++) {
      const t = r() * 5;
      ev.push({ type: 'noteOn', time: t, channel: 0, note: i % 3 === 0 ? 36 : 60 + (i % 10), velocity: r() });
      ev.push({ type: 'noteOff', time: t + 0.2, channel: 0, note: i % 3 === 0 ? 36 : 60 + (i % 10) });
    }
    return ev;
  }
  const times = Array.from({ length: 5 * 60 + 1 }, (_, i) => i / 60);

  it('the same timeline pushed in different chunks gives identical outputs', () => {
    const events = timeline();
    const sorted = [...events].sort((a, b) => a.time - b.time);

    // A: everything pushed up front, unsorted.
    const a = engineFor(routes);
    for (const e of events) a.push(e);
    const outA = times.map((t) => a.evaluate(t));

    // B: each event pushed just before the evaluate that reaches it.
    const b = engineFor(routes);
    let next = 0;
    const outB = times.map((t) => {
      while (next < sorted.length && (sorted[next] as MappingInput).time <= t) b.push(sorted[next++] as MappingInput);
      return b.evaluate(t);
    });

    // C: random-sized chunks, each in shuffled order, pushed ahead of time.
    const c = engineFor(routes);
    const r = rng(5);
    let pos = 0;
    const outC = times.map((t) => {
      while (pos < sorted.length && (sorted[pos] as MappingInput).time <= t + 0.1) {
        const chunk = sorted.slice(pos, pos + 1 + Math.floor(r() * 20));
        pos += chunk.length;
        for (const e of chunk.sort(() => r() - 0.5).sort((x, y) => x.time - y.time)) c.push(e);
      }
      return c.evaluate(t);
    });

    assert.deepStrictEqual(outB, outA, 'pushed as they come = pushed up front');
    assert.deepStrictEqual(outC, outA, 'pushed in chunks = pushed up front');
    const actions = outA.flatMap((o) => o.actions);
    assert.ok(actions.some((x) => x.type === 'reseed') && actions.some((x) => x.type === 'recall'), 'the timeline fires both kinds of action');
    const seeds = actions.flatMap((x) => (x.type === 'reseed' ? [x.seed] : []));
    assert.equal(new Set(seeds).size, seeds.length, 'every reseed gets a new seed');
  });

  it('a late event is played just after the last evaluated time; a replay of the logged times matches', () => {
    const routes = [knob({ attack: 0.1, release: 0.1 })];
    const live = engineFor(routes);
    const log: MappingInput[] = [];
    const push = (e: MappingInput) => log.push({ ...e, time: live.push(e) });
    push(cc(0, 0));
    const outs = [live.evaluate(1)];
    push(cc(0.5, 1));
    push(cc(1, 0.5));
    push(cc(1.5, 0.25));
    assert.ok((log[1]?.time as number) > 1 && (log[1]?.time as number) < 1 + 1e-12, `just after the last evaluate: ${log[1]?.time}`);
    assert.equal(log[2]?.time, log[1]?.time, 'an event at the evaluated time itself is late too');
    assert.equal(log[3]?.time, 1.5, 'a future event keeps its time');
    outs.push(live.evaluate(1.2), live.evaluate(1.6));
    const replay = engineFor(routes);
    for (const e of log) replay.push(e);
    assert.deepStrictEqual([1, 1.2, 1.6].map((t) => replay.evaluate(t)), outs, 'the replay reproduces every frame');
    assert.throws(() => live.evaluate(1.1), /before the last one/, 'time never goes back');
  });
});

describe('mapping engine: routes and targets', () => {
  it('a route says nothing until its source does, then targets appear', () => {
    const e = engineFor([knob({ out: [-2, 2] }), { source: { kind: 'audio rms' }, target: { kind: 'continuous', index: 1 } }]);
    const first = e.evaluate(0);
    assert.deepEqual([first.directions, first.continuous], [{}, {}], 'no value before any input');
    e.push(cc(0.1, 0.5));
    const second = e.evaluate(0.2);
    assert.deepEqual(second.directions, { 0: 0 }, 'the knob at its middle: 0 on ±2');
    assert.deepEqual(second.continuous, {}, 'the audio route still silent');
  });

  it('sums routes on one target and clamps the sum', () => {
    const e = engineFor([
      knob({ out: [0, 3] }),
      { source: { kind: 'midi cc', controller: 2 }, transform: { out: [0, 4] }, target: { kind: 'direction', index: 0 } },
      { source: { kind: 'midi cc', controller: 3 }, transform: { out: [0, 1] }, target: { kind: 'truncation' } },
      { source: { kind: 'midi cc', controller: 4 }, transform: { out: [0, 1] }, target: { kind: 'truncation' } },
    ]);
    for (const c of [1, 2, 3, 4]) e.push(cc(0, 0.5, c));
    const o = e.evaluate(0);
    assert.equal(o.directions[0], 1.5 + 2, 'direction 0 = 1.5 + 2');
    assert.equal(o.truncation, 1, 'truncation 0.5 + 0.5 = 1');
    e.push(cc(1, 1, 3));
    assert.equal(e.evaluate(1).truncation, 1, 'clamped to 1');
    e.push(cc(2, 1, 1));
    e.push(cc(2, 1, 2));
    assert.equal(e.evaluate(2).directions[0], 7, '3 + 4');
  });

  it('matches channels (1..16 in the file, 0..15 on the wire), controllers and 14-bit pairs', () => {
    const e = engineFor([
      { source: { kind: 'midi cc', controller: 7, channel: 2 }, target: { kind: 'direction', index: 0 } },
      { source: { kind: 'midi cc', controller: 7, bits: 14 }, target: { kind: 'direction', index: 1 } },
    ]);
    e.push(cc(0, 0.3, 7, 0));
    assert.deepEqual(e.evaluate(0).directions, {}, 'channel 1 (wire 0) is not channel 2, and 7-bit is not 14-bit');
    e.push(cc(0.1, 0.3, 7, 1));
    e.push({ type: 'cc', time: 0.1, channel: 5, controller: 7, value: 0.25, bits: 14 });
    assert.deepEqual(e.evaluate(0.1).directions, { 0: 0.3, 1: 0.25 }, 'channel 2 = wire 1; a 14-bit value');
  });

  it('selects and crossfades categories across the code or a list of values', () => {
    const e = engineFor([
      { source: { kind: 'midi cc', controller: 1 }, target: { kind: 'category select', code: 0 } },
      { source: { kind: 'midi cc', controller: 2 }, target: { kind: 'category crossfade', code: 0, values: [3, 8] } },
    ]);
    assert.equal(e.warnings.length, 1, `two ways on one code are reported: ${e.warnings.join()}`);
    e.push(cc(0, 0.55, 1));
    assert.deepEqual(e.evaluate(0).categories, { 0: { mode: 'select', value: 5 } }, '0.55 of 10 values → 5');
    e.push(cc(0.5, 1, 1));
    assert.deepEqual(e.evaluate(0.5).categories, { 0: { mode: 'select', value: 9 } }, '1 → the last value');
    e.push(cc(1, 0.25, 2));
    assert.deepEqual(e.evaluate(1).categories, { 0: { mode: 'crossfade', from: 3, to: 8, t: 0.25 } }, 'the later route wins; a plain crossfade 3 → 8');
    const sweep = engineFor([{ source: { kind: 'midi cc', controller: 1 }, target: { kind: 'category crossfade', code: 0 } }]);
    sweep.push(cc(0, 0.5));
    const c = sweep.evaluate(0).categories[0];
    assert.ok(c?.mode === 'crossfade' && c.from === 4 && c.to === 5 && close(c.t, 0.5), `0.5 sweeps to half way from 4 to 5: ${JSON.stringify(c)}`);
  });

  it('marks routes the model cannot take as inactive, by name', () => {
    const e = new MappingEngine(
      parseMapping({
        version: 1,
        name: 't',
        routes: [
          { name: 'far', source: { kind: 'midi cc', controller: 1 }, target: { kind: 'direction', index: 12 } },
          { source: { kind: 'midi cc', controller: 1 }, target: { kind: 'continuous', index: 0 } },
          { source: { kind: 'midi cc', controller: 1 }, target: { kind: 'category select', code: 0, values: [1, 12] } },
        ],
      }),
      { layout: { noise: 62, categorical: [10], continuous: 0 }, directions: 8 },
    );
    assert.equal(e.warnings.length, 3, e.warnings.join(' | '));
    assert.ok(e.warnings[0]?.startsWith("route 0 'far': direction 12 does not exist"), e.warnings[0]);
    assert.ok(e.warnings[1]?.includes('continuous code 0 does not exist'), e.warnings[1]);
    assert.ok(e.warnings[2]?.includes('no value 12'), e.warnings[2]);
    e.push(cc(0, 1));
    assert.deepEqual(e.evaluate(0).directions, {}, 'inactive routes give nothing');
  });

  it('re-checks routes for a new model and keeps their state', () => {
    const e = new MappingEngine(parseMapping({ version: 1, name: 't', routes: [{ source: { kind: 'midi cc', controller: 1 }, target: { kind: 'continuous', index: 1 } }] }), {
      layout: { noise: 512, categorical: [], continuous: 0 },
    });
    assert.equal(e.warnings.length, 1, 'no continuous codes on a noise-only model');
    e.push(cc(0, 0.25));
    assert.deepEqual(e.evaluate(0).continuous, {}, 'inactive');
    e.configure({ layout: INFOGAN });
    assert.deepEqual(e.warnings, [], 'the InfoGAN model has code 1');
    assert.deepEqual(e.evaluate(0.1).continuous, { 1: 0.25 }, 'the knob position was kept');
  });

  it('maps pitch bend with its centre at the middle of the output', () => {
    const e = engineFor([{ source: { kind: 'midi pitchbend' }, transform: { out: [-1, 1], deadZone: 0.04, deadZoneAt: 'center' }, target: { kind: 'continuous', index: 0 } }]);
    e.push({ type: 'pitchBend', time: 0, channel: 3, value: 0.02 });
    assert.equal(e.evaluate(0).continuous[0], 0, 'near the centre: 0');
    e.push({ type: 'pitchBend', time: 1, channel: 3, value: -1 });
    assert.equal(e.evaluate(1).continuous[0], -1, 'fully down: −1');
  });

  it('plays notes as gate, velocity, pitch and trigger', () => {
    const e = engineFor([
      { source: { kind: 'midi note', note: 60, mode: 'gate' }, target: { kind: 'direction', index: 0 } },
      { source: { kind: 'midi note', note: 60, mode: 'velocity' }, target: { kind: 'direction', index: 1 } },
      { source: { kind: 'midi note', range: [48, 72], mode: 'pitch' }, target: { kind: 'direction', index: 2 } },
      { source: { kind: 'midi note', note: 60, mode: 'trigger' }, transform: { envelope: { decay: 0.5 } }, target: { kind: 'direction', index: 3 } },
    ]);
    e.push({ type: 'noteOn', time: 0, channel: 0, note: 60, velocity: 0.5 });
    const held = e.evaluate(0.5).directions;
    assert.equal(held[0], 1, 'gate: 1 while held');
    assert.equal(held[1], 0.5, 'velocity while held');
    assert.equal(held[2], 0.5, 'note 60 is half way from 48 to 72');
    assert.ok(close(held[3], 0.5 * Math.exp(-1)), `trigger: velocity, decayed one τ: ${held[3]}`);
    e.push({ type: 'noteOn', time: 1, channel: 0, note: 60, velocity: 0 });
    const off = e.evaluate(1).directions;
    assert.deepEqual([off[0], off[1], off[2]], [0, 0, 0.5], 'a zero-velocity note-on releases; pitch holds');
  });

  it('fires preset recall and reseed on triggers, in time order', () => {
    const e = engineFor([
      { source: { kind: 'midi note', note: 36 }, target: { kind: 'preset recall', bank: 'live', name: 'drop', crossfade: 4 } },
      { source: { kind: 'midi cc', controller: 64 }, target: { kind: 'reseed' } },
    ], { seed: 9 });
    e.push({ type: 'noteOn', time: 0.2, channel: 9, note: 36, velocity: 1 });
    e.push(cc(0.1, 1, 64));
    e.push(cc(0.3, 0, 64));
    e.push(cc(0.4, 1, 64));
    const o = e.evaluate(0.5);
    assert.deepEqual(o.actions.map((a) => [a.type, a.time]), [['reseed', 0.1], ['recall', 0.2], ['reseed', 0.4]], 'the pedal fires on each press, not on release');
    assert.deepEqual(o.actions[1], { type: 'recall', time: 0.2, route: 0, bank: 'live', name: 'drop', crossfade: 4 }, 'the recall');
    assert.deepEqual(e.evaluate(0.6).actions, [], 'actions are reported once');
    const again = engineFor([{ source: { kind: 'midi cc', controller: 64 }, target: { kind: 'reseed' } }], { seed: 9 });
    again.push(cc(0.1, 1, 64));
    const seed0 = again.evaluate(1).actions[0];
    assert.ok(seed0?.type === 'reseed' && o.actions[0]?.type === 'reseed' && seed0.seed === o.actions[0].seed, 'reseeds follow the mapping seed');
  });

  it('keeps unchanged routes state across setMapping', () => {
    const m = parseMapping({ version: 1, name: 't', routes: [knob({ out: [0, 2] })] });
    const e = new MappingEngine(m, { layout: INFOGAN });
    e.push(cc(0, 0.5));
    assert.equal(e.evaluate(0).directions[0], 1, 'knob at half');
    e.setMapping({ ...m, routes: [...m.routes, parseMapping({ version: 1, name: 'x', routes: [knob({}, 3)] }).routes[0]] });
    const o = e.evaluate(0.1);
    assert.deepEqual(o.directions, { 0: 1 }, 'the old route keeps its knob; the new one is silent until moved');
  });
});

describe('mapping engine: LFOs and beats', () => {
  it('an LFO in Hz follows its shape on absolute time', () => {
    const e = engineFor([
      { source: { kind: 'lfo', rate: 0.5, shape: 'sine' }, target: { kind: 'direction', index: 0 } },
      { source: { kind: 'lfo', rate: 1, shape: 'saw', phase: 0.25 }, target: { kind: 'direction', index: 1 } },
      { source: { kind: 'lfo', rate: 1, shape: 'square' }, target: { kind: 'direction', index: 2 } },
      { source: { kind: 'lfo', rate: 1, shape: 'triangle' }, target: { kind: 'direction', index: 3 } },
    ]);
    for (const t of [0, 0.3, 1, 1.7]) {
      const d = e.evaluate(t).directions;
      assert.ok(close(d[0], 0.5 - 0.5 * Math.cos(2 * Math.PI * 0.5 * t)), `sine at ${t}`);
      assert.ok(close(d[1], (t + 0.25) % 1), `saw with phase at ${t}`);
      assert.equal(d[2], t % 1 < 0.5 ? 1 : 0, `square at ${t}`);
      assert.ok(close(d[3], t % 1 < 0.5 ? 2 * (t % 1) : 2 - 2 * (t % 1)), `triangle at ${t}`);
    }
  });

  it('a beat LFO follows the mapping tempo, then a MIDI clock', () => {
    const e = engineFor([{ source: { kind: 'lfo', beats: 1, shape: 'saw' }, target: { kind: 'direction', index: 0 } }], { tempo: 120 });
    e.evaluate(0);
    assert.ok(close(e.evaluate(0.25).directions[0], 0.5), 'half a beat at 120 BPM');
    // A MIDI clock at 90 BPM from t = 1: a start, then ticks; the first tick is a downbeat.
    const tick = 60 / 90 / 24;
    e.push({ type: 'start', time: 1 });
    for (let i = 0; i < 24 * 4; i++) e.push({ type: 'clock', time: 1 + i * tick });
    e.evaluate(1 + 48 * tick);
    const mid = e.evaluate(1 + 60 * tick).directions[0];
    assert.ok(close(mid, 0.5, 1e-6), `half a beat after the third downbeat at 90 BPM: ${mid}`);
  });

  it('beat sources pulse on MIDI clock beats, every Nth', () => {
    const e = engineFor([
      { source: { kind: 'beat', from: 'midi' }, transform: { envelope: { decay: 0.05 } }, target: { kind: 'direction', index: 0 } },
      { source: { kind: 'beat', from: 'midi', every: 4 }, target: { kind: 'reseed' } },
    ]);
    const tick = 60 / 120 / 24;
    for (let i = 0; i < 24 * 8; i++) e.push({ type: 'clock', time: i * tick });
    let fired = 0;
    let peaks = 0;
    for (let b = 0; b < 8; b++) {
      const o = e.evaluate(b * 0.5);
      fired += o.actions.length;
      if (close(o.directions[0], 1)) peaks++;
    }
    assert.equal(peaks, 8, 'an envelope peak on each beat');
    assert.equal(fired, 2, 'every 4th beat: beats 0 and 4');
  });

  it('beat sources pulse on audio beats (flag or phase wrap) and prefer a running MIDI clock', () => {
    const e = engineFor([{ source: { kind: 'beat' }, target: { kind: 'reseed' } }]);
    // Audio with beat phase at 2 beats a second: wraps at 0.5, 1.0, 1.5.
    for (let i = 0; i < 2 * 86; i++) e.push({ type: 'audio', time: i / 86, features: {}, beatPhase: ((i / 86) * 2) % 1, tempo: 120 });
    const audioBeats = e.evaluate(2).actions.length;
    assert.equal(audioBeats, 3, 'three wraps in two seconds');
    const flagged = engineFor([{ source: { kind: 'beat', from: 'audio' }, target: { kind: 'reseed' } }]);
    flagged.push({ type: 'audio', time: 0.1, features: {}, beat: true });
    flagged.push({ type: 'audio', time: 0.2, features: {}, beat: false });
    assert.equal(flagged.evaluate(1).actions.length, 1, 'an explicit beat flag');
    // With a MIDI clock running, 'any' takes its beats and ignores the audio's.
    const both = engineFor([{ source: { kind: 'beat' }, target: { kind: 'reseed' } }]);
    const tick = 60 / 100 / 24;
    for (let i = 0; i < 24 * 3; i++) both.push({ type: 'clock', time: i * tick });
    for (let i = 0; i < 150; i++) both.push({ type: 'audio', time: i / 86, features: {}, beat: i % 40 === 20 });
    const actions = both.evaluate(1.7).actions;
    assert.equal(actions.length, 3, `three MIDI beats at 100 BPM, no audio beats: ${actions.map((a) => a.time.toFixed(3)).join(', ')}`);
  });
});

describe('input adapters', () => {
  it('convert parser events and extractor frames', () => {
    assert.deepEqual(midiInputFrom({ type: 'controlChange', channel: 2, controller: 7, value: 64, normalized: 64 / 127, time: 1 }, 0), { type: 'cc', time: 1, channel: 2, controller: 7, value: 64 / 127, bits: 7 }, 'a CC');
    assert.deepEqual(midiInputFrom({ type: 'cc14', channel: 1, controller: 1, normalized: 0.5 }, 3, { channelBase: 1 }), { type: 'cc', time: 3, channel: 0, controller: 1, value: 0.5, bits: 14 }, 'a 14-bit CC, channels from 1, time given');
    assert.deepEqual(midiInputFrom({ type: 'noteOn', channel: 0, note: 60, velocity: 0 }, 2), { type: 'noteOff', time: 2, channel: 0, note: 60 }, 'velocity 0 is a note-off');
    assert.deepEqual(midiInputFrom({ type: 'noteOn', channel: 0, note: 60, velocity: 127 }, 2), { type: 'noteOn', time: 2, channel: 0, note: 60, velocity: 1 }, 'raw velocity normalised');
    assert.deepEqual(midiInputFrom({ type: 'pitchBend', channel: 0, normalized: 0.75 }, 0, { pitchBendRange: '0..1' }), { type: 'pitchBend', time: 0, channel: 0, value: 0.5 }, 'a 0..1 bend');
    assert.equal(midiInputFrom({ type: 'programChange', channel: 0 }, 0), undefined, 'program change is not a mapping input');
    const frame = audioInputFrom({ time: 2, normalized: { rms: 0.2, bass: 0.9, chroma: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], extra: 3 }, onset: true, tempo: 128, beatPhase: 0.1 });
    assert.deepEqual(frame.features, { rms: 0.2, bass: 0.9 }, 'known features only');
    assert.equal(frame.chroma?.[0], 1, 'normalised chroma');
    assert.deepEqual([frame.onset, frame.tempo, frame.beatPhase], [true, 128, 0.1], 'onset, tempo and phase');
  });
});

describe('mapping applier', () => {
  class FakeLive implements LiveControlsLike {
    calls: string[] = [];
    setDirection(i: number, v: number) { this.calls.push(`direction ${i} ${v}`); }
    setDirectionSmoothing(i: number, t: number | null) { this.calls.push(`direction smoothing ${i} ${t}`); }
    setCategory(c: number, v: number) { this.calls.push(`category ${c} ${v}`); }
    crossfade(c: number, f: number, t: number, x: number) { this.calls.push(`crossfade ${c} ${f}>${t} ${x}`); }
    setContinuous(i: number, v: number) { this.calls.push(`continuous ${i} ${v}`); }
    setDrift(s: number) { this.calls.push(`drift ${s}`); }
    setDriftHeading(h: number) { this.calls.push(`heading ${h}`); }
    setTruncation(p: number) { this.calls.push(`truncation ${p}`); }
    setCamera(m: string, v: number) { this.calls.push(`camera ${m} ${v}`); }
    randomize(seed: number) { this.calls.push(`randomize ${seed}`); }
  }

  it('sends only what changed, then the actions', () => {
    const live = new FakeLive();
    const recalls: string[] = [];
    const applier = new MappingApplier(live, { recall: (a) => recalls.push(a.name) });
    const base: MappingOutput = { time: 0, directions: { 0: 1, 3: -0.5 }, directionSmoothing: {}, categories: { 0: { mode: 'select', value: 2 } }, continuous: { 1: 0.2 }, truncation: 0.7, driftSpeed: 0.3, camera: { flash: 0.5 }, actions: [] };
    applier.apply(base);
    assert.deepEqual(live.calls, ['direction 0 1', 'direction 3 -0.5', 'continuous 1 0.2', 'category 0 2', 'truncation 0.7', 'drift 0.3', 'camera flash 0.5'], 'everything the first time');
    live.calls = [];
    applier.apply({ ...base, time: 1, directions: { 0: 1, 3: -0.4 }, actions: [{ type: 'reseed', time: 1, route: 2, seed: 77, crossfade: 0 }, { type: 'recall', time: 1, route: 3, name: 'drop', crossfade: 1 }] });
    assert.deepEqual(live.calls, ['direction 3 -0.4', 'randomize 77'], 'only the change, then the reseed');
    assert.deepEqual(recalls, ['drop'], 'the recall went to the effects');
    live.calls = [];
    const later = { ...base, directions: { 0: 1, 3: -0.4 } };
    applier.apply({ ...later, categories: { 0: { mode: 'crossfade', from: 2, to: 3, t: 0 } } });
    applier.apply({ ...later, categories: { 0: { mode: 'select', value: 2 } } });
    assert.deepEqual(live.calls, ['crossfade 0 2>3 0', 'category 0 2'], 'a change of mode always re-sends');
  });
});
