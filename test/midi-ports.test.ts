/**
 * The real port lister on this machine (no ALSA sequencer here: it must answer unavailable, not throw), the
 * text of `rhodops midi list`, the `midi` command, and how selections match port names.
 */
import assert from 'node:assert/strict';
import { accessSync, constants as fsConstants } from 'node:fs';
import { describe, test } from 'node:test';
import { midiCommand, midiListText } from '../server/midi/cli.ts';
import { feedbackMessages, feedbackProblem } from '../server/midi/feedback.ts';
import { formatPortList, RtMidiPortLister, type PortList, type PortLister } from '../server/midi/ports.ts';
import { matchInputs, parseMidiSelection, portKeys } from '../server/midi/selection.ts';
import { throwsWith } from './helpers/assert.ts';

function alsaSequencerUsable(): boolean {
  try {
    accessSync('/dev/snd/seq', fsConstants.R_OK | fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Machines without ALSA's sequencer (this one, CI, containers) must get the unavailable answer. */
const NO_MIDI_HERE = process.platform === 'linux' && !alsaSequencerUsable();

/** A lister that answers `list` and records that it was closed. */
function staticLister(list: PortList): PortLister & { closed: boolean } {
  const l = {
    closed: false,
    list: () => list,
    openInput: () => {
      throw new Error('not in this test');
    },
    openOutput: () => {
      throw new Error('not in this test');
    },
    close: () => {
      l.closed = true;
    },
  };
  return l;
}

describe('the real port lister', () => {
  test('on this machine: available false with a reason and a hint, never a throw', { skip: !NO_MIDI_HERE && 'this machine has an ALSA sequencer' }, () => {
    const lister = new RtMidiPortLister();
    const first = lister.list();
    const second = lister.list();
    assert.ok(!first.available, 'no MIDI subsystem here');
    assert.equal(first.reason, 'no MIDI subsystem on this machine (ALSA sequencer /dev/snd/seq missing)');
    assert.match(first.hint, /snd-seq/);
    assert.deepEqual(second, first, 'the same answer at every rescan');
    lister.close();
  });

  test('RtMidi itself failing to start ("Failed to initialise RtMidi") is turned into the same answer', { skip: !NO_MIDI_HERE && 'this machine has an ALSA sequencer' }, () => {
    // Without the probe RtMidi is really asked; ALSA prints its own lines on stderr, which is expected here.
    const lister = new RtMidiPortLister({ probeAlsa: false });
    let list: PortList | undefined;
    assert.doesNotThrow(() => {
      list = lister.list();
    });
    assert.ok(list && !list.available, 'unavailable');
    assert.match(list.reason, /^no MIDI subsystem on this machine \(RtMidi: .*initiali[sz]e RtMidi/);
    assert.doesNotThrow(() => lister.close());
  });

  test('a sequencer device that is not there is named in the reason', { skip: process.platform !== 'linux' && 'ALSA is Linux only' }, () => {
    const list = new RtMidiPortLister({ alsaSequencer: '/nonexistent/seq' }).list();
    assert.ok(!list.available && list.reason.includes('/nonexistent/seq missing'), `reason names the device: ${JSON.stringify(list)}`);
  });
});

describe('rhodops midi list', () => {
  test('ports with indexes, inputs and outputs, and how to use them', () => {
    const text = formatPortList({ available: true, inputs: ['nanoKONTROL2 MIDI 1', 'Launch Control XL'], outputs: ['nanoKONTROL2 MIDI 1'] });
    assert.equal(
      text,
      'MIDI inputs:\n   0  nanoKONTROL2 MIDI 1\n   1  Launch Control XL\nMIDI outputs:\n   0  nanoKONTROL2 MIDI 1\n' +
        'Play with `rhodops serve --midi <index|name|all>` (a name matches any part, ignoring case).\n',
    );
  });

  test('no ports at all says so', () => {
    const text = formatPortList({ available: true, inputs: [], outputs: [] });
    assert.match(text, /MIDI inputs: none\nMIDI outputs: none\n/);
    assert.match(text, /Connect a controller/);
  });

  test('no MIDI subsystem: one clear line that rhodops runs without MIDI, then the hint', () => {
    const text = formatPortList({ available: false, reason: 'no MIDI subsystem on this machine (ALSA sequencer /dev/snd/seq missing)', hint: 'Load the ALSA sequencer.' });
    assert.equal(text, 'no MIDI subsystem on this machine (ALSA sequencer /dev/snd/seq missing): rhodops runs without MIDI\n  → Load the ALSA sequencer.\n');
  });

  test('the text and --json close the lister they used', () => {
    const lister = staticLister({ available: true, inputs: ['A'], outputs: [] });
    assert.deepEqual(JSON.parse(midiListText(lister, true)), { available: true, inputs: ['A'], outputs: [] });
    assert.ok(lister.closed, 'closed after listing');
  });

  test('the `midi list` command prints the list on stdout', async () => {
    const lister = staticLister({ available: false, reason: 'no MIDI here', hint: 'plug one in' });
    const written: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      written.push(chunk);
      return true;
    }) as typeof process.stdout.write;
    try {
      await midiCommand(() => lister).parseAsync(['list'], { from: 'user' });
    } finally {
      process.stdout.write = write;
    }
    assert.equal(written.join(''), 'no MIDI here: rhodops runs without MIDI\n  → plug one in\n');
  });

  test('the real `midi list` on this machine exits normally with the no-MIDI line', { skip: !NO_MIDI_HERE && 'this machine has an ALSA sequencer' }, () => {
    assert.match(midiListText(new RtMidiPortLister(), false), /^no MIDI subsystem on this machine .*: rhodops runs without MIDI\n {2}→ /);
  });
});

describe('midi selection', () => {
  const names = ['nanoKONTROL2:nanoKONTROL2 MIDI 1 20:0', 'Launch Control XL 24:0', 'Midi Through:Midi Through Port-0 14:0'];

  test('all, an index, or any part of a name ignoring case', () => {
    assert.deepEqual(matchInputs(parseMidiSelection('all'), names), [0, 1, 2]);
    assert.deepEqual(matchInputs(parseMidiSelection('ALL'), names), [0, 1, 2]);
    assert.deepEqual(matchInputs(parseMidiSelection('1'), names), [1]);
    assert.deepEqual(matchInputs(parseMidiSelection('7'), names), []);
    assert.deepEqual(matchInputs(parseMidiSelection('NANOkontrol'), names), [0]);
    assert.deepEqual(matchInputs(parseMidiSelection(' midi '), names), [0, 2], 'trimmed, and every match is taken');
  });

  test('empty and absurd selections are refused with a hint', () => {
    throwsWith(() => parseMidiSelection(''), 'BAD_OPTION', '--midi');
    throwsWith(() => parseMidiSelection('99999'), 'BAD_OPTION', '99999');
  });

  test('identical names get distinct keys', () => {
    assert.deepEqual(portKeys(['A', 'B', 'A', 'A']), ['A', 'B', 'A #2', 'A #3']);
  });
});

describe('midi feedback messages', () => {
  test('7-bit and 14-bit control changes, clamped', () => {
    assert.deepEqual(feedbackMessages({ channel: 2, controller: 74, value: 0.5 }), [[0xb2, 74, 64]]);
    assert.deepEqual(feedbackMessages({ channel: 0, controller: 7, value: 0.5, highRes: true }), [
      [0xb0, 7, 64],
      [0xb0, 39, 0],
    ]);
    assert.deepEqual(feedbackMessages({ channel: 0, controller: 1, value: -3 }), [[0xb0, 1, 0]]);
  });

  test('out-of-range channels and controllers are named', () => {
    assert.match(feedbackProblem({ channel: 16, controller: 1, value: 0 }) ?? '', /channel/);
    assert.match(feedbackProblem({ channel: 0, controller: 40, value: 0, highRes: true }) ?? '', /controller must be 0–31/);
    assert.match(feedbackProblem({ channel: 0, controller: 1, value: Number.NaN }) ?? '', /value/);
    assert.equal(feedbackProblem({ channel: 15, controller: 127, value: 1 }), null);
  });
});
