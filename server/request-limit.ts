/**
 * Requests per second per remote address for the REST API and recordings: a page polls a few times a second at
 * most, while a flood of cheap requests (thousands a second) would grow the heap by hundreds of MB and take
 * the CPU from the render loop.
 */
import { TokenBucket } from './token-bucket.ts';

export class RequestLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    readonly perSecond: number,
    private readonly burst: number,
  ) {}

  allow(address: string, now = performance.now()): boolean {
    let b = this.buckets.get(address);
    if (!b) {
      if (this.buckets.size >= 1024) for (const [k, v] of this.buckets) if (v.full(now)) this.buckets.delete(k);
      b = new TokenBucket(this.perSecond, this.burst, now);
      this.buckets.set(address, b);
    }
    return b.take(1, now);
  }
}
