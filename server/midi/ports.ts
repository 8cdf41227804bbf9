/**
 * MIDI ports: the `PortLister` interface the manager drives (a fake one in tests), the real one over
 * @julusian/midi (RtMidi: ALSA on Linux, CoreMIDI on macOS, WinMM on Windows), and the text of `rhodops midi list`.
 *
 * A machine without a MIDI subsystem (a server, a container, a CI runner) is a normal case, not an error:
 * `list()` answers `available: false` with the reason and what to do, and never throws.
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import { createRequire } from 'node:module';
import { messageOf } from '../../core/errors.ts';

export type PortList =
  | { available: true; inputs: string[]; outputs: string[] }
  | { available: false; reason: string; hint: string };

/** Bytes from an input port, with the seconds since the port's previous message when the driver knows them. */
export type BytesListener = (bytes: Uint8Array, deltaTime: number | undefined) => void;

export interface InputPort {
  close(): void;
}

export interface OutputPort {
  send(bytes: readonly number[]): void;
  close(): void;
}

export interface PortLister {
  /** The ports now present. Called once per rescan; touches the MIDI subsystem at most once. */
  list(): PortList;
  /** Opens input `index` of the latest list; may throw (the manager catches and retries on the next rescan). */
  openInput(index: number, onBytes: BytesListener): InputPort;
  /** Opens output `index` of the latest list; may throw. */
  openOutput(index: number): OutputPort;
  /** Frees what listing holds. Ports already opened are closed by their owners. */
  close(): void;
}

type MidiModule = typeof import('@julusian/midi/lazy');
type RtInput = InstanceType<MidiModule['Input']>;
type RtOutput = InstanceType<MidiModule['Output']>;

export interface RtMidiPortListerOptions {
  /**
   * On Linux, check that the ALSA sequencer device can be opened before asking RtMidi. Without it, ALSA prints
   * its own error lines on stderr at every attempt, i.e. every rescan. Default: true on Linux.
   */
  probeAlsa: boolean;
  /** The ALSA sequencer device. */
  alsaSequencer: string;
}

const NO_SUBSYSTEM = 'no MIDI subsystem on this machine';

function subsystemHint(): string {
  if (process.platform === 'linux') {
    return 'Load the ALSA sequencer (`sudo modprobe snd-seq`) and make /dev/snd/seq readable (the `audio` group); in a container, pass `--device /dev/snd`. Browsers can still forward Web MIDI.';
  }
  return 'Check that the MIDI driver of the operating system works (another MIDI app sees the controller). Browsers can still forward Web MIDI.';
}

/** The real lister. The native addon is loaded on first use, so commands that never touch MIDI never load it. */
export class RtMidiPortLister implements PortLister {
  private readonly o: RtMidiPortListerOptions;
  private midi: MidiModule | null = null;
  // One long-lived client each for listing: RtMidi enumerates live at every call, so hot-plugged devices show up
  // without opening a new sequencer client per rescan.
  private scanIn: RtInput | null = null;
  private scanOut: RtOutput | null = null;

  constructor(options: Partial<RtMidiPortListerOptions> = {}) {
    this.o = { probeAlsa: process.platform === 'linux', alsaSequencer: '/dev/snd/seq', ...options };
  }

  list(): PortList {
    if (this.o.probeAlsa) {
      const problem = this.alsaProblem();
      if (problem !== null) return { available: false, reason: `${NO_SUBSYSTEM} (${problem})`, hint: subsystemHint() };
    }
    let midi: MidiModule;
    try {
      midi = this.load();
      midi.verifyLibraryLoaded();
    } catch (e) {
      return {
        available: false,
        reason: `the MIDI library could not load (${messageOf(e)})`,
        hint: process.platform === 'linux' ? 'Install the ALSA library (`apt-get install libasound2`), then run `npm rebuild @julusian/midi`.' : 'Run `npm rebuild @julusian/midi`.',
      };
    }
    try {
      this.scanIn ??= new midi.Input();
      this.scanOut ??= new midi.Output();
      return { available: true, inputs: names(this.scanIn), outputs: names(this.scanOut) };
    } catch (e) {
      // RtMidi throws "Failed to initialise RtMidi" when the system's MIDI service cannot be reached.
      this.close();
      const probe = process.platform === 'linux' ? this.alsaProblem() : null;
      return { available: false, reason: `${NO_SUBSYSTEM} (RtMidi: ${messageOf(e)}${probe ? `; ${probe}` : ''})`, hint: subsystemHint() };
    }
  }

  openInput(index: number, onBytes: BytesListener): InputPort {
    const input = new (this.load().Input)();
    try {
      // RtMidi drops SysEx and clock by default; the parser wants both. Active sensing is only a keep-alive.
      input.ignoreTypes(false, false, true);
      input.on('messageBuffer', (deltaTime, bytes) => onBytes(bytes, deltaTime));
      input.openPort(index);
    } catch (e) {
      input.destroy();
      throw e;
    }
    return {
      close: () => {
        input.removeAllListeners();
        input.closePort();
        input.destroy();
      },
    };
  }

  openOutput(index: number): OutputPort {
    const output = new (this.load().Output)();
    try {
      output.openPort(index);
    } catch (e) {
      output.destroy();
      throw e;
    }
    return {
      send: (bytes) => output.sendMessage([...bytes]),
      close: () => {
        output.closePort();
        output.destroy();
      },
    };
  }

  close(): void {
    this.scanIn?.destroy();
    this.scanOut?.destroy();
    this.scanIn = null;
    this.scanOut = null;
  }

  private load(): MidiModule {
    // The lazy entry never throws on import when the addon cannot load; verifyLibraryLoaded() says why.
    this.midi ??= createRequire(import.meta.url)('@julusian/midi/lazy') as MidiModule;
    return this.midi;
  }

  /** Why the ALSA sequencer cannot be opened, or null when it can. */
  private alsaProblem(): string | null {
    try {
      accessSync(this.o.alsaSequencer, fsConstants.R_OK | fsConstants.W_OK);
      return null;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === 'ENOENT' ? `ALSA sequencer ${this.o.alsaSequencer} missing` : `ALSA sequencer ${this.o.alsaSequencer} not accessible: ${code ?? messageOf(e)}`;
    }
  }
}

function names(port: RtInput | RtOutput): string[] {
  const out: string[] = [];
  for (let i = 0; i < port.getPortCount(); i++) out.push(port.getPortName(i));
  return out;
}

/** The text of `rhodops midi list`: indexes and names, or why there is no MIDI here and what to do. */
export function formatPortList(list: PortList): string {
  if (!list.available) return `${list.reason}: rhodops runs without MIDI\n  → ${list.hint}\n`;
  const section = (title: string, ports: string[]) =>
    ports.length === 0 ? `${title}: none\n` : `${title}:\n${ports.map((name, i) => `  ${String(i).padStart(2)}  ${name}\n`).join('')}`;
  const usage = list.inputs.length > 0 ? 'Play with `rhodops serve --midi <index|name|all>` (a name matches any part, ignoring case).\n' : 'Connect a controller; `rhodops serve --midi all` picks it up when it appears.\n';
  return section('MIDI inputs', list.inputs) + section('MIDI outputs', list.outputs) + usage;
}
