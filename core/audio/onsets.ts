/**
 * Onsets from spectral flux with an adaptive threshold, causal (no look-ahead) so it fires on the hop
 * where the flux rises, which keeps live latency at one hop. A hop is an onset when
 *
 *   flux > median(flux over the last `windowHops`) · medianFactor + margin · (running flux peak)
 *   and flux > minFlux, and at least `refractoryHops` have passed since the last onset.
 *
 * The median follows the steady texture of the music (it ignores the onsets themselves); the margin,
 * relative to the running peak, keeps small wiggles in quiet, steady passages from firing.
 */
export interface OnsetParams {
  windowHops: number;
  medianFactor: number;
  margin: number;
  refractoryHops: number;
  minFlux: number;
}

export class OnsetDetector {
  private readonly history: Float64Array;
  private readonly scratch: Float64Array;
  private filled = 0;
  private next = 0;
  private sinceLast = Number.POSITIVE_INFINITY;

  constructor(private readonly p: OnsetParams) {
    this.history = new Float64Array(p.windowHops);
    this.scratch = new Float64Array(p.windowHops);
  }

  /** One hop: its flux and the running flux peak (the AGC's); true when it is an onset. */
  update(flux: number, peak: number): boolean {
    const threshold = this.median() * this.p.medianFactor + this.p.margin * peak;
    this.sinceLast++;
    const onset = flux > threshold && flux > this.p.minFlux && this.sinceLast >= this.p.refractoryHops;
    if (onset) this.sinceLast = 0;
    this.history[this.next] = flux;
    this.next = (this.next + 1) % this.history.length;
    if (this.filled < this.history.length) this.filled++;
    return onset;
  }

  private median(): number {
    const n = this.filled;
    if (n === 0) return 0;
    const s = this.scratch.subarray(0, n);
    s.set(this.history.subarray(0, n));
    s.sort();
    return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  }
}
