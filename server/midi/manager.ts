/**
 * The live MIDI inputs of the server: connects the ports a selection names, parses their bytes, and emits
 * events tagged with the port's name; follows controllers that are unplugged and plugged back; sends feedback
 * to controllers that have an output of the same name.
 *
 *   const midi = new MidiManager({ select: 'nanokontrol' });
 *   midi.on('event', (e) => {                             // e.type, e.port, e.time (seconds, performance.now() / 1000)
 *     const input = midiInputFrom(e, e.time);             // core/mapping/inputs.ts
 *     if (input) engine.push(input);
 *   });
 *   midi.on('connection', ({ port, connected }) => …);    // for status pages
 *   midi.start();                                         // first scan now, then every `rescanMs`
 *   midi.feed('web:3', bytes, time);                      // Web MIDI bytes a browser forwarded
 *   midi.sendFeedback([{ channel: 0, controller: 16, value: 0.5 }]);
 *   midi.status();  midi.close();
 *
 * It never throws after construction and never stops the show: a missing MIDI subsystem, a port that fails to
 * open, a send that fails and a listener that throws are logged (each once, not every rescan) and skipped.
 */
import { EventEmitter } from 'node:events';
import { messageOf, RhodopsError } from '../../core/errors.ts';
import type { Seconds } from '../../core/latent/units.ts';
import { logger, type Logger } from '../../core/log.ts';
import { MidiClock, type MidiClockOptions } from './clock.ts';
import type { TaggedMidiEvent } from './events.ts';
import { feedbackMessages, feedbackProblem, type FeedbackValue } from './feedback.ts';
import { MidiParser, type MidiParserOptions } from './parser.ts';
import { RtMidiPortLister, type InputPort, type OutputPort, type PortList, type PortLister } from './ports.ts';
import { describeSelection, matchInputs, parseMidiSelection, portKeys, type MidiSelection } from './selection.ts';
import { DeviceTimebase } from './timebase.ts';
import type { MidiPortStatus, MidiStatus } from '../../protocol/status.ts';

export interface MidiManagerOptions {
  /** `NAME` (any part, ignoring case), `INDEX` (of `rhodops midi list`) or `all`. */
  select: string | MidiSelection;
  /** Where ports come from. Default: the system's, through RtMidi. */
  lister: PortLister;
  /** Milliseconds between rescans for hot-plug, 50 to 60000, or 0 for none (call `rescan()`). Default 2000. */
  rescanMs: number;
  /** The clock event times are on, in seconds. Default performance.now() / 1000, the render loop's clock. */
  now: () => Seconds;
  parser: Partial<MidiParserOptions>;
  clock: Partial<MidiClockOptions>;
  /** Most forwarding sources (`feed`) at once; bytes from more are dropped. Default 16. */
  maxRemoteSources: number;
  log: Logger;
}

export interface MidiConnection {
  port: string;
  connected: boolean;
}

interface MidiManagerEvents {
  event: [TaggedMidiEvent];
  connection: [MidiConnection];
}

interface PortRecord {
  readonly name: string;
  readonly source: 'port' | 'remote';
  input: InputPort | null;
  output: OutputPort | null;
  readonly parser: MidiParser;
  readonly timebase: DeviceTimebase;
  clock: MidiClock;
  connected: boolean;
  everConnected: boolean;
  /** Bumped at each (dis)connection, so bytes still queued from a closed handle are ignored. */
  generation: number;
  lastEventTime: Seconds | null;
  events: number;
  /** The last open/send failure logged, so a port that keeps failing is logged once. */
  openError: string | null;
  outputError: string | null;
}

const MAX_SOURCE_NAME = 200;

function resolveOptions(o: Partial<MidiManagerOptions>): MidiManagerOptions {
  const rescanMs = o.rescanMs ?? 2000;
  if (!Number.isInteger(rescanMs) || (rescanMs !== 0 && (rescanMs < 50 || rescanMs > 60_000))) {
    throw new RhodopsError('BAD_OPTION', `midi: rescanMs must be 0 or an integer from 50 to 60000, got ${String(rescanMs)}.`, { hint: 'Leave it out for the default (2000).' });
  }
  const maxRemoteSources = o.maxRemoteSources ?? 16;
  if (!Number.isInteger(maxRemoteSources) || maxRemoteSources < 0 || maxRemoteSources > 1024) {
    throw new RhodopsError('BAD_OPTION', `midi: maxRemoteSources must be an integer from 0 to 1024, got ${String(maxRemoteSources)}.`, { hint: 'Leave it out for the default (16).' });
  }
  // Checked here so a bad option fails at construction, not at the first port.
  new MidiParser(o.parser);
  new MidiClock(o.clock);
  return {
    select: o.select ?? 'all',
    lister: o.lister ?? new RtMidiPortLister(),
    rescanMs,
    now: o.now ?? (() => performance.now() / 1000),
    parser: o.parser ?? {},
    clock: o.clock ?? {},
    maxRemoteSources,
    log: o.log ?? logger('midi'),
  };
}

export class MidiManager extends EventEmitter<MidiManagerEvents> {
  private readonly o: MidiManagerOptions;
  private readonly log: Logger;
  private readonly selection: MidiSelection;
  /** An index selection, once resolved to the port then at that index: followed by name from then on. */
  private pinned: string | null = null;
  private readonly ports = new Map<string, PortRecord>();
  private readonly remotes = new Map<string, PortRecord>();
  private latest: PortList | null = null;
  private outputKeys: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  // What was last said, so each line is logged once rather than every rescan.
  private saidUnavailable: string | null = null;
  private saidNoMatch: string | null = null;
  private saidRemoteCap = false;
  private saidListenerError: string | null = null;

  constructor(options: Partial<MidiManagerOptions> = {}) {
    super();
    this.o = resolveOptions(options);
    this.log = this.o.log;
    this.selection = typeof this.o.select === 'string' ? parseMidiSelection(this.o.select) : this.o.select;
  }

  /** Scans now, then every `rescanMs` (on a timer that does not keep the process alive). */
  start(): this {
    if (this.closed || this.timer !== null || this.selection.kind === 'none') return this;
    this.rescan();
    if (this.o.rescanMs > 0) {
      this.timer = setInterval(() => this.rescan(), this.o.rescanMs);
      this.timer.unref();
    }
    return this;
  }

  /** Lists the ports once: disconnects those that vanished, connects (or reconnects) those selected. */
  rescan(): void {
    if (this.closed) return;
    try {
      this.scan();
    } catch (e) {
      // Only a bug can get here; the timer must keep running so a later rescan can recover.
      this.log.error(`MIDI rescan failed: ${messageOf(e)}`);
    }
  }

  status(): MidiStatus {
    const now = this.o.now();
    const latest = this.latest;
    const port = (r: PortRecord): MidiPortStatus => ({
      name: r.name,
      source: r.source,
      connected: r.connected,
      lastEventTime: r.lastEventTime,
      events: r.events,
      feedback: r.source === 'port' && this.outputKeys.includes(r.name),
      clock: r.clock.state(now),
    });
    return {
      available: latest === null ? null : latest.available,
      reason: latest !== null && !latest.available ? latest.reason : null,
      hint: latest !== null && !latest.available ? latest.hint : null,
      selection: this.pinned !== null ? `'${this.pinned}' (${describeSelection(this.selection)})` : describeSelection(this.selection),
      ports: [...this.ports.values(), ...this.remotes.values()].map(port),
    };
  }

  /**
   * Bytes from a source outside the system's ports: Web MIDI a browser forwards, tagged `source`. `time` is on the
   * `now` clock (default: now); a browser's own timestamps must be converted by the caller. Bytes from more than
   * `maxRemoteSources` sources at once are dropped; `forget` a source when its client leaves.
   */
  feed(source: string, bytes: Uint8Array | readonly number[], time?: Seconds): void {
    if (this.closed || typeof source !== 'string' || source.length === 0) return;
    const name = source.slice(0, MAX_SOURCE_NAME);
    let rec = this.remotes.get(name);
    if (rec === undefined) {
      if (this.remotes.size >= this.o.maxRemoteSources) {
        if (!this.saidRemoteCap) this.log.warn(`MIDI: more than ${this.o.maxRemoteSources} forwarding sources; bytes from '${name}' are dropped until one leaves`);
        this.saidRemoteCap = true;
        return;
      }
      this.saidRemoteCap = false;
      rec = this.record(name, 'remote');
      rec.connected = rec.everConnected = true;
      this.remotes.set(name, rec);
      this.announce(rec);
    }
    this.deliver(rec, bytes, time ?? this.o.now());
  }

  /** A forwarding source left: its parser and clock are dropped. */
  forget(source: string): void {
    const rec = this.remotes.get(source.slice(0, MAX_SOURCE_NAME));
    if (rec === undefined) return;
    this.remotes.delete(rec.name);
    rec.connected = false;
    this.announce(rec);
  }

  /**
   * Sends control changes to every connected controller that has an output of the same name (or only to `port`),
   * opening that output on first use. Invalid values are skipped; failures are logged, never thrown. Returns the
   * names of the ports reached.
   */
  sendFeedback(values: readonly FeedbackValue[], options: { port?: string } = {}): string[] {
    if (this.closed) return [];
    const messages: number[][] = [];
    let skipped = 0;
    let firstProblem: string | null = null;
    for (const v of values) {
      const problem = feedbackProblem(v);
      if (problem === null) messages.push(...feedbackMessages(v));
      else {
        skipped++;
        firstProblem ??= problem;
      }
    }
    if (skipped > 0) this.log.warn(`MIDI feedback: skipped ${skipped} invalid value(s): ${firstProblem}`);
    if (messages.length === 0) return [];
    const reached: string[] = [];
    for (const rec of this.ports.values()) {
      if (!rec.connected || (options.port !== undefined && rec.name !== options.port)) continue;
      const index = this.outputKeys.indexOf(rec.name);
      if (index < 0) continue;
      if (this.sendTo(rec, index, messages)) reached.push(rec.name);
    }
    return reached;
  }

  /** Closes every port and stops rescanning. Events stop at once, even those already queued. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const rec of this.ports.values()) {
      rec.connected = false;
      rec.generation++;
      this.closeInput(rec);
      this.closeOutput(rec);
    }
    this.remotes.clear();
    try {
      this.o.lister.close();
    } catch (e) {
      this.log.debug(`closing the MIDI lister: ${messageOf(e)}`);
    }
  }

  private scan(): void {
    let list: PortList;
    try {
      list = this.o.lister.list();
    } catch (e) {
      list = { available: false, reason: `listing MIDI ports failed (${messageOf(e)})`, hint: 'rhodops tries again at every rescan; `rhodops midi list` shows what the system reports.' };
    }
    this.latest = list;
    if (!list.available) {
      if (this.saidUnavailable !== list.reason) this.log.warn(`${list.reason}: rhodops runs without MIDI\n  → ${list.hint}`);
      this.saidUnavailable = list.reason;
      this.outputKeys = [];
      for (const rec of this.ports.values()) this.disconnect(rec, ' (the MIDI subsystem went away)');
      return;
    }
    if (this.saidUnavailable !== null) this.log.info('MIDI subsystem available');
    this.saidUnavailable = null;

    const inputKeys = portKeys(list.inputs);
    this.outputKeys = portKeys(list.outputs);
    for (const rec of this.ports.values()) {
      if (rec.connected && !inputKeys.includes(rec.name)) this.disconnect(rec, '');
      else if (rec.output !== null && !this.outputKeys.includes(rec.name)) this.closeOutput(rec);
    }

    if (this.selection.kind === 'index' && this.pinned === null && this.selection.index < inputKeys.length) {
      this.pinned = inputKeys[this.selection.index] as string;
      this.log.info(`MIDI input ${this.selection.index} is '${this.pinned}'; following it by name`);
    }
    const wanted = this.pinned !== null ? inputKeys.flatMap((k, i) => (k === this.pinned ? [i] : [])) : matchInputs(this.selection, list.inputs);
    if (wanted.length === 0 && this.ports.size === 0) {
      // Said again only when the list changes: a new device that still does not match is news, a rescan is not.
      const inputs = list.inputs.length > 0 ? list.inputs.map((n) => `'${n}'`).join(', ') : 'none';
      const line = `no MIDI input matches ${describeSelection(this.selection)} yet (inputs: ${inputs}); waiting for it`;
      if (this.saidNoMatch !== line) this.log.info(line);
      this.saidNoMatch = line;
    }
    for (const i of wanted) {
      const key = inputKeys[i] as string;
      let rec = this.ports.get(key);
      if (rec === undefined) {
        rec = this.record(key, 'port');
        this.ports.set(key, rec);
      }
      if (!rec.connected) this.connect(rec, i);
    }
  }

  private record(name: string, source: 'port' | 'remote'): PortRecord {
    return {
      name,
      source,
      input: null,
      output: null,
      parser: new MidiParser(this.o.parser),
      timebase: new DeviceTimebase(),
      clock: new MidiClock(this.o.clock),
      connected: false,
      everConnected: false,
      generation: 0,
      lastEventTime: null,
      events: 0,
      openError: null,
      outputError: null,
    };
  }

  private connect(rec: PortRecord, index: number): void {
    // Whatever was half-received before the port went away must not run into the new stream.
    rec.parser.reset();
    rec.timebase.reset();
    rec.clock = new MidiClock(this.o.clock);
    const generation = ++rec.generation;
    try {
      rec.input = this.o.lister.openInput(index, (bytes, delta) => {
        if (rec.generation !== generation || this.closed) return;
        this.deliver(rec, bytes, rec.timebase.stamp(this.o.now(), delta));
      });
    } catch (e) {
      const msg = messageOf(e);
      if (rec.openError !== msg) this.log.warn(`could not open MIDI input '${rec.name}' (${msg}); trying again at every rescan`);
      rec.openError = msg;
      return;
    }
    rec.openError = null;
    rec.connected = true;
    this.log.info(`MIDI input '${rec.name}' ${rec.everConnected ? 'reconnected' : 'connected'}`);
    rec.everConnected = true;
    this.announce(rec);
  }

  private disconnect(rec: PortRecord, why: string): void {
    if (!rec.connected) return;
    rec.connected = false;
    rec.generation++;
    this.closeInput(rec);
    this.closeOutput(rec);
    this.log.warn(`MIDI input '${rec.name}' disconnected${why}; waiting for it to come back`);
    this.announce(rec);
  }

  private deliver(rec: PortRecord, bytes: Uint8Array | readonly number[], time: Seconds): void {
    for (const e of rec.parser.push(bytes, time)) {
      rec.clock.handle(e);
      rec.events++;
      rec.lastEventTime = e.time;
      this.emitSafely('event', { ...e, port: rec.name });
    }
  }

  private sendTo(rec: PortRecord, index: number, messages: readonly number[][]): boolean {
    try {
      rec.output ??= this.o.lister.openOutput(index);
      for (const m of messages) rec.output.send(m);
      rec.outputError = null;
      return true;
    } catch (e) {
      const msg = messageOf(e);
      if (rec.outputError !== msg) this.log.warn(`could not send MIDI feedback to '${rec.name}' (${msg}); the next feedback tries again`);
      rec.outputError = msg;
      this.closeOutput(rec);
      return false;
    }
  }

  private closeInput(rec: PortRecord): void {
    try {
      rec.input?.close();
    } catch (e) {
      this.log.debug(`closing MIDI input '${rec.name}': ${messageOf(e)}`);
    }
    rec.input = null;
  }

  private closeOutput(rec: PortRecord): void {
    try {
      rec.output?.close();
    } catch (e) {
      this.log.debug(`closing MIDI output '${rec.name}': ${messageOf(e)}`);
    }
    rec.output = null;
  }

  private announce(rec: PortRecord): void {
    this.emitSafely('connection', { port: rec.name, connected: rec.connected });
  }

  /**
   * Listeners run inside native callbacks and timers: one that throws must not take the server down, nor keep
   * the other listeners (status, MIDI learn) from the event. So each is called on its own, not through emit().
   */
  private emitSafely<K extends keyof MidiManagerEvents>(name: K, ...args: MidiManagerEvents[K]): void {
    for (const listener of this.rawListeners(name)) {
      try {
        // rawListeners() (which keeps once() wrappers working) types them loosely; on(name) took exactly these arguments.
        (listener as (...a: MidiManagerEvents[K]) => void)(...args);
      } catch (e) {
        const msg = messageOf(e);
        if (this.saidListenerError !== msg) this.log.error(`a MIDI '${name}' listener threw: ${msg}`);
        this.saidListenerError = msg;
      }
    }
  }
}
