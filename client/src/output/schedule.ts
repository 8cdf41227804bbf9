/**
 * When to show which frame: a small jitter buffer of the last frames received and a playout clock, so a model
 * making 15 frames a second looks fluid on a 60 Hz display (each display frame blends the two frames that
 * bracket its time, by capture time) and network or decode jitter does not show as stutter.
 *
 * Capture times come from the server's clock. They are mapped to the page's clock by the smallest
 * (ready − capture) seen over a sliding window: that absorbs the clocks' offset plus the fastest transit, and
 * forgets a stale minimum if the clocks drift. A frame is shown `delay` after that mapped time; the delay is
 * one observed frame interval (a frame has a successor to blend towards before it is due) plus the jitter
 * of recent transits, bounded. When the delay or the clock mapping move, the playout position slews (a few
 * percent fast or slow) instead of jumping, and it never goes backwards.
 *
 * Pure logic (no DOM, no WebGL): unit-tested in Node. Times are milliseconds.
 */
import { RateMeter, SampleWindow } from './stats.ts';

export interface ScheduleOptions {
  /** Frames kept; the oldest is handed to `release` when another arrives. */
  capacity: number;
  /** Transit samples (ready − capture) kept for the clock mapping and the jitter estimate. */
  transitWindow: number;
  /** Capture intervals kept for the frame interval (median). */
  intervalWindow: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** Added to interval + jitter: timers and rAF phase. */
  marginMs: number;
  /** How fast the playout clock may run fast or slow while the latency adapts (0.05 = ±5 %). */
  maxSlew: number;
  /** A latency change larger than this is taken at once (start, a stalled network) instead of slewed. */
  snapMs: number;
  /** page clock + timeOrigin = the epoch, for capture→display delays (performance.timeOrigin in a page). */
  timeOrigin: number;
  /** Capture→display delays kept for percentiles. */
  delayWindow: number;
  /** The window of the received and displayed rates. */
  rateWindowMs: number;
}

export const DEFAULT_SCHEDULE: ScheduleOptions = {
  capacity: 4,
  transitWindow: 64,
  intervalWindow: 16,
  minDelayMs: 4,
  maxDelayMs: 400,
  marginMs: 4,
  maxSlew: 0.05,
  snapMs: 250,
  timeOrigin: 0,
  delayWindow: 256,
  rateWindowMs: 2000,
};

/** Frames after a start or reset during which the latency follows its goal at once. */
const WARM_UP_FRAMES = 8;

export interface Slot<T> {
  seq: number;
  /** Server clock, ms since the epoch. */
  captureTime: number;
  /** Page clock: when the message arrived, and when it was decoded and handed over. */
  receivedAt: number;
  readyAt: number;
  /** Page clock: when the playout first reached this frame (shown at full weight, or alone); NaN until then. */
  shownAt: number;
  item: T;
}

/** What to draw: `a` mixed towards `b` by `t` (t = 1: `b` alone). Reused between calls: read, don't keep. */
export interface Pick<T> {
  a: Slot<T>;
  b: Slot<T>;
  t: number;
  /** Whether the picture differs from the previous pick's. */
  changed: boolean;
}

export interface ScheduleStats {
  framesReceived: number;
  /** Received frames that reached the screen. */
  framesShown: number;
  /** Distinct pictures picked (a, b or t changed): what the display actually updates. */
  displayUpdates: number;
  receivedFps: number;
  displayFps: number;
  /** Capture (server clock) → first display (page clock, as the epoch): exact when both run on one machine. */
  delayP50Ms: number;
  delayP95Ms: number;
  /** The current playout delay beyond the fastest transit seen. */
  playoutDelayMs: number;
  frameIntervalMs: number;
  lastShownSeq: number;
  resets: number;
  buffered: number;
}

export class FrameSchedule<T> {
  private readonly o: ScheduleOptions;
  private readonly slots: Slot<T>[] = [];
  private readonly transits: SampleWindow;
  private readonly intervals: SampleWindow;
  private readonly delays: SampleWindow;
  private readonly received: RateMeter;
  private readonly updates: RateMeter;
  /** Page time − capture time of the fastest recent frame. */
  private offset = Number.NaN;
  private delay: number;
  private intervalMs: number;
  private hintIntervalMs: number;
  /** The latency in use (offset + delay, slewed towards its goal); NaN until the first frame. */
  private latency = Number.NaN;
  private lastPickAt = Number.NaN;
  /** The capture time last displayed: the playout position, never decreasing. */
  private position = -Infinity;
  private readonly result: Pick<T>;
  private hasResult = false;
  private lastA = -1;
  private lastB = -1;
  private lastT = -1;
  private framesReceived = 0;
  private framesShown = 0;
  private displayUpdates = 0;
  private lastShownSeq = -1;
  private resets = 0;

  constructor(
    private readonly release: (item: T) => void,
    options: Partial<ScheduleOptions> = {},
  ) {
    this.o = { ...DEFAULT_SCHEDULE, ...options };
    if (this.o.capacity < 2) throw new Error('a frame schedule needs room for 2 frames to blend');
    this.transits = new SampleWindow(this.o.transitWindow);
    this.intervals = new SampleWindow(this.o.intervalWindow);
    this.delays = new SampleWindow(this.o.delayWindow);
    this.received = new RateMeter(512, this.o.rateWindowMs);
    this.updates = new RateMeter(1024, this.o.rateWindowMs);
    this.hintIntervalMs = 1000 / 30;
    this.intervalMs = this.hintIntervalMs;
    this.delay = this.intervalMs + this.o.marginMs;
    // The pick is one object for the page's lifetime: no garbage at the display's rate.
    this.result = { a: undefined as unknown as Slot<T>, b: undefined as unknown as Slot<T>, t: 1, changed: false };
  }

  /** The server's frame rate as announced (welcome), until intervals have been observed. */
  expectFps(fps: number | 'max'): void {
    this.hintIntervalMs = typeof fps === 'number' && fps > 0 ? 1000 / fps : 1000 / 60;
    if (this.intervals.size === 0) this.intervalMs = this.hintIntervalMs;
  }

  get size(): number {
    return this.slots.length;
  }

  /**
   * A decoded frame, in arrival order. A sequence number going backwards means another server (a restart):
   * everything held is released and the clock mapping starts over.
   */
  push(seq: number, captureTime: number, receivedAt: number, readyAt: number, item: T): void {
    const newest = this.slots[this.slots.length - 1];
    if (newest && seq === newest.seq) {
      this.release(item);
      return;
    }
    // A server clock stepped back by more than a second (or another server) cannot be blended with the old frames.
    if (newest && (seq < newest.seq || captureTime < newest.captureTime - 1000)) this.reset();
    const last = this.slots[this.slots.length - 1];
    // Small steps back of the server's clock would make a negative blend span; keep capture times increasing.
    if (last && captureTime <= last.captureTime) captureTime = last.captureTime + 0.01;
    if (last) this.intervals.add(captureTime - last.captureTime);
    this.slots.push({ seq, captureTime, receivedAt, readyAt, shownAt: Number.NaN, item });
    while (this.slots.length > this.o.capacity) this.release(this.slots.shift()!.item);
    this.framesReceived++;
    this.received.mark(readyAt);
    this.transits.add(readyAt - captureTime);
    this.updateDelay();
  }

  private updateDelay(): void {
    this.offset = this.transits.min();
    this.intervalMs = this.intervals.size > 0 ? this.intervals.percentile(0.5) : this.hintIntervalMs;
    // Jitter: how much later than the fastest transit most frames come (p95 of the excess).
    const jitter = this.transits.size >= 4 ? this.transits.percentile(0.95) - this.offset : this.intervalMs / 2;
    // The frames held span (capacity − 1) intervals: a longer delay would need frames already released.
    const hi = Math.min(this.o.maxDelayMs, Math.max(this.o.minDelayMs, (this.o.capacity - 1) * this.intervalMs));
    this.delay = Math.min(hi, Math.max(this.o.minDelayMs, this.intervalMs + jitter + this.o.marginMs));
  }

  /**
   * What to draw at page time `now`. With `blend` off, or a single frame, the newest frame alone (t = 1).
   * Null before the first frame.
   */
  pick(now: number, blend: boolean): Pick<T> | null {
    const n = this.slots.length;
    if (n === 0) return null;
    const newest = this.slots[n - 1]!;
    const r = this.result;
    this.advance(now);
    if (!blend) {
      r.a = newest;
      r.b = newest;
      r.t = 1;
      // Blend turned back on resumes from here, not from older frames.
      this.position = Math.max(this.position, newest.captureTime);
    } else {
      const target = Math.max(now - this.latency, this.position);
      this.position = target;
      const oldest = this.slots[0]!;
      if (target >= newest.captureTime) {
        r.a = newest;
        r.b = newest;
        r.t = 1;
      } else if (target <= oldest.captureTime) {
        r.a = oldest;
        r.b = oldest;
        r.t = 1;
      } else {
        let i = 0;
        while (this.slots[i + 1]!.captureTime <= target) i++;
        const a = this.slots[i]!;
        const b = this.slots[i + 1]!;
        r.a = a;
        r.b = b;
        r.t = (target - a.captureTime) / (b.captureTime - a.captureTime);
      }
    }
    // A frame counts as shown when the playout reaches its capture time (it is `a`, or alone), not when it
    // starts fading in an interval earlier: that is the moment the picture is that frame.
    this.noteShown(r.a, now);
    r.changed = !this.hasResult || r.a.seq !== this.lastA || r.b.seq !== this.lastB || r.t !== this.lastT;
    this.hasResult = true;
    this.lastA = r.a.seq;
    this.lastB = r.b.seq;
    this.lastT = r.t;
    if (r.changed) {
      this.displayUpdates++;
      this.updates.mark(now);
    }
    return r;
  }

  /** Moves the latency in use towards offset + delay, by at most maxSlew per ms elapsed (or at once, far off). */
  private advance(now: number): void {
    const goal = this.offset + this.delay;
    const dt = Number.isNaN(this.lastPickAt) ? 0 : Math.max(0, now - this.lastPickAt);
    this.lastPickAt = now;
    // While the first frames come in the estimates move fast; following them at once costs only a skip at
    // start, where slewing would keep a cautious first guess for seconds.
    const warmingUp = this.transits.size < WARM_UP_FRAMES;
    if (Number.isNaN(this.latency) || warmingUp || Math.abs(goal - this.latency) > this.o.snapMs) {
      this.latency = goal;
      return;
    }
    const step = this.o.maxSlew * dt;
    this.latency += Math.max(-step, Math.min(step, goal - this.latency));
  }

  private noteShown(s: Slot<T>, now: number): void {
    if (!Number.isNaN(s.shownAt)) return;
    s.shownAt = now;
    this.framesShown++;
    this.lastShownSeq = Math.max(this.lastShownSeq, s.seq);
    this.delays.add(now + this.o.timeOrigin - s.captureTime);
  }

  /** Forgets the frames (released) and the clock mapping: another server, or the same one restarted. */
  reset(): void {
    for (const s of this.slots) this.release(s.item);
    this.slots.length = 0;
    this.transits.clear();
    this.intervals.clear();
    this.offset = Number.NaN;
    this.latency = Number.NaN;
    this.lastPickAt = Number.NaN;
    this.position = -Infinity;
    this.intervalMs = this.hintIntervalMs;
    this.hasResult = false;
    this.lastShownSeq = -1;
    this.resets++;
  }

  stats(now: number): ScheduleStats {
    return {
      framesReceived: this.framesReceived,
      framesShown: this.framesShown,
      displayUpdates: this.displayUpdates,
      receivedFps: this.received.rate(now),
      displayFps: this.updates.rate(now),
      delayP50Ms: this.delays.percentile(0.5),
      delayP95Ms: this.delays.percentile(0.95),
      playoutDelayMs: this.delay,
      frameIntervalMs: this.intervalMs,
      lastShownSeq: this.lastShownSeq,
      resets: this.resets,
      buffered: this.slots.length,
    };
  }
}
