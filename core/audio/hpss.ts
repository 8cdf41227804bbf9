/**
 * Harmonic/percussive separation by median filtering (Fitzgerald 2010), causal so it runs live: a harmonic
 * sound is steady across time in a frequency bin, a percussive one is spread across frequencies in one frame.
 * So per bin, the median of its last `timeFrames` magnitudes is the harmonic estimate H, and per frame the
 * median over `freqBins` neighbouring bins is the percussive estimate P; soft masks H²/(H²+P²) and P²/(H²+P²)
 * split the spectrum. Kicks and snares drive the percussive energy on the frame they hit (the frequency median
 * needs no future); chords drive the harmonic one, which follows within the time median's half-length.
 */
export interface HpssOptions {
  /** Frames in the harmonic (time) median: 17 hops of 11.6 ms ≈ 0.2 s. */
  timeFrames: number;
  /** Bins in the percussive (frequency) median. */
  freqBins: number;
}

export const HPSS_DEFAULTS: HpssOptions = { timeFrames: 17, freqBins: 17 };

/** The k-th smallest of a[0..n) (a is reordered). */
function select(a: Float32Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

export class HarmonicPercussive {
  private readonly history: Float32Array[];
  private frames = 0;
  private readonly scratch: Float32Array;
  private readonly harmonic: Float32Array;
  private readonly percussive: Float32Array;

  constructor(
    private readonly bins: number,
    private readonly o: HpssOptions = HPSS_DEFAULTS,
  ) {
    this.history = Array.from({ length: o.timeFrames }, () => new Float32Array(bins));
    this.scratch = new Float32Array(Math.max(o.timeFrames, o.freqBins));
    this.harmonic = new Float32Array(bins);
    this.percussive = new Float32Array(bins);
  }

  /**
   * Splits one magnitude spectrum; returns the harmonic and percussive parts' sums of squares (multiply by the
   * spectrum's Parseval scale for mean squares). The views are valid until the next call.
   */
  split(mag: Float32Array): { harmonicPower: number; percussivePower: number } {
    const n = this.bins;
    this.history[this.frames % this.o.timeFrames]!.set(mag);
    this.frames++;
    const filled = Math.min(this.frames, this.o.timeFrames);
    const s = this.scratch;
    for (let k = 0; k < n; k++) {
      for (let f = 0; f < filled; f++) s[f] = this.history[f]![k]!;
      this.harmonic[k] = select(s, filled, filled >> 1);
    }
    const half = this.o.freqBins >> 1;
    for (let k = 0; k < n; k++) {
      const from = Math.max(0, k - half);
      const to = Math.min(n, k + half + 1);
      for (let j = from; j < to; j++) s[j - from] = mag[j]!;
      this.percussive[k] = select(s, to - from, (to - from) >> 1);
    }
    let harmonicPower = 0;
    let percussivePower = 0;
    for (let k = 0; k < n; k++) {
      const h2 = this.harmonic[k]! * this.harmonic[k]!;
      const p2 = this.percussive[k]! * this.percussive[k]!;
      const total = h2 + p2;
      if (total <= 0) continue;
      const m2 = mag[k]! * mag[k]!;
      harmonicPower += (m2 * h2) / total;
      percussivePower += (m2 * p2) / total;
    }
    return { harmonicPower, percussivePower };
  }
}
