/**
 * MidiManager over a fake port lister: hot-plug (present, removed, back), selections, a system without MIDI,
 * ports that fail to open, feedback to outputs, Web MIDI bytes fed in, listeners that throw, and close.
 * The real lister is exercised too: on a machine without MIDI the manager says so and keeps going.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { Logger } from '../core/log.ts';
import type { TaggedMidiEvent } from '../server/midi/events.ts';
import { MidiManager, type MidiConnection } from '../server/midi/manager.ts';
import type { BytesListener, InputPort, OutputPort, PortList, PortLister } from '../server/midi/ports.ts';
import { RtMidiPortLister } from '../server/midi/ports.ts';
import { DeviceTimebase } from '../server/midi/timebase.ts';
import { throwsWith } from './helpers/assert.ts';

/** A fake MIDI system: ports appear and vanish on command, and devices "send" bytes. */

class FakeLister implements PortLister {
  inputs: string[] = [];
  outputs: string[] = [];
  /** When set, the system has no MIDI: list() answers unavailable with this reason. */
  unavailable: string | null = null;
  /** Input names whose open throws. */
  failOpen = new Set<string>();
  /** Output names whose send throws. */
  failSend = new Set<string>();
  listCalls = 0;
  closed = false;
  readonly openInputs = new Map<string, BytesListener>();
  /** Listeners of inputs that were closed: a device that keeps talking into a closed handle. */
  readonly closedInputs = new Map<string, BytesListener>();
  readonly sent: Array<{ port: string; bytes: number[] }> = [];
  readonly openOutputs = new Set<string>();

  list(): PortList {
    this.listCalls++;
    if (this.unavailable !== null) return { available: false, reason: this.unavailable, hint: 'fake hint: plug something in' };
    return { available: true, inputs: [...this.inputs], outputs: [...this.outputs] };
  }

  openInput(index: number, onBytes: BytesListener): InputPort {
    const name = this.inputs[index];
    if (name === undefined) throw new Error(`no input ${index}`);
    if (this.failOpen.has(name)) throw new Error(`device ${name} is busy`);
    this.openInputs.set(name, onBytes);
    return {
      close: () => {
        this.closedInputs.set(name, onBytes);
        this.openInputs.delete(name);
      },
    };
  }

  openOutput(index: number): OutputPort {
    const name = this.outputs[index];
    if (name === undefined) throw new Error(`no output ${index}`);
    this.openOutputs.add(name);
    return {
      send: (bytes) => {
        if (this.failSend.has(name)) throw new Error(`output ${name} is gone`);
        this.sent.push({ port: name, bytes: [...bytes] });
      },
      close: () => {
        this.openOutputs.delete(name);
      },
    };
  }

  close(): void {
    this.closed = true;
  }

  /** The device `name` sends bytes (as RtMidi would call back); false when no open input listens. */
  play(name: string, bytes: number[], delta?: number): boolean {
    const listener = this.openInputs.get(name);
    listener?.(Uint8Array.from(bytes), delta);
    return listener !== undefined;
  }
}

/** A logger that keeps its lines, for checking what is said and how often. */
function recordingLogger(): Logger & { lines: string[]; count(part: string): number } {
  const lines: string[] = [];
  const keep = (level: string) => (m: string) => {
    lines.push(`${level}: ${m}`);
  };
  return {
    lines,
    count: (part) => lines.filter((l) => l.includes(part)).length,
    debug: keep('debug'),
    info: keep('info'),
    warn: keep('warn'),
    error: keep('error'),
  };
}

const NANO = 'nanoKONTROL2:nanoKONTROL2 MIDI 1 20:0';
const LAUNCH = 'Launch Control XL:Launch Control XL MIDI 1 24:0';

/** A manager on a fake system, with a clock the test moves, recording events, connections and log lines. */
function rig(select = 'all', inputs: string[] = [NANO]) {
  const lister = new FakeLister();
  lister.inputs = [...inputs];
  const log = recordingLogger();
  let now = 100;
  const manager = new MidiManager({ select, lister, rescanMs: 0, log, now: () => now });
  const events: TaggedMidiEvent[] = [];
  const connections: MidiConnection[] = [];
  manager.on('event', (e) => events.push(e));
  manager.on('connection', (c) => connections.push(c));
  return {
    lister,
    log,
    manager,
    events,
    connections,
    advance: (s: number) => {
      now += s;
    },
  };
}

describe('midi manager: hot-plug', () => {
  test('a present device connects; its bytes come out as events tagged with the port name', () => {
    const { lister, manager, events, connections, log } = rig();
    manager.start();
    assert.deepEqual(connections, [{ port: NANO, connected: true }]);
    assert.ok(lister.play(NANO, [0xb0, 16, 64]), 'the input was opened');
    assert.equal(events.length, 1);
    assert.deepEqual(events[0], { type: 'controlChange', channel: 0, controller: 16, value: 64, normalized: 64 / 127, time: 100, port: NANO });
    const [port] = manager.status().ports;
    assert.deepEqual([port?.name, port?.connected, port?.lastEventTime, port?.events], [NANO, true, 100, 1]);
    assert.equal(log.count('connected'), 1, log.lines.join('\n'));
    manager.close();
  });

  test('removed → disconnected (said once), back → reconnected and its events flow again', () => {
    const { lister, manager, events, connections, log } = rig();
    manager.start();
    lister.inputs = [];
    manager.rescan();
    manager.rescan();
    manager.rescan();
    assert.deepEqual(connections.at(-1), { port: NANO, connected: false });
    assert.equal(manager.status().ports[0]?.connected, false, 'status shows the port disconnected');
    assert.equal(log.count('disconnected'), 1, `disconnection said once over three rescans:\n${log.lines.join('\n')}`);
    assert.equal(lister.openInputs.size, 0, 'the input handle was closed');
    // A byte still queued from the closed handle must not come out.
    lister.closedInputs.get(NANO)?.(Uint8Array.from([0x90, 60, 100]), 0);
    assert.equal(events.length, 0, 'nothing from a closed handle');

    lister.inputs = [LAUNCH, NANO]; // back, at another index
    manager.rescan();
    manager.rescan();
    assert.deepEqual(connections.at(-1), { port: NANO, connected: true });
    assert.equal(log.count('reconnected'), 1, log.lines.join('\n'));
    assert.ok(lister.play(NANO, [0x90, 60, 100]), 'reopened');
    assert.deepEqual(
      events.map((e) => [e.type, e.port]),
      [['noteOn', NANO]],
    );
    manager.close();
  });

  test('a message cut by the unplug does not run into the stream after reconnecting', () => {
    const { lister, manager, events } = rig();
    manager.start();
    lister.play(NANO, [0xb0, 7]); // half a CC
    lister.inputs = [];
    manager.rescan();
    lister.inputs = [NANO];
    manager.rescan();
    lister.play(NANO, [100, 0x90, 60, 1]);
    assert.deepEqual(
      events.map((e) => e.type),
      ['noteOn'],
      'the stray 100 is dropped, not completed into a CC with the old status',
    );
    manager.close();
  });

  test('the rescan timer picks up a device plugged in later, and does not keep the process alive', async () => {
    const lister = new FakeLister();
    const manager = new MidiManager({ select: 'nano', lister, rescanMs: 50, log: recordingLogger() }).start();
    assert.equal(manager.status().ports.length, 0);
    lister.inputs = [NANO];
    const connected = new Promise<MidiConnection>((resolve) => manager.once('connection', resolve));
    // The manager's timer is unref'd (it must not keep a server alive): this one keeps the test alive meanwhile.
    const keepAlive = setTimeout(() => {}, 2000);
    assert.deepEqual(await connected, { port: NANO, connected: true });
    clearTimeout(keepAlive);
    manager.close();
    const calls = lister.listCalls;
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(lister.listCalls, calls, 'no rescans after close');
  });

  test('a port that fails to open is said once, retried at each rescan, and connects when it can', () => {
    const { lister, manager, log, connections } = rig();
    lister.failOpen.add(NANO);
    manager.start();
    manager.rescan();
    manager.rescan();
    assert.equal(log.count('could not open'), 1, log.lines.join('\n'));
    assert.equal(connections.length, 0);
    lister.failOpen.clear();
    manager.rescan();
    assert.deepEqual(connections, [{ port: NANO, connected: true }]);
    assert.equal(log.count("MIDI input '" + NANO + "' connected"), 1, 'the first successful open is a connection, not a reconnection');
    manager.close();
  });
});

describe('midi manager: selection', () => {
  test('a name matches any part, ignoring case; other ports stay closed', () => {
    const { lister, manager } = rig('launch control', [NANO, LAUNCH]);
    manager.start();
    assert.deepEqual([...lister.openInputs.keys()], [LAUNCH]);
    manager.close();
  });

  test('an index is resolved to that port once and followed by name when ports move', () => {
    const { lister, manager, log } = rig('1', [NANO, LAUNCH]);
    manager.start();
    assert.deepEqual([...lister.openInputs.keys()], [LAUNCH]);
    assert.equal(log.count('following it by name'), 1);
    lister.inputs = [LAUNCH];
    manager.rescan();
    assert.deepEqual([...lister.openInputs.keys()], [LAUNCH], 'still the same controller although it is now input 0');
    assert.match(manager.status().selection, /Launch Control XL/);
    manager.close();
  });

  test('nothing matching is said once, with the inputs there are, until the list changes', () => {
    const { lister, manager, log } = rig('korg', [LAUNCH]);
    manager.start();
    manager.rescan();
    assert.equal(log.count("no MIDI input matches 'korg'"), 1, log.lines.join('\n'));
    assert.ok(log.lines.some((l) => l.includes(LAUNCH)), 'the line names the inputs there are');
    lister.inputs = [LAUNCH, 'KORG nanoKEY2'];
    manager.rescan();
    assert.deepEqual([...lister.openInputs.keys()], ['KORG nanoKEY2']);
    manager.close();
  });

  test('two identical controllers are told apart as NAME and NAME #2', () => {
    const { lister, manager, events } = rig('all', [NANO, NANO]);
    manager.start();
    assert.deepEqual(
      manager.status().ports.map((p) => p.name),
      [NANO, `${NANO} #2`],
    );
    assert.equal(lister.openInputs.size, 1, 'the fake keys listeners by name: the second open replaced the first');
    lister.play(NANO, [0xc0, 1]);
    assert.equal(events[0]?.port, `${NANO} #2`);
    manager.close();
  });

  test('an empty selection is refused at construction with a hint', () => {
    throwsWith(() => new MidiManager({ select: ' ', lister: new FakeLister() }), 'BAD_OPTION', '--midi');
    throwsWith(() => new MidiManager({ lister: new FakeLister(), rescanMs: 10 }), 'BAD_OPTION', 'rescanMs');
  });
});

describe('midi manager: no MIDI subsystem', () => {
  test('a lister reporting no subsystem: the manager starts, reports unavailable and says so once', () => {
    const { lister, manager, log } = rig();
    lister.unavailable = 'no MIDI subsystem on this machine (fake)';
    assert.doesNotThrow(() => manager.start());
    manager.rescan();
    manager.rescan();
    const s = manager.status();
    assert.deepEqual([s.available, s.reason, s.ports.length], [false, 'no MIDI subsystem on this machine (fake)', 0]);
    assert.ok(s.hint?.includes('plug'), 'status carries the hint');
    assert.equal(log.count('rhodops runs without MIDI'), 1, log.lines.join('\n'));
    assert.equal(manager.sendFeedback([{ channel: 0, controller: 1, value: 1 }]).length, 0, 'feedback goes nowhere, quietly');
    manager.close();
  });

  test('a subsystem that goes away disconnects its ports; when it returns they reconnect', () => {
    const { lister, manager, connections, log } = rig();
    manager.start();
    lister.unavailable = 'the MIDI service stopped';
    manager.rescan();
    assert.deepEqual(connections.at(-1), { port: NANO, connected: false });
    lister.unavailable = null;
    manager.rescan();
    assert.deepEqual(connections.at(-1), { port: NANO, connected: true });
    assert.equal(log.count('MIDI subsystem available'), 1, log.lines.join('\n'));
    manager.close();
  });

  test('a lister that throws is treated as unavailable, not as a crash', () => {
    const throwing: PortLister = {
      list: () => {
        throw new Error('driver exploded');
      },
      openInput: () => {
        throw new Error('unreachable');
      },
      openOutput: () => {
        throw new Error('unreachable');
      },
      close: () => {},
    };
    const log = recordingLogger();
    const manager = new MidiManager({ lister: throwing, rescanMs: 0, log });
    assert.doesNotThrow(() => manager.start().rescan());
    assert.equal(manager.status().available, false);
    assert.match(manager.status().reason ?? '', /driver exploded/);
    assert.equal(log.count('driver exploded'), 1);
    manager.close();
  });

  test('the real lister on this machine: the manager starts and closes without throwing', () => {
    const log = recordingLogger();
    const manager = new MidiManager({ lister: new RtMidiPortLister(), rescanMs: 0, log });
    assert.doesNotThrow(() => manager.start());
    const s = manager.status();
    if (!existsSync('/dev/snd/seq') && process.platform === 'linux') {
      assert.equal(s.available, false, 'no ALSA sequencer: unavailable');
      assert.match(s.reason ?? '', /no MIDI subsystem on this machine/);
      assert.equal(log.count('rhodops runs without MIDI'), 1);
    } else {
      assert.ok(typeof s.available === 'boolean', 'a machine with MIDI answers either way');
    }
    assert.doesNotThrow(() => manager.close());
  });
});

describe('midi manager: feedback', () => {
  test('control changes go to connected controllers with an output of the same name, 14-bit as MSB then LSB', () => {
    const { lister, manager } = rig('all', [NANO, LAUNCH]);
    lister.outputs = [NANO];
    manager.start();
    const reached = manager.sendFeedback([
      { channel: 0, controller: 16, value: 0.5 },
      { channel: 1, controller: 1, value: 1, highRes: true },
    ]);
    assert.deepEqual(reached, [NANO], 'the controller without an output is skipped');
    assert.deepEqual(lister.sent, [
      { port: NANO, bytes: [0xb0, 16, 64] },
      { port: NANO, bytes: [0xb1, 1, 127] },
      { port: NANO, bytes: [0xb1, 33, 127] },
    ]);
    assert.equal(manager.status().ports.find((p) => p.name === NANO)?.feedback, true);
    assert.equal(manager.status().ports.find((p) => p.name === LAUNCH)?.feedback, false);
    manager.sendFeedback([{ channel: 0, controller: 16, value: 0 }]);
    assert.equal(lister.openOutputs.size, 1, 'the output is opened once and kept');
    manager.close();
    assert.equal(lister.openOutputs.size, 0, 'close closes outputs');
  });

  test('invalid values are skipped with one warning; a failing output is logged once and never throws', () => {
    const { lister, manager, log } = rig();
    lister.outputs = [NANO];
    manager.start();
    assert.deepEqual(manager.sendFeedback([{ channel: 16, controller: 1, value: 0 }]), []);
    assert.equal(log.count('skipped 1 invalid'), 1, log.lines.join('\n'));
    lister.failSend.add(NANO);
    assert.doesNotThrow(() => {
      manager.sendFeedback([{ channel: 0, controller: 1, value: 0 }]);
      manager.sendFeedback([{ channel: 0, controller: 1, value: 0 }]);
    });
    assert.equal(log.count('could not send MIDI feedback'), 1, log.lines.join('\n'));
    lister.failSend.clear();
    assert.deepEqual(manager.sendFeedback([{ channel: 0, controller: 1, value: 2 }]), [NANO], 'it recovers; values are clamped');
    assert.deepEqual(lister.sent.at(-1), { port: NANO, bytes: [0xb0, 1, 127] });
    manager.close();
  });

  test('only the named port, when one is given', () => {
    const { lister, manager } = rig('all', [NANO, LAUNCH]);
    lister.outputs = [NANO, LAUNCH];
    manager.start();
    assert.deepEqual(manager.sendFeedback([{ channel: 0, controller: 1, value: 0 }], { port: LAUNCH }), [LAUNCH]);
    manager.close();
  });
});

describe('midi manager: forwarded bytes, clock, listeners', () => {
  test('bytes fed from a browser come out tagged with their source, split chunks and all', () => {
    const { manager, events, connections } = rig('all', []);
    manager.start();
    manager.feed('web:1:Arturia', [0xb0, 1], 5);
    manager.feed('web:1:Arturia', new Uint8Array([90]), 6);
    assert.deepEqual(events, [{ type: 'controlChange', channel: 0, controller: 1, value: 90, normalized: 90 / 127, time: 6, port: 'web:1:Arturia' }]);
    assert.deepEqual(manager.status().ports.map((p) => [p.name, p.source, p.connected]), [['web:1:Arturia', 'remote', true]]);
    manager.forget('web:1:Arturia');
    assert.deepEqual(connections.at(-1), { port: 'web:1:Arturia', connected: false });
    assert.equal(manager.status().ports.length, 0);
    manager.close();
  });

  test('forwarding sources are capped', () => {
    const log = recordingLogger();
    const manager = new MidiManager({ lister: new FakeLister(), rescanMs: 0, log, maxRemoteSources: 2 });
    for (const s of ['a', 'b', 'c', 'd']) manager.feed(s, [0xc0, 1], 0);
    assert.equal(manager.status().ports.length, 2);
    assert.equal(log.count('forwarding sources'), 1, log.lines.join('\n'));
    manager.close();
  });

  test('a port\'s MIDI clock shows in status, timed from the device deltas', () => {
    const { lister, manager, advance } = rig();
    manager.start();
    lister.play(NANO, [0xfa], 0);
    for (let i = 0; i < 24; i++) {
      advance(1 / 48); // a beat of pulses seen on time...
      lister.play(NANO, [0xf8], 1 / 48);
    }
    advance(0.5); // ...then a long frame: the next beat reaches JavaScript in one burst
    for (let i = 0; i < 24; i++) lister.play(NANO, [0xf8], 1 / 48);
    const clock = manager.status().ports[0]?.clock;
    assert.ok(clock?.running, 'running after start');
    assert.ok(clock.bpm !== null && Math.abs(clock.bpm - 120) < 0.01, `the deltas keep the spacing: ${clock.bpm}`);
    manager.close();
  });

  test('a listener that throws is logged once and the others keep getting events', () => {
    const { lister, manager, events, log } = rig();
    manager.prependListener('event', () => {
      throw new Error('mapping bug');
    });
    manager.start();
    assert.doesNotThrow(() => {
      lister.play(NANO, [0xc0, 1]);
      lister.play(NANO, [0xc0, 2]);
    });
    assert.equal(log.count('mapping bug'), 1, log.lines.join('\n'));
    assert.equal(events.length, 2, 'the other listener still got both events');
    let onceCalls = 0;
    manager.once('event', () => onceCalls++);
    lister.play(NANO, [0xc0, 3, 0xc0, 4]);
    assert.equal(onceCalls, 1, 'once() listeners still run once');
    manager.close();
  });

  test('close stops everything: inputs, lister, rescans, fed bytes', () => {
    const { lister, manager, events } = rig();
    manager.start();
    manager.close();
    assert.equal(lister.openInputs.size, 0);
    assert.ok(lister.closed, 'the lister is closed');
    const calls = lister.listCalls;
    manager.rescan();
    manager.feed('web', [0xc0, 1]);
    lister.closedInputs.get(NANO)?.(Uint8Array.from([0xc0, 1]), 0);
    assert.equal(lister.listCalls, calls, 'no scan after close');
    assert.equal(events.length, 0, 'no events after close');
  });
});

describe('device timebase', () => {
  test('keeps device spacing, never goes past now, never lags more than maxLag', () => {
    const tb = new DeviceTimebase(0.5);
    assert.equal(tb.stamp(10, 0), 10, 'the first message is stamped now');
    assert.equal(tb.stamp(10, 0.01), 10, 'never in the future');
    assert.equal(tb.stamp(10.2, 0.01), 10.01, 'a late callback keeps the device time');
    assert.equal(tb.stamp(12, 0.01), 11.5, 'but lags at most maxLag');
    assert.equal(tb.stamp(13, undefined), 13, 'no delta: now');
    tb.reset();
    assert.equal(tb.stamp(20, 5), 20, 'after reset the first delta is ignored');
  });
});
