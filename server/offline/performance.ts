/**
 * A performance computed offline, one video frame at a time: the song's feature frames fed to the same
 * mapping engine as live, applied to the same LiveState (on a clock that reads each frame's time), with
 * timeline presets recalled on the way. Nothing here reads a wall clock, so a song, a mapping, a timeline
 * and a seed always give the same latents.
 */
import type { LatentSpec } from '../../core/checkpoint/manifest.ts';
import type { FeatureFrame } from '../../core/audio/index.ts';
import type { LatentStateJson } from '../../core/latent/index.ts';
import { audioInputFrom, directionsNeeded, MappingApplier, MappingEngine, type Mapping } from '../../core/mapping/index.ts';
import { logger } from '../../core/log.ts';
import { LiveState } from '../live-state.ts';
import type { Timeline } from './timeline.ts';

const log = logger('render');

export const presetKey = (bank: string | undefined, name: string) => `${bank ?? 'default'}/${name}`;

export interface PerformanceOptions {
  layout: LatentSpec;
  seed: number;
  fps: number;
  mapping: Mapping;
  /** The song's feature frames, in time order (empty: no audio drives the mapping). */
  features: readonly FeatureFrame[];
  timeline: Timeline | null;
  /** Preset states by `bank/name`: the timeline's and the mapping's recalls. */
  presets: ReadonlyMap<string, LatentStateJson>;
  /** The state at 0 s (`--preset`); the seed's random state when absent. */
  start?: LatentStateJson;
  /** Latent smoothing time constant (s), as the live server's. */
  smoothing?: number;
}

export class OfflinePerformance {
  private readonly live: LiveState;
  private readonly engine: MappingEngine;
  private readonly applier: MappingApplier;
  private clock = 0;
  private nextFeature = 0;
  private nextEvent = 0;
  /** The index of the frame `next()` makes. */
  frame = 0;

  constructor(private readonly o: PerformanceOptions) {
    this.live = new LiveState(o.layout, o.seed, () => this.clock);
    this.live.useDirections(directionsNeeded(o.mapping));
    if (o.smoothing !== undefined) this.live.setSmoothing(o.smoothing);
    if (o.start) this.live.setState(o.start);
    this.engine = new MappingEngine(o.mapping, { layout: o.layout, directions: this.live.directionCount });
    for (const w of this.engine.warnings) log.debug(`mapping '${o.mapping.name}': ${w}`);
    this.applier = new MappingApplier(this.live, {
      recall: (a) => this.recall(a.bank, a.name, a.crossfade),
    });
  }

  private recall(bank: string | undefined, name: string, seconds: number): void {
    const state = this.o.presets.get(presetKey(bank, name));
    if (!state) return void log.warn(`preset '${presetKey(bank, name)}' is not in the preset store; the recall at ${this.clock.toFixed(2)} s is skipped`);
    this.live.setState(state, seconds);
    this.applier.reset();
  }

  /** The latent of the current frame (a view, valid until the next call), then on to the next frame. */
  next(): Float32Array {
    const t = this.frame / this.o.fps;
    this.clock = t;
    const feats = this.o.features;
    while (this.nextFeature < feats.length && feats[this.nextFeature]!.time <= t) this.engine.push(audioInputFrom(feats[this.nextFeature++]!));
    const events = this.o.timeline?.events ?? [];
    while (this.nextEvent < events.length && events[this.nextEvent]!.at <= t) {
      const e = events[this.nextEvent++]!;
      this.recall(e.bank, e.preset, e.morph);
    }
    this.applier.apply(this.engine.evaluate(t));
    this.frame++;
    return this.live.latentAt(t, 1 / this.o.fps);
  }
}
