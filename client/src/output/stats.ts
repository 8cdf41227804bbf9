/**
 * Fixed-size rings for the page's figures: event rates and delay percentiles over a recent window. They never
 * grow, so a projector left running for days holds the same memory as one started a minute ago.
 */

/** Events per second over the last `windowMs`, from a ring of event times. */
export class RateMeter {
  private readonly times: Float64Array;
  private next = 0;
  private count = 0;

  constructor(
    capacity = 512,
    private readonly windowMs = 2000,
  ) {
    this.times = new Float64Array(capacity);
  }

  mark(now: number): void {
    this.times[this.next] = now;
    this.next = (this.next + 1) % this.times.length;
    this.count = Math.min(this.count + 1, this.times.length);
  }

  /** The rate over the window ending at `now`; a ring that filled up inside the window reports its own span. */
  rate(now: number): number {
    const cap = this.times.length;
    let n = 0;
    let oldest = now;
    for (let i = 1; i <= this.count; i++) {
      const t = this.times[(this.next - i + cap) % cap]!;
      if (now - t > this.windowMs) break;
      n++;
      oldest = t;
    }
    if (n === 0) return 0;
    const span = n === this.count && this.count === cap ? now - oldest : this.windowMs;
    return span > 0 ? (n * 1000) / span : 0;
  }

  clear(): void {
    this.next = 0;
    this.count = 0;
  }
}

/** The last `capacity` samples, for percentiles. */
export class SampleWindow {
  private readonly values: Float64Array;
  private readonly scratch: Float64Array;
  private next = 0;
  private count = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
    this.scratch = new Float64Array(capacity);
  }

  add(v: number): void {
    this.values[this.next] = v;
    this.next = (this.next + 1) % this.values.length;
    this.count = Math.min(this.count + 1, this.values.length);
  }

  get size(): number {
    return this.count;
  }

  min(): number {
    let m = Infinity;
    for (let i = 0; i < this.count; i++) m = Math.min(m, this.values[i]!);
    return m;
  }

  /** Nearest-rank percentile (p in 0..1); NaN while empty. Sorts a preallocated copy: no garbage. */
  percentile(p: number): number {
    const n = this.count;
    if (n === 0) return Number.NaN;
    this.scratch.set(this.values);
    // Unused slots sort last, out of the way of the n real samples.
    this.scratch.fill(Infinity, n);
    this.scratch.sort();
    return this.scratch[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]!;
  }

  clear(): void {
    this.next = 0;
    this.count = 0;
  }
}
