/**
 * The MIDI byte parser on raw streams: running status, realtime bytes anywhere, SysEx across chunks and over
 * its cap, 14-bit pairs, system common, stray bytes, and every channel message's edge values.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MidiEvent } from '../server/midi/events.ts';
import { MidiParser } from '../server/midi/parser.ts';
import { throwsWith } from './helpers/assert.ts';

/** Events without their time, for compact comparisons. */
function strip(events: MidiEvent[]): Array<Record<string, unknown>> {
  return events.map(({ time: _time, ...rest }) => rest);
}

function parse(bytes: number[], parser = new MidiParser()): Array<Record<string, unknown>> {
  return strip(parser.push(bytes, 0));
}

const cc = (channel: number, controller: number, value: number) => ({ type: 'controlChange', channel, controller, value, normalized: value / 127 });
const noteOn = (channel: number, note: number, velocity: number) => ({ type: 'noteOn', channel, note, velocity, normalized: velocity / 127 });

describe('midi parser: channel messages', () => {
  test('note on, note off, and note on with velocity 0 as note off', () => {
    assert.deepEqual(parse([0x90, 60, 100, 0x80, 60, 64, 0x91, 62, 0]), [
      noteOn(0, 60, 100),
      { type: 'noteOff', channel: 0, note: 60, velocity: 64 },
      { type: 'noteOff', channel: 1, note: 62, velocity: 0 },
    ]);
  });

  test('running status repeats the last channel status for following data bytes', () => {
    assert.deepEqual(parse([0xb3, 7, 10, 7, 20, 8, 30, 0x95, 40, 1, 41, 0]), [
      cc(3, 7, 10),
      cc(3, 7, 20),
      cc(3, 8, 30),
      noteOn(5, 40, 1),
      { type: 'noteOff', channel: 5, note: 41, velocity: 0 },
    ]);
  });

  test('pitch bend extremes map to -8192..8191 and exactly -1..1, centre to 0', () => {
    assert.deepEqual(parse([0xe0, 0, 0, 0x7f, 0x7f, 0x00, 0x40]), [
      { type: 'pitchBend', channel: 0, value: -8192, normalized: -1 },
      { type: 'pitchBend', channel: 0, value: 8191, normalized: 1 },
      { type: 'pitchBend', channel: 0, value: 0, normalized: 0 },
    ]);
  });

  test('program change, channel pressure and poly pressure take their own data lengths (with running status)', () => {
    assert.deepEqual(parse([0xcf, 5, 6, 0xd2, 127, 0xa1, 60, 64]), [
      { type: 'programChange', channel: 15, program: 5 },
      { type: 'programChange', channel: 15, program: 6 },
      { type: 'channelPressure', channel: 2, pressure: 127, normalized: 1 },
      { type: 'polyPressure', channel: 1, note: 60, pressure: 64, normalized: 64 / 127 },
    ]);
  });

  test('a message split across chunks comes out whole, with the time of the chunk that completed it', () => {
    const p = new MidiParser();
    assert.deepEqual(p.push([0xb0], 1), [], 'a status alone completes nothing');
    assert.deepEqual(p.push([21], 2), [], 'one data byte of two completes nothing');
    const [e] = p.push(new Uint8Array([99]), 3);
    assert.deepEqual(e, { ...cc(0, 21, 99), time: 3 });
  });

  test('stray data bytes (before any status, after system common) are dropped and counted', () => {
    const p = new MidiParser();
    assert.deepEqual(parse([1, 2, 3, 0x90, 60, 100], p), [noteOn(0, 60, 100)]);
    assert.equal(p.dropped, 3);
    assert.deepEqual(parse([0xf6, 60, 100], p), [{ type: 'tuneRequest' }], 'tune request cancels running status: the data after it is stray');
    assert.equal(p.dropped, 5);
  });

  test('values that are not bytes in a plain array are dropped, not wrapped', () => {
    const p = new MidiParser();
    assert.deepEqual(parse([0x90, 256, 60, -1, 1.5, 100], p), [noteOn(0, 60, 100)]);
    assert.equal(p.dropped, 3);
  });
});

describe('midi parser: realtime and system messages', () => {
  test('realtime bytes inside a note message come out at once and leave the note intact', () => {
    const p = new MidiParser();
    const events = p.push([0x90, 0xf8, 60, 0xfa, 0xfe, 100, 0xfb, 0xfc, 0xff, 61, 0xf8, 90], 0);
    assert.deepEqual(strip(events), [
      { type: 'clock' },
      { type: 'start' },
      noteOn(0, 60, 100),
      { type: 'continue' },
      { type: 'stop' },
      { type: 'reset' },
      { type: 'clock' },
      noteOn(0, 61, 90),
    ]);
  });

  test('system common is consumed with its data and cancels running status', () => {
    assert.deepEqual(parse([0x90, 60, 100, 0xf1, 0x35, 0xf2, 0x10, 0x02, 0xf3, 7, 0xf6, 0xf4, 5, 0xf5, 0xf7, 1, 2]), [
      noteOn(0, 60, 100),
      { type: 'mtcQuarterFrame', piece: 3, nibble: 5 },
      { type: 'songPosition', sixteenths: 0x10 | (0x02 << 7) },
      { type: 'songSelect', song: 7 },
      { type: 'tuneRequest' },
    ]);
  });

  test('a song position split across chunks with a clock in the middle', () => {
    const p = new MidiParser();
    assert.deepEqual(strip(p.push([0xf2, 0x01], 0)), []);
    assert.deepEqual(strip(p.push([0xf8, 0x01], 0)), [{ type: 'clock' }, { type: 'songPosition', sixteenths: 129 }]);
  });
});

describe('midi parser: SysEx', () => {
  test('a SysEx split across chunks, with realtime bytes inside, comes out whole and the realtime bytes still come out', () => {
    const p = new MidiParser();
    assert.deepEqual(strip(p.push([0xf0, 0x7e, 0x7f], 0)), []);
    assert.deepEqual(strip(p.push([0x06, 0xf8, 0x01], 0)), [{ type: 'clock' }], 'the clock inside the SysEx is emitted at once');
    const done = p.push([0xfa, 0xf7, 0x90, 60, 100], 5);
    assert.deepEqual(strip(done), [
      { type: 'start' },
      { type: 'sysex', bytes: new Uint8Array([0xf0, 0x7e, 0x7f, 0x06, 0x01, 0xf7]), truncated: false },
      noteOn(0, 60, 100),
    ]);
    assert.equal(done[1]?.time, 5, 'the SysEx is stamped when its 0xF7 arrived');
  });

  test('a SysEx clears running status', () => {
    assert.deepEqual(parse([0x90, 60, 100, 0xf0, 1, 0xf7, 61, 100]), [noteOn(0, 60, 100), { type: 'sysex', bytes: new Uint8Array([0xf0, 1, 0xf7]), truncated: false }]);
  });

  test('an over-long SysEx is capped in memory and marked truncated', () => {
    const p = new MidiParser({ maxSysexBytes: 16 });
    const body = Array.from({ length: 10_000 }, (_, i) => i & 0x7f);
    assert.deepEqual(p.push([0xf0, ...body], 0), [], 'nothing before its end');
    const [e] = p.push([0xf7, 0xc0, 3], 0);
    assert.ok(e?.type === 'sysex', `expected the SysEx, got ${e?.type}`);
    assert.equal(e.bytes.length, 16);
    assert.deepEqual([...e.bytes.slice(0, 4)], [0xf0, 0, 1, 2]);
    assert.equal(e.truncated, true);
    assert.deepEqual(parse([0xc0, 4], p), [{ type: 'programChange', channel: 0, program: 4 }], 'the parser goes on normally after it');
  });

  test('a never-terminated SysEx does not grow memory and a status byte ends it as truncated', () => {
    const p = new MidiParser({ maxSysexBytes: 64 });
    p.push([0xf0], 0);
    const chunk = new Uint8Array(4096).fill(0x11);
    for (let i = 0; i < 256; i++) assert.equal(p.push(chunk, 0).length, 0, 'no events from SysEx data');
    const events = p.push([0x90, 60, 100], 0);
    assert.equal(events.length, 2);
    const [sysex, note] = events;
    assert.ok(sysex?.type === 'sysex' && sysex.truncated && sysex.bytes.length === 64, 'the cut SysEx comes out capped and truncated');
    assert.deepEqual(note && strip([note]), [noteOn(0, 60, 100)]);
  });

  test('maxSysexBytes is range-checked with a message naming it', () => {
    throwsWith(() => new MidiParser({ maxSysexBytes: 1 }), 'BAD_OPTION', 'maxSysexBytes');
  });
});

describe('midi parser: 14-bit control change', () => {
  test('an MSB comes out at once as a 7-bit CC; its LSB adds a cc14 with the combined value', () => {
    const p = new MidiParser();
    assert.deepEqual(strip(p.push([0xb2, 1, 0x40], 0)), [cc(2, 1, 0x40)]);
    assert.deepEqual(strip(p.push([33, 0x05], 0)), [cc(2, 33, 5), { type: 'cc14', channel: 2, controller: 1, value: (0x40 << 7) | 5, normalized: ((0x40 << 7) | 5) / 16383 }]);
  });

  test('extremes reach 0 and 16383, normalised 0 and 1', () => {
    const events = new MidiParser().push([0xb0, 7, 127, 39, 127, 7, 0, 39, 0], 0).filter((e) => e.type === 'cc14');
    assert.deepEqual(strip(events), [
      { type: 'cc14', channel: 0, controller: 7, value: 16383, normalized: 1 },
      { type: 'cc14', channel: 0, controller: 7, value: 0, normalized: 0 },
    ]);
  });

  test('a lone MSB (a 7-bit knob) gives only 7-bit CCs', () => {
    assert.deepEqual(parse([0xb0, 10, 1, 10, 2, 10, 3]), [cc(0, 10, 1), cc(0, 10, 2), cc(0, 10, 3)]);
  });

  test('an LSB with no MSB of its pair before, or on another channel, is a plain CC', () => {
    const p = new MidiParser();
    assert.deepEqual(parse([0xb0, 40, 9], p), [cc(0, 40, 9)], 'CC 40 as an ordinary knob');
    assert.deepEqual(parse([0xb0, 8, 100, 0xb1, 40, 9], p), [cc(0, 8, 100), cc(1, 40, 9)], 'the MSB was on channel 0');
  });

  test('further LSBs refine the last MSB (fine moves within one coarse step)', () => {
    const out = new MidiParser().push([0xb0, 16, 3, 48, 1, 48, 2], 0).filter((e) => e.type === 'cc14');
    assert.deepEqual(
      out.map((e) => e.type === 'cc14' && e.value),
      [(3 << 7) | 1, (3 << 7) | 2],
    );
  });

  test('reset() forgets MSBs and the message in progress', () => {
    const p = new MidiParser();
    p.push([0xb0, 1, 5, 0x90, 60], 0);
    p.reset();
    assert.deepEqual(parse([100, 0xb0, 33, 1], p), [cc(0, 33, 1)], 'no running status, no pairing after reset');
  });
});
