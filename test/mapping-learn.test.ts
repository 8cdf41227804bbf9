// MIDI learn: arm a target, move a control, the route is made (replacing old routes to that target); cancel;
// and the learned route works in the engine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { arm, cancel, learnIdle, learnInput, MappingEngine, parseMapping, type CcInput, type Mapping, type MappingInput } from '../core/mapping/index.ts';
import { throwsWith } from './helpers/assert.ts';

const base: Mapping = parseMapping({
  version: 1,
  name: 'set',
  routes: [
    { name: 'old knob', source: { kind: 'midi cc', controller: 1 }, target: { kind: 'direction', index: 3 } },
    { name: 'bass', source: { kind: 'audio bass' }, target: { kind: 'direction', index: 0 } },
    { name: 'old note', source: { kind: 'midi note', note: 40 }, target: { kind: 'direction', index: 3 } },
  ],
});
const cc = (value: number, controller = 21, channel = 0): CcInput => ({ type: 'cc', time: 0, channel, controller, value });

function feed(mapping: Mapping, state: ReturnType<typeof learnIdle>, inputs: MappingInput[]) {
  let m = mapping;
  let s = state;
  let learned;
  for (const input of inputs) {
    const r = learnInput(s, m, input);
    m = r.mapping;
    s = r.state;
    learned = r.learned ?? learned;
  }
  return { mapping: m, state: s, learned };
}

describe('MIDI learn', () => {
  it('does nothing until armed', () => {
    const r = learnInput(learnIdle(), base, cc(0.9));
    assert.equal(r.mapping, base, 'the mapping is untouched');
    assert.equal(r.learned, undefined, 'nothing learned');
  });

  it('arm, move a CC past the threshold: a route from it replaces the old routes to the target', () => {
    const armed = arm(learnIdle(), { kind: 'direction', index: 3 });
    const { mapping, state, learned } = feed(base, armed, [cc(0.5, 21, 4), cc(0.51, 21, 4), cc(0.53, 21, 4)]);
    assert.equal(learned, undefined, 'small moves (jitter) are not enough');
    assert.equal(state.armed?.kind, 'direction', 'still armed');
    const after = feed(mapping, state, [cc(0.6, 21, 4)]);
    assert.ok(after.learned, 'a move beyond the threshold is learned');
    assert.equal(after.state.armed, undefined, 'learning disarms');
    assert.deepEqual(after.learned.route.source, { kind: 'midi cc', channel: 5, controller: 21, bits: 7 }, 'channel 5 as printed (wire 4)');
    assert.deepEqual(after.learned.route.target, { kind: 'direction', index: 3 }, 'to the armed target');
    assert.equal(after.learned.replaced, 2, 'both old routes to direction 3 replaced');
    assert.equal(after.learned.index, 0, 'in the place of the first');
    assert.deepEqual(after.mapping.routes.map((r) => r.name), ['CC 21 ch 5 → direction 3', 'bass'], 'the other routes kept');
    assert.deepEqual(after.learned.route.transform.out, [-2, 2], 'a direction swings ±2');
    assert.equal(base.routes.length, 3, 'the input mapping is not mutated');
    assert.deepEqual(parseMapping(JSON.parse(JSON.stringify(after.mapping))), after.mapping, 'the result is plain, valid JSON');
  });

  it('learns notes, pitch bend and 14-bit CCs, and appends for a new target', () => {
    const note = feed(base, arm(learnIdle(), { kind: 'preset recall', name: 'drop' }), [{ type: 'noteOn', time: 0, channel: 9, note: 36, velocity: 0.8 }]);
    assert.deepEqual(note.learned?.route.source, { kind: 'midi note', channel: 10, note: 36, mode: 'gate' }, 'a pad recalls a preset');
    assert.equal(note.learned?.index, 3, 'appended');
    const bend = feed(base, arm(learnIdle(), { kind: 'continuous', index: 0 }), [{ type: 'pitchBend', time: 0, channel: 0, value: 0.02 }, { type: 'pitchBend', time: 0, channel: 0, value: 0.3 }]);
    assert.deepEqual(bend.learned?.route.source, { kind: 'midi pitchbend', channel: 1 }, 'a bend away from the centre');
    const fine = feed(base, arm(learnIdle(), { kind: 'truncation' }), [{ ...cc(0.2, 7), bits: 14 }, { ...cc(0.3, 7), bits: 14 }]);
    assert.deepEqual(fine.learned?.route.source, { kind: 'midi cc', channel: 1, controller: 7, bits: 14 }, 'a 14-bit pair');
    // A 14-bit knob sends MSB, LSB (controller + 32) and the pair; the jumpy LSB is never learned.
    const turn = (msb: number, lsb: number): MappingInput[] => [cc(msb / 127, 3), cc(lsb / 127, 35), { ...cc((msb * 128 + lsb) / 16383, 3), bits: 14 }];
    const knob14 = feed(base, arm(learnIdle(), { kind: 'direction', index: 5 }), [...turn(64, 0), ...turn(64, 90), ...turn(64, 10), ...turn(70, 3)]);
    assert.deepEqual(knob14.learned?.route.source, { kind: 'midi cc', channel: 1, controller: 3, bits: 7 }, 'the MSB (which takes the 14-bit values too), not the LSB');
    const button = feed(base, arm(learnIdle(), { kind: 'reseed' }), [cc(1, 64)]);
    assert.equal(button.learned?.route.source.kind, 'midi cc', 'a button press (0 → 1) is learned at once');
  });

  it('rejects a bad target when arming', () => {
    throwsWith(() => arm(learnIdle(), { kind: 'direction', index: -2 }), 'MAPPING_INVALID', 'target.index');
  });

  it('cancel disarms; clock ticks and audio are ignored', () => {
    const armed = arm(learnIdle(), { kind: 'direction', index: 0 });
    const ignored = feed(base, armed, [{ type: 'clock', time: 0 }, { type: 'audio', time: 0, features: { bass: 1 }, onset: true }]);
    assert.equal(ignored.learned, undefined, 'only MIDI controls are learned');
    const cancelled = feed(base, cancel(armed), [cc(0), cc(1)]);
    assert.equal(cancelled.learned, undefined, 'nothing after cancel');
  });

  it('the learned route drives the engine', () => {
    const { mapping } = feed(base, arm(learnIdle(), { kind: 'direction', index: 3 }), [cc(0.2), cc(0.9)]);
    const e = new MappingEngine(mapping);
    e.push({ type: 'cc', time: 0, channel: 0, controller: 21, value: 1 });
    const d = e.evaluate(1).directions[3] as number;
    assert.ok(Math.abs(d - 2) < 1e-6, `the knob at the top pushes direction 3 by 2: ${d}`);
  });
});
