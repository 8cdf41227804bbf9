/**
 * Automatic gain: running normalisers that bring a feature into 0..1 whatever the input level.
 * They advance once per hop (never by wall clock), so a given sample stream always gives the same values.
 */

/**
 * For level-like features (rms, loudness, flux, band energies). A peak tracker with instant attack and
 * exponential release sets the top of the range; a floor sets the bottom:
 *
 *   normalized = clamp((x − floor) / (max(peak, minTop) − floor), 0, 1)
 *
 * Values at or below the floor read 0, so silence and low background noise stay 0 instead of being
 * amplified into full-scale flicker once the peak has decayed; `minTop` (the feature's value some dB
 * above the floor) keeps the range from collapsing onto the floor in quiet passages.
 */
export class PeakNormalizer {
  private peak = 0;
  private readonly decay: number;

  /**
   * @param floor value (in the feature's own units) that reads 0
   * @param minTop the top of the range is never below this (> floor)
   * @param releaseHops hops for the peak to fall by a factor e
   */
  constructor(
    readonly floor: number,
    private readonly minTop: number,
    releaseHops: number,
  ) {
    if (!(minTop > floor)) throw new RangeError(`PeakNormalizer: minTop (${minTop}) must be above floor (${floor})`);
    this.decay = Math.exp(-1 / releaseHops);
  }

  update(x: number): number {
    this.peak = Math.max(x, this.peak * this.decay);
    const top = Math.max(this.peak, this.minTop);
    const v = (x - this.floor) / (top - this.floor);
    return v > 0 ? (v < 1 ? v : 1) : 0;
  }

  /** The running peak (the onset threshold's scale). */
  get level(): number {
    return this.peak;
  }
}

/**
 * For position-like features (spectral centroid, on a log-frequency scale). Tracks a low and a high
 * edge that jump out to new extremes at once and relax toward the current value otherwise, so the
 * range follows the music; a minimum span keeps a steady tone from filling the whole range (a steady
 * tone reads 0.5). Frames marked silent read 0 and leave the range alone.
 */
export class RangeNormalizer {
  private lo = 0;
  private hi = 0;
  private started = false;
  private readonly relax: number;

  constructor(
    releaseHops: number,
    private readonly minSpan: number,
  ) {
    this.relax = 1 - Math.exp(-1 / releaseHops);
  }

  update(x: number, silent: boolean): number {
    if (silent) return 0;
    if (!this.started) {
      this.lo = this.hi = x;
      this.started = true;
    }
    this.lo = x < this.lo ? x : this.lo + (x - this.lo) * this.relax;
    this.hi = x > this.hi ? x : this.hi + (x - this.hi) * this.relax;
    const span = Math.max(this.hi - this.lo, this.minSpan);
    const mid = (this.lo + this.hi) / 2;
    const v = (x - (mid - span / 2)) / span;
    return v > 0 ? (v < 1 ? v : 1) : 0;
  }
}
