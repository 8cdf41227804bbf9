/**
 * A performance computed offline, one video frame at a time: the song's feature frames pushed into the same
 * instrument as live (on a clock that reads each frame's time), with timeline presets recalled on the way.
 * Nothing here reads a wall clock, so a song, a mapping, a timeline and a seed always give the same latents.
 */
import type { LatentSpec } from '../core/checkpoint/manifest.ts';
import type { FeatureFrame } from '../core/audio/index.ts';
import type { LatentStateJson } from '../core/latent/index.ts';
import { audioInputFrom, type Mapping } from '../core/mapping/index.ts';
import { logger } from '../core/log.ts';
import type { Camera } from '../core/camera.ts';
import { Instrument, presetKey, type PresetStates } from '../instrument/instrument.ts';
import type { LiveGains } from '../instrument/live-state.ts';
import type { Timeline } from './timeline.ts';

const log = logger('render');

export interface PerformanceOptions {
  layout: LatentSpec;
  seed: number;
  fps: number;
  mapping: Mapping;
  /** The song's feature frames, in time order (empty: no audio drives the mapping). */
  features: readonly FeatureFrame[];
  timeline: Timeline | null;
  /** Preset states by `bank/name`: the timeline's and the mapping's recalls. */
  presets: PresetStates;
  /** The state at 0 s (`--preset`); the seed's random state when absent. */
  start?: LatentStateJson;
  /** Latent smoothing time constant (s), as the live server's. */
  smoothing?: number;
}

/** The instrument played by a song and a timeline, on a clock that reads each video frame's time. */
export class OfflinePerformance {
  private readonly instrument: Instrument;
  private clock = 0;
  private nextFeature = 0;
  private nextEvent = 0;
  /** The index of the frame `next()` makes. */
  frame = 0;

  constructor(private readonly o: PerformanceOptions) {
    this.instrument = new Instrument({ layout: o.layout, seed: o.seed, mapping: o.mapping, now: () => this.clock, presets: o.presets });
    if (o.smoothing !== undefined) this.instrument.apply({ op: 'setSmoothing', args: [o.smoothing] });
    // A render starts on its preset: no glide from the seed's state into it.
    if (o.start) {
      this.instrument.apply({ op: 'setState', args: [o.start, 0] });
      this.instrument.cut();
    }
  }

  /** The latent directions the mapping pushes along (calibration measures them). */
  get directions(): readonly Float32Array[] {
    return this.instrument.directions;
  }

  /** The model's own directions (principal.ts) in place of the seeded random ones, before the first frame. */
  setDirections(dirs: Float32Array[]): void {
    this.instrument.setDirections(dirs);
  }

  /** The camera moves of the frame `next()` returned last. */
  get camera(): Camera {
    return this.instrument.camera;
  }

  /** The model's gains (calibration.ts), before the first frame. */
  setGains(gains: LiveGains): void {
    this.instrument.apply({ op: 'setGains', args: [gains] });
  }

  /** A timeline's recall (checked before rendering, so a missing preset here is a bug, said once). */
  private recall(bank: string | undefined, name: string, seconds: number): void {
    const state = this.o.presets.get(presetKey(bank, name));
    if (!state) return void log.warn(`preset '${presetKey(bank, name)}' is not in the preset store; the recall at ${this.clock.toFixed(2)} s is skipped`);
    this.instrument.apply({ op: 'setState', args: [state, seconds] });
    // A cut (no morph) changes the picture at its frame, not over the springs' smoothing.
    if (seconds === 0) this.instrument.cut();
  }

  /** The latent of the current frame (a view, valid until the next call), then on to the next frame. */
  next(): Float32Array {
    const t = this.frame / this.o.fps;
    this.clock = t;
    const feats = this.o.features;
    while (this.nextFeature < feats.length && feats[this.nextFeature]!.time <= t) this.instrument.push(audioInputFrom(feats[this.nextFeature++]!));
    const events = this.o.timeline?.events ?? [];
    while (this.nextEvent < events.length && events[this.nextEvent]!.at <= t) {
      const e = events[this.nextEvent++]!;
      this.recall(e.bank, e.preset, e.morph);
    }
    this.frame++;
    return this.instrument.frameAt(t, 1 / this.o.fps);
  }
}
