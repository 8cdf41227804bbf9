/**
 * What the MIDI parser emits: one discriminated union on `type`, the same for hardware ports and for bytes a
 * browser forwards from Web MIDI, so the mapping engine has one input vocabulary. Every event carries `time`,
 * in seconds on whatever clock the caller passed to the parser (the manager uses the server's monotonic clock).
 */
import type { NormalRange, Seconds } from '../../core/latent/units.ts';

/** A number from -1 to 1 (pitch bend). */
export type BipolarRange = number;
/** A MIDI channel, 0–15 (shown to people as 1–16). */
export type Channel = number;

interface At {
  time: Seconds;
}

/** A 7-bit control change. Sent for every CC, including MSBs (0–31) and LSBs (32–63) of 14-bit pairs. */
export interface ControlChangeEvent extends At {
  type: 'controlChange';
  channel: Channel;
  controller: number;
  /** 0–127. */
  value: number;
  /** value / 127. */
  normalized: NormalRange;
}

/**
 * A 14-bit control change, sent in addition to the 7-bit ones when CC `controller + 32` (the LSB) follows
 * CC `controller` (the MSB, 0–31) on the same channel. See `MidiParser` for the pairing rule.
 */
export interface ControlChange14Event extends At {
  type: 'cc14';
  channel: Channel;
  /** The MSB's controller number, 0–31. */
  controller: number;
  /** 0–16383. */
  value: number;
  /** value / 16383. */
  normalized: NormalRange;
}

export interface NoteOnEvent extends At {
  type: 'noteOn';
  channel: Channel;
  note: number;
  /** 1–127 (a note on with velocity 0 comes out as a noteOff). */
  velocity: number;
  /** velocity / 127. */
  normalized: NormalRange;
}

export interface NoteOffEvent extends At {
  type: 'noteOff';
  channel: Channel;
  note: number;
  /** The release velocity, 0–127; 0 when it was sent as a note on with velocity 0. */
  velocity: number;
}

export interface PitchBendEvent extends At {
  type: 'pitchBend';
  channel: Channel;
  /** -8192–8191, 0 at rest. */
  value: number;
  /** -1–1: value / 8192 below rest, value / 8191 above, so both extremes reach exactly ±1. */
  normalized: BipolarRange;
}

export interface ChannelPressureEvent extends At {
  type: 'channelPressure';
  channel: Channel;
  pressure: number;
  normalized: NormalRange;
}

export interface PolyPressureEvent extends At {
  type: 'polyPressure';
  channel: Channel;
  note: number;
  pressure: number;
  normalized: NormalRange;
}

export interface ProgramChangeEvent extends At {
  type: 'programChange';
  channel: Channel;
  /** 0–127. */
  program: number;
}

/** Realtime transport: clock is 24 pulses per quarter note. */
export interface TransportEvent extends At {
  type: 'clock' | 'start' | 'continue' | 'stop' | 'reset';
}

export interface SysexEvent extends At {
  type: 'sysex';
  /** From 0xF0 to 0xF7 inclusive when complete; the first `maxSysexBytes` bytes when truncated. */
  bytes: Uint8Array;
  /** True when the message was longer than the cap, or was cut off by another status byte before its 0xF7. */
  truncated: boolean;
}

/** System common messages, consumed so their data bytes are never mistaken for running status. */
export interface MtcQuarterFrameEvent extends At {
  type: 'mtcQuarterFrame';
  /** Which piece (0–7) of the time code this nibble is. */
  piece: number;
  nibble: number;
}

export interface SongPositionEvent extends At {
  type: 'songPosition';
  /** In MIDI beats (sixteenth notes, 6 clocks each) from the start of the song. */
  sixteenths: number;
}

export interface SongSelectEvent extends At {
  type: 'songSelect';
  song: number;
}

export interface TuneRequestEvent extends At {
  type: 'tuneRequest';
}

export type MidiEvent =
  | ControlChangeEvent
  | ControlChange14Event
  | NoteOnEvent
  | NoteOffEvent
  | PitchBendEvent
  | ChannelPressureEvent
  | PolyPressureEvent
  | ProgramChangeEvent
  | TransportEvent
  | SysexEvent
  | MtcQuarterFrameEvent
  | SongPositionEvent
  | SongSelectEvent
  | TuneRequestEvent;

export type MidiEventType = MidiEvent['type'];

/** An event and the port (or forwarding source) it came from. */
export type TaggedMidiEvent = MidiEvent & { port: string };
