/**
 * From feature frames (one per hop, ~86 a second) to the slower ticks that consume them (a render tick
 * live, a video frame offline). One function decides how the hops inside a tick combine, so live and
 * offline agree: the newest frame's values, except that onset and beat are true if any hop had them
 * and flux (raw and normalised) is the largest, so a one-hop spike is never lost between two ticks.
 */
import type { FeatureFrame } from './features.ts';
import type { Seconds } from './options.ts';

/** The frames of one tick combined into one (see above); null when there are none. */
export function mergeFrames(frames: readonly FeatureFrame[]): FeatureFrame | null {
  const last = frames[frames.length - 1];
  if (!last || frames.length === 1) return last ?? null;
  let onset = false;
  let beat = false;
  let flux = 0;
  let nFlux = 0;
  for (const f of frames) {
    onset ||= f.onset;
    beat ||= f.beat;
    if (f.flux > flux) flux = f.flux;
    if (f.normalized.flux > nFlux) nFlux = f.normalized.flux;
  }
  return { ...last, onset, beat, flux, normalized: { ...last.normalized, flux: nFlux } };
}

/** A whole song's frames, looked up by time: what the offline renderer asks for each video frame. */
export class FeatureTimeline {
  constructor(readonly frames: readonly FeatureFrame[]) {
    for (let i = 1; i < frames.length; i++) {
      if (!(frames[i]!.time > frames[i - 1]!.time)) throw new RangeError(`FeatureTimeline: frame ${i} is not later than frame ${i - 1}`);
    }
  }

  /** Index of the last frame with time ≤ t, or −1. */
  private indexAt(t: Seconds): number {
    let lo = 0;
    let hi = this.frames.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.frames[mid]!.time <= t) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** The newest frame at or before t (null before the first). */
  at(t: Seconds): FeatureFrame | null {
    const i = this.indexAt(t);
    return i < 0 ? null : this.frames[i]!;
  }

  /**
   * The frames with from < time ≤ to, merged (see mergeFrames); when no hop falls inside (ticks faster
   * than hops), the frame at `to`, with onset and beat false since those already went to an earlier tick.
   */
  between(from: Seconds, to: Seconds): FeatureFrame | null {
    const end = this.indexAt(to);
    if (end < 0) return null;
    const start = this.indexAt(from) + 1;
    if (start > end) {
      const f = this.frames[end]!;
      return { ...f, onset: false, beat: false };
    }
    return mergeFrames(this.frames.slice(start, end + 1));
  }
}
