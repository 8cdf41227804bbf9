/**
 * What the mapping engine is fed: timestamped MIDI messages and audio-feature frames, in shapes of its own so
 * that it depends on neither the MIDI parser nor the audio extractor. The adapters at the bottom take those
 * modules' events structurally (no import), so the server converts them in one line each.
 *
 * Conventions: times are seconds on the caller's clock (live: the server's monotonic clock; offline: the
 * song's time). MIDI channels here are 0..15 as on the wire; mapping files say 1..16, as printed on
 * controllers. Every value is normalised: CC and velocity 0..1, pitch bend −1..1 (0 at rest), audio
 * features 0..1.
 */
import type { NormalRange, Seconds } from '../latent/units.ts';

export const AUDIO_FEATURES = ['rms', 'loudness', 'centroid', 'flux', 'bass', 'mid', 'treble', 'percussive', 'harmonic', 'pitch', 'novelty'] as const;
/** A continuous audio feature, normalised to 0..1 by the extractor's running normalisation. */
export type AudioFeature = (typeof AUDIO_FEATURES)[number];
export const CHROMA_BINS = 12;

/** A control change. A 14-bit pair (MSB controller 0..31 with its LSB at +32) arrives as one event with bits 14. */
export interface CcInput {
  type: 'cc';
  time: Seconds;
  /** 0..15. */
  channel: number;
  /** 0..127 (the MSB's number for 14-bit pairs). */
  controller: number;
  value: NormalRange;
  bits?: 7 | 14;
}

export interface NoteOnInput {
  type: 'noteOn';
  time: Seconds;
  channel: number;
  note: number;
  /** 0..1; a note-on with velocity 0 is a note-off. */
  velocity: NormalRange;
}

export interface NoteOffInput {
  type: 'noteOff';
  time: Seconds;
  channel: number;
  note: number;
}

export interface PitchBendInput {
  type: 'pitchBend';
  time: Seconds;
  channel: number;
  /** −1..1, 0 at rest. */
  value: number;
}

/** MIDI real-time messages: clock ticks (24 per beat) and transport. */
export interface TransportInput {
  type: 'clock' | 'start' | 'stop' | 'continue';
  time: Seconds;
}

/** One hop of audio analysis. */
export interface AudioFrameInput {
  type: 'audio';
  time: Seconds;
  /** Normalised 0..1 features; a feature left out keeps its previous value. */
  features: Partial<Record<AudioFeature, number>>;
  /** 12 pitch-class energies 0..1, index 0 = C. */
  chroma?: ArrayLike<number>;
  /** An onset was detected in this hop. */
  onset?: boolean;
  /** A beat falls in this hop. When absent, a beat is taken where beatPhase wraps from near 1 to near 0. */
  beat?: boolean;
  /** Where in the current beat this hop is, 0..1. */
  beatPhase?: number;
  /** Estimated tempo (BPM); 0 or absent when unknown. */
  tempo?: number;
}

export type MidiInput = CcInput | NoteOnInput | NoteOffInput | PitchBendInput | TransportInput;
export type MappingInput = MidiInput | AudioFrameInput;

// ─── Adapters from the parser's and the extractor's events (structural: no import of their modules) ──────

/** The MIDI parser's events, as far as the mapping needs them. Extra fields are ignored. */
export interface ParsedMidiEventLike {
  type: string;
  time?: number;
  channel?: number;
  controller?: number;
  note?: number;
  /** The raw value (0..127, 0..16383); unused: `normalized` is read. */
  value?: number;
  /** 0..1 for CC and velocity; for pitch bend, see `pitchBendRange`. */
  normalized?: number;
  velocity?: number;
}

export interface MidiAdapterOptions {
  /** The parser's first channel number: 0 when it reports 0..15 (the wire), 1 when 1..16. */
  channelBase: 0 | 1;
  /** What the parser's pitch-bend `normalized` spans: '-1..1' (0 at rest) or '0..1' (0.5 at rest). */
  pitchBendRange: '-1..1' | '0..1';
  /** The parser's velocity: '0..1' normalised, or '0..127' raw (used when `normalized` is absent). */
  velocityRange: '0..1' | '0..127';
}

export const MIDI_ADAPTER_DEFAULTS: MidiAdapterOptions = { channelBase: 0, pitchBendRange: '-1..1', velocityRange: '0..127' };

/**
 * One parser event as a mapping input, or undefined for messages the mapping does not use (program change,
 * SysEx, …). `time` is used when the event carries none. Recognised types: controlChange, cc14, noteOn,
 * noteOff, pitchBend, clock, start, stop, continue.
 */
export function midiInputFrom(e: ParsedMidiEventLike, time: Seconds, options: Partial<MidiAdapterOptions> = {}): MidiInput | undefined {
  const o = { ...MIDI_ADAPTER_DEFAULTS, ...options };
  const t = e.time ?? time;
  const channel = (e.channel ?? o.channelBase) - o.channelBase;
  switch (e.type) {
    case 'controlChange':
    case 'cc14':
      if (e.controller === undefined || e.normalized === undefined) return undefined;
      return { type: 'cc', time: t, channel, controller: e.controller, value: e.normalized, bits: e.type === 'cc14' ? 14 : 7 };
    case 'noteOn': {
      if (e.note === undefined) return undefined;
      const velocity = e.normalized ?? (o.velocityRange === '0..1' ? (e.velocity ?? 1) : (e.velocity ?? 127) / 127);
      return velocity > 0 ? { type: 'noteOn', time: t, channel, note: e.note, velocity } : { type: 'noteOff', time: t, channel, note: e.note };
    }
    case 'noteOff':
      return e.note === undefined ? undefined : { type: 'noteOff', time: t, channel, note: e.note };
    case 'pitchBend': {
      if (e.normalized === undefined) return undefined;
      return { type: 'pitchBend', time: t, channel, value: o.pitchBendRange === '-1..1' ? e.normalized : e.normalized * 2 - 1 };
    }
    case 'clock':
    case 'start':
    case 'stop':
    case 'continue':
      return { type: e.type, time: t };
    default:
      return undefined;
  }
}

/** The audio extractor's frame, as far as the mapping needs it. */
export interface ExtractedFrameLike {
  time: number;
  /** Features normalised 0..1 by name (rms, loudness, centroid, flux, bass, mid, treble, maybe chroma). */
  normalized: Partial<Record<string, number | ArrayLike<number>>>;
  chroma?: ArrayLike<number>;
  onset?: boolean;
  beat?: boolean;
  beatPhase?: number;
  tempo?: number;
}

/** An extractor frame as a mapping input: normalised features, normalised chroma if it has one. */
export function audioInputFrom(frame: ExtractedFrameLike): AudioFrameInput {
  const features: Partial<Record<AudioFeature, number>> = {};
  for (const name of AUDIO_FEATURES) {
    const v = frame.normalized[name];
    if (typeof v === 'number') features[name] = v;
  }
  const normChroma = frame.normalized['chroma'];
  const chroma = typeof normChroma === 'object' ? normChroma : frame.chroma;
  const out: AudioFrameInput = { type: 'audio', time: frame.time, features };
  if (chroma !== undefined) out.chroma = chroma;
  if (frame.onset !== undefined) out.onset = frame.onset;
  if (frame.beat !== undefined) out.beat = frame.beat;
  if (frame.beatPhase !== undefined) out.beatPhase = frame.beatPhase;
  if (frame.tempo !== undefined) out.tempo = frame.tempo;
  return out;
}
