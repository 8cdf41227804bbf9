/**
 * The musical clock the mapping keeps: a beat position and a tempo, advanced by the event times it is given
 * (it never reads a clock). Beats come from MIDI clock (24 ticks a beat) while a clock is running, else from
 * the audio's beat tracker, else the position just runs at the mapping's tempo. Beat-synced LFOs read the
 * position; beat sources fire on the pulses.
 */
import type { Seconds } from '../latent/units.ts';
import type { AudioFrameInput, TransportInput } from './inputs.ts';
import type { Source } from './schema.ts';

/** MIDI clock counts as running while ticks are closer than this (a clock at 20 BPM ticks every 0.125 s). */
const MIDI_CLOCK_TIMEOUT: Seconds = 0.5;
/** Audio tempo counts while frames come at least this often. */
const AUDIO_TIMEOUT: Seconds = 1;
const TICKS_PER_BEAT = 24;

export type BeatStream = 'midi' | 'audio';
/** A beat pulse: which stream and its count on that stream (for `every`). */
export interface BeatPulse {
  stream: BeatStream;
  count: number;
}

export class BeatClock {
  /** Position in beats since the clock started. */
  beats = 0;
  time: Seconds = Number.NaN;
  /** The tempo when neither a MIDI clock nor the audio gives one (the mapping's). */
  fallbackBpm: number;
  #midiBpm: number | undefined;
  /** unknown until a start/stop is seen: beats are counted from the first tick. */
  #transport: 'unknown' | 'running' | 'stopped' = 'unknown';
  #ticks = 0;
  #tickTimes: Seconds[] = [];
  #lastTick: Seconds = Number.NEGATIVE_INFINITY;
  #midiBeats = 0;
  #audioBpm: number | undefined;
  #lastAudio: Seconds = Number.NEGATIVE_INFINITY;
  #lastPhase: number | undefined;
  #audioBeats = 0;

  constructor(fallbackBpm: number) {
    this.fallbackBpm = fallbackBpm;
  }

  /** A MIDI clock is ticking (its tempo counts, even with the transport stopped). */
  midiActive(t: Seconds): boolean {
    return t - this.#lastTick <= MIDI_CLOCK_TIMEOUT;
  }

  /** A MIDI clock is ticking and its transport is not stopped: it gives the beats. */
  midiRunning(t: Seconds): boolean {
    return this.midiActive(t) && this.#transport !== 'stopped';
  }

  /** The tempo in use at t: MIDI clock's, else the audio's, else the mapping's. */
  bpm(t: Seconds): number {
    if (this.midiActive(t) && this.#midiBpm !== undefined) return this.#midiBpm;
    if (t - this.#lastAudio <= AUDIO_TIMEOUT && this.#audioBpm !== undefined) return this.#audioBpm;
    return this.fallbackBpm;
  }

  /** Runs the position on to t at the current tempo. */
  advance(t: Seconds): void {
    if (Number.isNaN(this.time)) this.time = t;
    if (t <= this.time) return;
    this.beats += ((t - this.time) * this.bpm(this.time)) / 60;
    this.time = t;
  }

  /** A MIDI real-time message; returns a pulse when a tick lands on a beat. */
  transport(e: TransportInput): BeatPulse | undefined {
    this.advance(e.time);
    if (e.type === 'start') {
      this.#transport = 'running';
      this.#ticks = 0;
      this.#midiBeats = 0;
      return undefined;
    }
    if (e.type === 'continue') {
      this.#transport = 'running';
      return undefined;
    }
    if (e.type === 'stop') {
      this.#transport = 'stopped';
      return undefined;
    }
    // A tick: tempo from the ticks of the last beat (a gap longer than the timeout starts the window afresh).
    if (e.time - this.#lastTick > MIDI_CLOCK_TIMEOUT) this.#tickTimes = [];
    this.#tickTimes.push(e.time);
    if (this.#tickTimes.length > TICKS_PER_BEAT + 1) this.#tickTimes.shift();
    this.#lastTick = e.time;
    const n = this.#tickTimes.length;
    if (n >= 2) {
      const span = e.time - (this.#tickTimes[0] as number);
      if (span > 0) this.#midiBpm = (60 * (n - 1)) / (TICKS_PER_BEAT * span);
    }
    if (this.#transport === 'stopped') return undefined;
    const onBeat = this.#ticks % TICKS_PER_BEAT === 0;
    this.#ticks++;
    if (!onBeat) return undefined;
    this.beats = Math.round(this.beats);
    return { stream: 'midi', count: this.#midiBeats++ };
  }

  /** An audio frame: its tempo and beat phase steer the clock while no MIDI clock runs; returns a pulse on a beat. */
  audio(e: AudioFrameInput): BeatPulse | undefined {
    this.advance(e.time);
    this.#lastAudio = e.time;
    if (e.tempo !== undefined && e.tempo > 0 && Number.isFinite(e.tempo)) this.#audioBpm = e.tempo;
    const phase = e.beatPhase !== undefined && Number.isFinite(e.beatPhase) ? e.beatPhase - Math.floor(e.beatPhase) : undefined;
    const wrapped = phase !== undefined && this.#lastPhase !== undefined && phase < this.#lastPhase - 0.5;
    if (phase !== undefined) this.#lastPhase = phase;
    const isBeat = e.beat ?? wrapped;
    if (!this.midiRunning(e.time) && phase !== undefined) this.beats = Math.round(this.beats - phase) + phase;
    return isBeat ? { stream: 'audio', count: this.#audioBeats++ } : undefined;
  }

  /** Whether a beat source listens to this pulse (at time t). */
  accepts(source: Extract<Source, { kind: 'beat' }>, pulse: BeatPulse, t: Seconds): boolean {
    const fromOk = source.from === pulse.stream || (source.from === 'any' && (pulse.stream === 'midi' || !this.midiRunning(t)));
    return fromOk && pulse.count % source.every === 0;
  }
}

/**
 * An LFO's value at time t, 0..1. All shapes start a cycle at their low point except square, which is high
 * for the first half: sine 0.5 − 0.5·cos(2πp), triangle up then down, saw a ramp up, square high then low.
 * Hz LFOs run on absolute time (rate·t + phase); beat LFOs on the clock's beat position.
 */
export function lfoValue(source: Extract<Source, { kind: 'lfo' }>, t: Seconds, clock: BeatClock): number {
  const cycles = source.rate !== undefined ? source.rate * t : clock.beats / (source.beats as number);
  const x = cycles + source.phase;
  const p = x - Math.floor(x);
  switch (source.shape) {
    case 'sine':
      return 0.5 - 0.5 * Math.cos(2 * Math.PI * p);
    case 'triangle':
      return p < 0.5 ? 2 * p : 2 - 2 * p;
    case 'saw':
      return p;
    case 'square':
      return p < 0.5 ? 1 : 0;
  }
}
