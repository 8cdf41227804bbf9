/**
 * The live server's input devices: MIDI (hardware ports and Web MIDI forwarded by browsers) and one audio source
 * (capture, a file played along, or a browser's microphone), with the meters pages show. Every MIDI message and
 * audio-feature frame is stamped on the server's clock and pushed into the instrument, which maps them.
 */
import { messageOf, RhodopsError } from '../core/errors.ts';
import { logger } from '../core/log.ts';
import {
  BrowserPcmSource,
  CaptureAudioSource,
  FeatureExtractor,
  FileAudioSource,
  parseCaptureSpec,
  type AudioSource,
  type FeatureFrame,
  type PcmFormat,
} from '../core/audio/index.ts';
import { audioInputFrom, midiInputFrom } from '../core/mapping/index.ts';
import { MidiManager, type MidiManagerOptions, type TaggedMidiEvent } from './midi/index.ts';
import type { Instrument } from '../instrument/instrument.ts';
import { LatestOnly } from '../core/serial.ts';
import type { InputsStatus, MeterFeatures } from '../protocol/status.ts';

const log = logger('inputs');

/** What `--audio` and the `audioSource` message name. */
export type AudioSpec = { kind: 'none' } | { kind: 'file'; path: string; loop: boolean } | { kind: 'capture'; spec: string } | { kind: 'browser' };

/** `--audio` on the command line: a file to play along, `capture[:DEVICE]`, `browser`, or `none`. */
export function parseAudioSpec(s: string): AudioSpec {
  if (s === 'none' || s === '') return { kind: 'none' };
  if (s === 'browser') return { kind: 'browser' };
  if (s === 'capture') return { kind: 'capture', spec: '' };
  if (s.startsWith('capture:')) return { kind: 'capture', spec: s.slice('capture:'.length) };
  return { kind: 'file', path: s, loop: true };
}

export interface InputsOptions {
  /** MIDI ports to connect (`NAME`, `INDEX` or `all`), or null for none (Web MIDI still works). */
  midi: string | null;
  midiOptions?: Partial<Omit<MidiManagerOptions, 'select' | 'now'>>;
  /** The instrument's clock, in seconds. */
  now: () => number;
  /** A MIDI program change: recall the preset at that position of the current bank. */
  program?(program: number): void;
}

export class LiveInputs {
  readonly midi: MidiManager;
  /** One extractor for every source, so a change of source keeps the automatic gain and the tempo. */
  private readonly extractor = new FeatureExtractor();
  private audio: AudioSource | null = null;
  private audioSpec: AudioSpec = { kind: 'none' };
  private latest: FeatureFrame | null = null;
  private readonly now: () => number;

  constructor(
    private readonly instrument: Instrument,
    private readonly o: InputsOptions,
  ) {
    this.now = o.now;
    // With `none` the manager still takes Web MIDI (feed) but never opens a system port.
    this.midi = new MidiManager({ ...o.midiOptions, select: o.midi ?? 'none', now: o.now });
    this.midi.on('event', (e) => this.onMidi(e));
  }

  start(): void {
    this.midi.start();
  }

  private onMidi(e: TaggedMidiEvent): void {
    if (e.type === 'programChange') {
      this.o.program?.(e.program);
      return;
    }
    const input = midiInputFrom(e, e.time);
    if (input) this.instrument.push(input);
  }

  /** Bytes a browser forwarded from its Web MIDI devices. */
  feedMidi(client: string, bytes: readonly number[]): void {
    this.midi.feed(`web:${client}`, bytes);
  }

  clientLeft(client: string): void {
    this.midi.forget(`web:${client}`);
  }

  /**
   * Replaces the audio source; the old one stops first. A source that cannot start leaves none, and says why.
   * Changes run one at a time, in order, and a change asked for while others wait makes those moot: however
   * many overlap, one source at most runs (each is a process holding a device), and it is the last one asked for.
   */
  setAudio(spec: AudioSpec): Promise<void> {
    return this.audioChanges.run(async () => {
      if (!this.closed) await this.replaceAudio(spec);
    });
  }

  private readonly audioChanges = new LatestOnly();
  private closed = false;

  private async replaceAudio(spec: AudioSpec): Promise<void> {
    const old = this.audio;
    this.audio = null;
    this.audioSpec = { kind: 'none' };
    await old?.stop();
    if (spec.kind === 'none') return;
    const source = this.makeSource(spec);
    source.on('features', (f) => this.onFeatures(f));
    source.on('error', (e) => log.warn(`audio: ${e.message}; the show goes on without it`));
    await source.start();
    if (this.closed) {
      await source.stop();
      return;
    }
    this.audio = source;
    this.audioSpec = spec;
    log.info(`audio: ${source.name}`);
  }

  private makeSource(spec: Exclude<AudioSpec, { kind: 'none' }>): AudioSource {
    const extractor = this.extractor;
    switch (spec.kind) {
      case 'file':
        return new FileAudioSource({ path: spec.path, loop: spec.loop, clock: this.now, extractor });
      case 'capture':
        return new CaptureAudioSource({ ...(spec.spec ? parseCaptureSpec(spec.spec) : {}), extractor });
      case 'browser':
        return new BrowserPcmSource({ extractor });
    }
  }

  /**
   * Frames arrive in bursts (one per hop in each chunk of samples): each is put at the time it was heard,
   * counting back from now by its distance to the newest, so onsets keep their spacing.
   */
  private pending: FeatureFrame[] = [];
  private onFeatures(f: FeatureFrame): void {
    this.pending.push(f);
    if (this.pending.length === 1) queueMicrotask(() => this.flushFeatures());
  }

  private flushFeatures(): void {
    const frames = this.pending;
    this.pending = [];
    const now = this.now();
    const newest = frames[frames.length - 1]!.time;
    for (const f of frames) {
      this.instrument.push(audioInputFrom({ ...f, time: now - (newest - f.time) }));
      if (f.onset) this.onsetSinceMeters = true;
    }
    this.latest = frames[frames.length - 1]!;
  }

  /** PCM from a browser's microphone; the `browser` source must be selected. */
  pushPcm(data: Uint8Array, format: PcmFormat, sampleRate: number): void {
    if (!(this.audio instanceof BrowserPcmSource)) {
      throw new RhodopsError('AUDIO_PCM_INVALID', 'browser audio arrived, but the audio source is not the browser', {
        hint: "select it first: {type: 'audioSource', source: {kind: 'browser'}}",
      });
    }
    this.audio.pushPcm(data, format, sampleRate);
  }

  /** The file being played along and where it is: what a recording started now should mux in. */
  playingFile(): { path: string; positionS: number; loop: boolean } | null {
    return this.audio instanceof FileAudioSource && this.audio.status().running ? { path: this.audio.path, positionS: this.audio.position(), loop: this.audio.loops } : null;
  }

  status(): InputsStatus {
    const a = this.audio;
    const f = this.latest;
    return {
      midi: this.midi.status(),
      audio: a
        ? { ...a.status(), spec: this.audioSpec.kind, ...(a instanceof FileAudioSource ? { positionS: a.position(), durationS: a.durationS } : {}) }
        : null,
      features: f ? this.meterFeatures(f) : null,
      mapping: { name: this.instrument.mapping.name, routes: this.instrument.mapping.routes.length, warnings: this.instrument.warnings },
      learning: this.instrument.learning,
    };
  }

  private onsetSinceMeters = false;
  private meterFeatures(f: FeatureFrame): MeterFeatures {
    const onset = f.onset || this.onsetSinceMeters;
    this.onsetSinceMeters = false;
    return { rms: f.normalized.rms, bass: f.normalized.bass, mid: f.normalized.mid, treble: f.normalized.treble, onset, tempo: f.tempo, beatPhase: f.beatPhase, time: f.time };
  }

  /** Features newer than `since` (a feature time), for meters pushed to pages; null when nothing new. */
  metersSince(since: number): MeterFeatures | null {
    const f = this.latest;
    return f && f.time !== since ? this.meterFeatures(f) : null;
  }

  get audioPlaying(): boolean {
    return this.audio !== null;
  }

  /** Stops MIDI and the audio source, after any change under way (which then starts nothing). */
  async close(): Promise<void> {
    this.closed = true;
    this.midi.close();
    await this.audioChanges.settled();
    await this.audio?.stop().catch((e: unknown) => log.warn(`audio: while stopping: ${messageOf(e)}`));
    this.audio = null;
  }
}
