/**
 * Tempo from MIDI clock through the real parser: 24 ppqn at 120 BPM with jitter, tempo changes, gaps, and
 * transport (start, stop, continue, song position).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rng } from '../core/random.ts';
import { MidiClock } from '../server/midi/clock.ts';
import { MidiParser } from '../server/midi/parser.ts';
import { throwsWith } from './helpers/assert.ts';

/** Sends bytes through a parser into a clock; returns how many downbeats the clock reported. */
function play(clock: MidiClock, parser: MidiParser, bytes: number[], time: number): number {
  let beats = 0;
  for (const e of parser.push(bytes, time)) if (clock.handle(e)) beats++;
  return beats;
}

/** `beats` beats of clock at `bpm` from `t0`, each pulse moved by up to ±`jitter` seconds. Returns the end time. */
function pulses(clock: MidiClock, parser: MidiParser, bpm: number, beats: number, t0: number, jitter = 0, seed = 1): number {
  const r = rng(seed);
  const interval = 60 / bpm / 24;
  for (let i = 0; i < beats * 24; i++) play(clock, parser, [0xf8], t0 + i * interval + (r() * 2 - 1) * jitter);
  return t0 + beats * 24 * interval;
}

describe('midi clock', () => {
  test('24 ppqn at 120 BPM with ±2 ms jitter per pulse reads 120 ± 0.5', () => {
    const clock = new MidiClock();
    const parser = new MidiParser();
    play(clock, parser, [0xfa], 0);
    pulses(clock, parser, 120, 4, 0.01, 0.002, 7);
    const s = clock.state();
    assert.ok(s.bpm !== null && Math.abs(s.bpm - 120) <= 0.5, `bpm ${s.bpm} is not 120 ± 0.5`);
    assert.equal(s.running, true);
  });

  test('the estimate holds over many jitter patterns', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const clock = new MidiClock();
      pulses(clock, new MidiParser(), 120, 3, 0, 0.002, seed);
      const bpm = clock.state().bpm;
      assert.ok(bpm !== null && Math.abs(bpm - 120) <= 0.5, `seed ${seed}: bpm ${bpm}`);
    }
  });

  test('no tempo before half a beat of pulses', () => {
    const clock = new MidiClock();
    const parser = new MidiParser();
    for (let i = 0; i < 11; i++) play(clock, parser, [0xf8], i / 48);
    assert.equal(clock.state().bpm, null, 'eleven pulses are not enough');
    play(clock, parser, [0xf8], 11 / 48);
    assert.ok(Math.abs((clock.state().bpm ?? 0) - 120) < 1e-6, `twelve exact pulses give 120, got ${clock.state().bpm}`);
  });

  test('a tempo change is followed within the window', () => {
    const clock = new MidiClock();
    const parser = new MidiParser();
    const t = pulses(clock, parser, 120, 4, 0);
    pulses(clock, parser, 140, 2, t);
    const bpm = clock.state().bpm;
    assert.ok(bpm !== null && Math.abs(bpm - 140) < 0.01, `bpm ${bpm} should be 140 after two beats at 140`);
  });

  test('a pause in the pulses restarts the fit instead of dragging the tempo down', () => {
    const clock = new MidiClock();
    const parser = new MidiParser();
    const t = pulses(clock, parser, 120, 2, 0);
    pulses(clock, parser, 120, 1, t + 0.3); // 300 ms of silence, then the same tempo
    const bpm = clock.state().bpm;
    assert.ok(bpm !== null && Math.abs(bpm - 120) < 0.01, `bpm ${bpm} after a gap`);
  });

  test('start and stop reset the estimate; pulses while stopped still give a tempo', () => {
    const clock = new MidiClock();
    const parser = new MidiParser();
    let t = pulses(clock, parser, 120, 2, 0);
    play(clock, parser, [0xfc], t);
    assert.deepEqual([clock.state().running, clock.state().bpm], [false, null], 'stopped, tempo forgotten');
    t = pulses(clock, parser, 90, 1, t + 0.01);
    assert.ok(Math.abs((clock.state().bpm ?? 0) - 90) < 0.01, `stopped but clocked at 90: ${clock.state().bpm}`);
    play(clock, parser, [0xfa], t);
    assert.deepEqual([clock.state().running, clock.state().bpm, clock.state().position], [true, null, 0], 'started: running, tempo forgotten, at 0');
  });

  test('downbeats every 24 pulses from start, position in quarter notes, continue keeps it', () => {
    const clock = new MidiClock();
    const parser = new MidiParser();
    play(clock, parser, [0xfa], 0);
    const beatsAt: number[] = [];
    for (let i = 0; i < 60; i++) if (play(clock, parser, [0xf8], i / 48)) beatsAt.push(i);
    assert.deepEqual(beatsAt, [0, 24, 48]);
    assert.equal(clock.state().position, 59 / 24);
    play(clock, parser, [0xfc, 0xfb], 2);
    assert.equal(clock.state().position, 59 / 24, 'stop then continue keeps the position');
    assert.equal(clock.state().running, true);
  });

  test('song position moves the position while stopped', () => {
    const clock = new MidiClock();
    const parser = new MidiParser();
    play(clock, parser, [0xf2, 8, 0], 0); // 8 sixteenths = 2 quarter notes
    play(clock, parser, [0xfb, 0xf8], 0);
    assert.equal(clock.state().position, 2);
  });

  test('a clock that goes quiet reports no tempo after the timeout', () => {
    const clock = new MidiClock({ timeout: 0.5 });
    const t = pulses(clock, new MidiParser(), 120, 1, 0);
    assert.ok(clock.state(t).bpm !== null, 'fresh pulses give a tempo');
    assert.equal(clock.state(t + 1).bpm, null);
  });

  test('options are range-checked with messages naming them', () => {
    throwsWith(() => new MidiClock({ windowPulses: 2 }), 'BAD_OPTION', 'windowPulses');
    throwsWith(() => new MidiClock({ minPulses: 100 }), 'BAD_OPTION', 'minPulses');
  });
});
