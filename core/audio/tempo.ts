/**
 * Tempo and beat phase from the onset envelope (spectral flux per hop), re-estimated every few hops
 * from the last `windowHops`:
 *
 * 1. Autocorrelation (of the envelope lightly smoothed, mean removed; unbiased, normalised by lag 0) at
 *    the lags of `minBpm`…`maxBpm`.
 * 2. Octave handling: a periodic signal correlates at its period and at every multiple, so a click
 *    track at 120 BPM scores as well at 60. Each local maximum is weighted by a log-normal prior
 *    around `preferredBpm` (one octave wide), the usual way to pick the tapping rate listeners choose.
 * 3. Precision: the winning lag is refined by parabolic interpolation, then averaged with the peaks
 *    at 2, 3 and 4 times that lag (divided by the multiple), which brings the error well under a hop.
 * 4. Phase: a comb of pulses one period apart is slid over the envelope; the offset where it collects
 *    the most flux is the last beat. Between estimates the phase advances by 1/period per hop.
 *
 * Everything is indexed by hops, so the result depends on the samples only, never on the wall clock.
 */
export interface TempoParams {
  hopsPerSecond: number;
  windowHops: number;
  minHistoryHops: number;
  updateHops: number;
  minBpm: number;
  maxBpm: number;
  preferredBpm: number;
}

export interface TempoState {
  /** Beats per minute; 0 while unknown (too little history, or nothing periodic). */
  bpm: number;
  /** Autocorrelation at the chosen period, 0..1: how periodic the envelope is. */
  confidence: number;
  /** 0 on the beat, rising to 1 just before the next one; 0 while the tempo is unknown. */
  phase: number;
  /** True on the hop where the phase wraps (a beat tick). */
  beat: boolean;
}

const MAX_COMB_BEATS = 16;
/** Below this autocorrelation nothing is called periodic (a lone hit, noise). */
const MIN_CONFIDENCE = 0.1;

export class TempoTracker {
  private readonly ring: Float64Array;
  private readonly x: Float64Array;
  /** Autocorrelation by lag for the current estimate; NaN = not computed yet. */
  private readonly acfMemo: Float64Array;
  private count = 0;
  private period = 0;
  private beatRef = 0;
  private confidence = 0;
  private prevPhase = 0;
  private lastBeat = Number.NEGATIVE_INFINITY;
  private readonly minLag: number;
  private readonly maxLag: number;

  constructor(private readonly p: TempoParams) {
    this.ring = new Float64Array(p.windowHops);
    this.x = new Float64Array(p.windowHops);
    this.acfMemo = new Float64Array(p.windowHops);
    this.minLag = Math.max(2, Math.floor((60 * p.hopsPerSecond) / p.maxBpm));
    this.maxLag = Math.ceil((60 * p.hopsPerSecond) / p.minBpm);
  }

  /** One hop: its index (0, 1, 2, …) and onset-envelope value. */
  update(index: number, envelope: number): TempoState {
    this.ring[this.count % this.ring.length] = envelope;
    this.count++;
    if (this.count >= this.p.minHistoryHops && this.count % this.p.updateHops === 0) this.estimate(index);
    if (this.period <= 0) {
      this.prevPhase = 0;
      return { bpm: 0, confidence: 0, phase: 0, beat: false };
    }
    const beats = (index - this.beatRef) / this.period;
    const phase = beats - Math.floor(beats);
    const beat = phase < this.prevPhase && index - this.lastBeat >= this.period / 2;
    if (beat) this.lastBeat = index;
    this.prevPhase = phase;
    return { bpm: (60 * this.p.hopsPerSecond) / this.period, confidence: this.confidence, phase, beat };
  }

  private estimate(index: number): void {
    const n = Math.min(this.count, this.ring.length);
    const x = this.x;
    // Oldest first: the ring's write position is the oldest entry once it has wrapped.
    const start = this.count > this.ring.length ? this.count % this.ring.length : 0;
    // Smoothed with a 5-tap triangle, so that onsets whose period is not a whole number of hops (150 BPM
    // is 34.45 hops) still overlap at the integer lags; otherwise the double period, which happens to be
    // nearly whole, can outscore the true one.
    const ring = this.ring;
    const len = ring.length;
    const v = (i: number): number => (i < 0 || i >= n ? 0 : ring[(start + i) % len]!);
    let mean = 0;
    for (let i = 0; i < n; i++) {
      x[i] = (v(i - 2) + 2 * v(i - 1) + 3 * v(i) + 2 * v(i + 1) + v(i + 2)) / 9;
      mean += x[i]!;
    }
    mean /= n;
    let r0 = 0;
    for (let i = 0; i < n; i++) {
      x[i] = x[i]! - mean;
      r0 += x[i]! * x[i]!;
    }
    r0 /= n;
    if (!(r0 > 1e-18) || n < 2 * this.maxLag) {
      this.period = 0;
      this.confidence = 0;
      return;
    }
    const memo = this.acfMemo.fill(Number.NaN);
    const acf = (lag: number): number => {
      const known = memo[lag]!;
      if (known === known) return known;
      let s = 0;
      for (let i = 0; i + lag < n; i++) s += x[i]! * x[i + lag]!;
      return (memo[lag] = s / (n - lag) / r0);
    };

    let best = -1;
    let bestScore = 0;
    let prev = acf(this.minLag - 1);
    let cur = acf(this.minLag);
    for (let lag = this.minLag; lag <= this.maxLag; lag++) {
      const next = acf(lag + 1);
      if (cur > 0 && cur >= prev && cur >= next) {
        const bpm = (60 * this.p.hopsPerSecond) / lag;
        const octaves = Math.log2(bpm / this.p.preferredBpm);
        const score = cur * Math.exp(-0.5 * octaves * octaves);
        if (score > bestScore) {
          bestScore = score;
          best = lag;
        }
      }
      prev = cur;
      cur = next;
    }
    if (best < 0 || acf(best) < MIN_CONFIDENCE) {
      this.period = 0;
      this.confidence = 0;
      return;
    }
    this.confidence = Math.min(1, acf(best));

    // Refine: the peak near each multiple m of the lag, interpolated, divided by m; weighted by its height.
    let sum = 0;
    let weights = 0;
    let guess = best;
    for (let m = 1; m <= 4; m++) {
      const centre = Math.round(guess * m);
      if (centre + 3 >= n / 2) break;
      let peak = centre;
      for (let l = centre - 2; l <= centre + 2; l++) if (acf(l) > acf(peak)) peak = l;
      const a = acf(peak - 1);
      const b = acf(peak);
      const c = acf(peak + 1);
      const denom = a - 2 * b + c;
      const offset = denom < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / denom)) : 0;
      if (b <= 0) continue;
      sum += ((peak + offset) / m) * b;
      weights += b;
      guess = sum / weights;
    }
    this.period = guess;

    // Phase: slide a comb of pulses `period` apart back from the newest hop; the best offset is the last beat.
    const at = (pos: number): number => {
      const i = Math.floor(pos);
      const f = pos - i;
      return i + 1 < n ? x[i]! * (1 - f) + x[i + 1]! * f : x[i]!;
    };
    const offsets = Math.ceil(this.period);
    // The same number of pulses for every offset, so no offset wins by collecting more of them.
    const pulses = Math.min(MAX_COMB_BEATS, Math.floor((n - offsets) / this.period) + 1);
    let bestOffset = 0;
    let bestComb = Number.NEGATIVE_INFINITY;
    for (let o = 0; o < offsets; o++) {
      let s = 0;
      for (let k = 0; k < pulses; k++) s += at(n - 1 - o - k * this.period);
      if (s > bestComb) {
        bestComb = s;
        bestOffset = o;
      }
    }
    this.beatRef = index - bestOffset;
  }
}
