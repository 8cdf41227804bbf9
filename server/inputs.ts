/**
 * The live inputs of the server: MIDI (hardware ports and Web MIDI forwarded by browsers), one audio source
 * (capture, a file played along, or a browser's microphone), the mapping engine they feed, and MIDI learn.
 * Each tick the mapping is evaluated at the loop's time and applied to the live state, so the mapping itself
 * stays pure: the same timeline of inputs gives the same latents, live or offline.
 */
import { messageOf, RhodopsError } from '../core/errors.ts';
import type { LatentSpec } from '../core/checkpoint/manifest.ts';
import { logger } from '../core/log.ts';
import {
  BrowserPcmSource,
  CaptureAudioSource,
  FeatureExtractor,
  FileAudioSource,
  parseCaptureSpec,
  type AudioSource,
  type AudioSourceStatus,
  type FeatureFrame,
  type PcmFormat,
} from '../core/audio/index.ts';
import {
  arm,
  audioInputFrom,
  DEFAULT_MAPPING,
  cancel,
  directionsNeeded,
  learnIdle,
  learnInput,
  MappingApplier,
  MappingEngine,
  midiInputFrom,
  parseMapping,
  type LearnState,
  type Mapping,
  type MappingEffects,
  type MappingInput,
  type TargetInput,
} from '../core/mapping/index.ts';
import { MidiManager, type MidiManagerOptions, type MidiStatus, type TaggedMidiEvent } from './midi/index.ts';
import type { LiveState } from './live-state.ts';

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
  mapping: Mapping;
  /** The loop's clock, in seconds. */
  now: () => number;
}

export interface InputEffects extends MappingEffects {
  /** A MIDI program change: recall the preset at that position of the current bank. */
  program?(program: number): void;
  /** MIDI learn made (or replaced) a route. */
  learned?(mapping: Mapping, route: number): void;
  /** The mapping was replaced (by a page, the REST API, learn or a preset recall). */
  mappingChanged?(mapping: Mapping): void;
}

export interface InputsStatus {
  midi: MidiStatus;
  audio: (AudioSourceStatus & { spec: AudioSpec['kind']; positionS?: number; durationS?: number | null }) | null;
  /** The newest audio features, for meters. */
  features: MeterFeatures | null;
  mapping: { name: string; routes: number; warnings: readonly string[] };
  learning: TargetInput | null;
}

/** What a page's meters show: normalised 0..1 levels, whether an onset was heard since the last reading, tempo. */
export interface MeterFeatures {
  rms: number;
  bass: number;
  mid: number;
  treble: number;
  onset: boolean;
  tempo: number;
  beatPhase: number;
  time: number;
}

export class LiveInputs {
  readonly midi: MidiManager;
  /** One extractor for every source, so a change of source keeps the automatic gain and the tempo. */
  private readonly extractor = new FeatureExtractor();
  private audio: AudioSource | null = null;
  private audioSpec: AudioSpec = { kind: 'none' };
  private mappingNow: Mapping;
  private readonly engine: MappingEngine;
  private readonly applier: MappingApplier;
  private learn: LearnState = learnIdle();
  private armed: TargetInput | null = null;
  private latest: FeatureFrame | null = null;
  private readonly now: () => number;
  /** Hears every input the mapping is fed (a session log, while one records). */
  journal: ((input: MappingInput) => void) | null = null;

  constructor(
    private readonly live: LiveState,
    layout: LatentSpec,
    o: InputsOptions,
    private readonly effects: InputEffects,
  ) {
    this.now = o.now;
    this.mappingNow = o.mapping;
    this.live.useDirections(directionsNeeded(o.mapping));
    this.engine = new MappingEngine(o.mapping, { layout, directions: this.live.directionCount });
    this.reportWarnings();
    this.applier = new MappingApplier(live, effects);
    // With `none` the manager still takes Web MIDI (feed) but never opens a system port.
    this.midi = new MidiManager({ ...o.midiOptions, select: o.midi ?? 'none', now: o.now });
    this.midi.on('event', (e) => this.onMidi(e));
  }

  start(): void {
    this.midi.start();
  }

  get mapping(): Mapping {
    return this.mappingNow;
  }

  /** Before each frame: the mapping's values at `now`, applied to the live state. True when a control moved. */
  tick(now: number): boolean {
    return this.applier.apply(this.engine.evaluate(now)) > 0;
  }

  modelChanged(layout: LatentSpec): void {
    this.engine.configure({ layout, directions: this.live.directionCount });
    this.applier.reset();
  }

  /** A preset recall replaced the state: the next tick re-sends every mapped value on top of it. */
  stateReplaced(): void {
    this.applier.reset();
  }

  setMapping(raw: unknown): Mapping {
    const mapping = parseMapping(raw);
    this.live.useDirections(directionsNeeded(mapping));
    this.engine.configure({ directions: this.live.directionCount });
    this.engine.setMapping(mapping);
    this.mappingNow = mapping;
    this.reportWarnings();
    this.effects.mappingChanged?.(mapping);
    return mapping;
  }

  /** Routes this model cannot play: the user's own mapping says each; the built-in one (made for every model) only in debug. */
  private reportWarnings(): void {
    const builtIn = this.mappingNow === DEFAULT_MAPPING;
    for (const w of this.engine.warnings) (builtIn ? log.debug : log.warn)(`mapping '${this.mappingNow.name}': ${w}`);
  }

  private onMidi(e: TaggedMidiEvent): void {
    if (e.type === 'programChange') {
      this.effects.program?.(e.program);
      return;
    }
    const input = midiInputFrom(e, e.time);
    if (!input) return;
    if (this.armed) {
      const r = learnInput(this.learn, this.mappingNow, input);
      this.learn = r.state;
      if (r.learned) {
        this.armed = null;
        this.setMapping(r.mapping);
        log.info(`learned: ${e.port} → route ${r.learned.index}${r.learned.replaced ? ' (replacing the old one)' : ''}`);
        this.effects.learned?.(this.mappingNow, r.learned.index);
      }
    }
    this.engine.push(input);
    this.journal?.(input);
  }

  /** Bytes a browser forwarded from its Web MIDI devices. */
  feedMidi(client: string, bytes: readonly number[]): void {
    this.midi.feed(`web:${client}`, bytes);
  }

  clientLeft(client: string): void {
    this.midi.forget(`web:${client}`);
  }

  armLearn(target: TargetInput): void {
    this.learn = arm(this.learn, target);
    this.armed = target;
  }

  cancelLearn(): void {
    this.learn = cancel(this.learn);
    this.armed = null;
  }

  /**
   * Replaces the audio source; the old one stops first. A source that cannot start leaves none, and says why.
   * Changes run one at a time, in order, and a change asked for while others wait makes those moot: however
   * many overlap, one source at most runs (each is a process holding a device), and it is the last one asked for.
   */
  setAudio(spec: AudioSpec): Promise<void> {
    const generation = ++this.audioGeneration;
    const run = async () => {
      if (this.closed || generation !== this.audioGeneration) return;
      await this.replaceAudio(spec);
    };
    const done = this.audioChanges.then(run, run);
    this.audioChanges = done.catch(() => undefined);
    return done;
  }

  private audioChanges: Promise<void> = Promise.resolve();
  private audioGeneration = 0;
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
      const input = audioInputFrom({ ...f, time: now - (newest - f.time) });
      this.engine.push(input);
      this.journal?.(input);
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
  playingFile(): { path: string; positionS: number } | null {
    return this.audio instanceof FileAudioSource && this.audio.status().running ? { path: this.audio.path, positionS: this.audio.position() } : null;
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
      mapping: { name: this.mappingNow.name, routes: this.mappingNow.routes.length, warnings: this.engine.warnings },
      learning: this.armed,
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
    await this.audioChanges;
    await this.audio?.stop().catch((e: unknown) => log.warn(`audio: while stopping: ${messageOf(e)}`));
    this.audio = null;
  }
}
