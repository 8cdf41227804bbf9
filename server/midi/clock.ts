/**
 * Tempo and transport from MIDI clock: 24 pulses (0xF8) per quarter note, plus start, continue, stop and
 * song position. Pure: times come from the events, so the same code follows a live port or a recorded timeline.
 *
 * The tempo is the slope of a least-squares line through the times of the last `windowPulses` pulses (a beat and a
 * half by default), not the last interval: each pulse's jitter (USB polling, a busy event loop) then averages out instead
 * of moving the tempo, and a steady tempo change is followed within the window. A gap of more than
 * `gapFactor` × the current interval (a paused sender, a dropped pulse) or time running backwards restarts the
 * window, keeping the last estimate until the new window holds `minPulses`. Start and stop forget the estimate,
 * since the sender may change tempo while stopped; senders that keep sending clock while stopped are followed.
 */
import { RhodopsError } from '../../core/errors.ts';
import type { Seconds } from '../../core/latent/units.ts';
import type { MidiEvent } from './events.ts';
import type { ClockState } from '../../protocol/status.ts';

export const PULSES_PER_QUARTER = 24;

export interface MidiClockOptions {
  /**
   * Intervals between pulses the tempo is fitted over, 6 to 192. Default 36 (a beat and a half): with ±2 ms of
   * jitter per pulse at 120 BPM the estimate stays within ±0.4 BPM, and a tempo change is followed within it.
   */
  windowPulses: number;
  /** Pulses needed before a first estimate, 3 to windowPulses. Default 12 (half a beat). */
  minPulses: number;
  /** An interval longer than this many current intervals restarts the fit. Default 2.5. */
  gapFactor: number;
  /** Seconds without a pulse after which `state(now)` reports no tempo. Default 1 (a pulse every 1 s is 2.5 BPM). */
  timeout: Seconds;
}

export const DEFAULT_CLOCK_OPTIONS: Readonly<MidiClockOptions> = { windowPulses: 36, minPulses: 12, gapFactor: 2.5, timeout: 1 };

/** Tempo limits: intervals outside these restart the fit whatever the current estimate. */
const MIN_BPM = 20;
const MAX_BPM = 999;

function bad(message: string): RhodopsError {
  return new RhodopsError('BAD_OPTION', message, { hint: 'Leave clock options out for the defaults.' });
}

export class MidiClock {
  private readonly o: MidiClockOptions;
  /** Ring of the last pulse times in the current fit. */
  private readonly times: Float64Array;
  private head = 0;
  private size = 0;
  private bpmEstimate: number | null = null;
  private running = false;
  /** Pulses counted since start; the next pulse will be number `pulses` (0 is the downbeat). */
  private pulses = 0;
  private lastPulse: Seconds | null = null;

  constructor(options: Partial<MidiClockOptions> = {}) {
    const o = { ...DEFAULT_CLOCK_OPTIONS, ...options };
    if (!Number.isInteger(o.windowPulses) || o.windowPulses < 6 || o.windowPulses > 192) throw bad(`midi clock: windowPulses must be an integer from 6 to 192, got ${o.windowPulses}.`);
    if (!Number.isInteger(o.minPulses) || o.minPulses < 3 || o.minPulses > o.windowPulses) throw bad(`midi clock: minPulses must be an integer from 3 to windowPulses (${o.windowPulses}), got ${o.minPulses}.`);
    if (!(o.gapFactor >= 1.5 && o.gapFactor <= 100)) throw bad(`midi clock: gapFactor must be from 1.5 to 100, got ${o.gapFactor}.`);
    if (!(o.timeout > 0 && o.timeout <= 60)) throw bad(`midi clock: timeout must be from 0 to 60 seconds, got ${o.timeout}.`);
    this.o = o;
    this.times = new Float64Array(o.windowPulses + 1);
  }

  /** Follows one parsed event; other event types are ignored. Returns true on the pulse that starts a beat while running. */
  handle(e: MidiEvent): boolean {
    switch (e.type) {
      case 'clock':
        return this.pulse(e.time);
      case 'start':
        this.running = true;
        this.pulses = 0;
        this.forget();
        return false;
      case 'continue':
        this.running = true;
        this.forget();
        return false;
      case 'stop':
      case 'reset':
        this.running = false;
        this.forget();
        return false;
      case 'songPosition':
        // A sixteenth is 6 pulses; senders only move the song position while stopped.
        if (!this.running) this.pulses = e.sixteenths * 6;
        return false;
      default:
        return false;
    }
  }

  state(now?: Seconds): ClockState {
    const quiet = now !== undefined && this.lastPulse !== null && now - this.lastPulse > this.o.timeout;
    return {
      running: this.running,
      bpm: quiet ? null : this.bpmEstimate,
      position: Math.max(0, this.pulses - 1) / PULSES_PER_QUARTER,
      lastPulse: this.lastPulse,
    };
  }

  private forget(): void {
    this.size = 0;
    this.bpmEstimate = null;
  }

  private pulse(t: Seconds): boolean {
    const last = this.lastPulse;
    this.lastPulse = t;
    if (last !== null && this.size > 0) {
      const dt = t - last;
      const current = this.bpmEstimate === null ? null : 60 / (this.bpmEstimate * PULSES_PER_QUARTER);
      const tooLong = dt > 60 / (MIN_BPM * PULSES_PER_QUARTER) || (current !== null && dt > this.o.gapFactor * current);
      if (dt < 0 || tooLong) this.size = 0;
    }
    this.times[this.head] = t;
    this.head = (this.head + 1) % this.times.length;
    this.size = Math.min(this.size + 1, this.times.length);
    if (this.size >= this.o.minPulses) {
      const interval = this.fitInterval();
      const bpm = 60 / (interval * PULSES_PER_QUARTER);
      if (interval > 0 && bpm <= MAX_BPM) this.bpmEstimate = bpm;
    }
    let downbeat = false;
    if (this.running) {
      downbeat = this.pulses % PULSES_PER_QUARTER === 0;
      this.pulses++;
    }
    return downbeat;
  }

  /** Least-squares slope of time against pulse number over the ring: seconds per pulse. */
  private fitInterval(): Seconds {
    const n = this.size;
    const len = this.times.length;
    const first = (this.head - n + len) % len;
    const t0 = this.times[first] as number; // times relative to the first keep the sums small and exact enough
    const meanX = (n - 1) / 2;
    let meanT = 0;
    for (let i = 0; i < n; i++) meanT += (this.times[(first + i) % len] as number) - t0;
    meanT /= n;
    let sxt = 0;
    let sxx = 0;
    for (let i = 0; i < n; i++) {
      const dx = i - meanX;
      sxt += dx * ((this.times[(first + i) % len] as number) - t0 - meanT);
      sxx += dx * dx;
    }
    return sxt / sxx;
  }
}
