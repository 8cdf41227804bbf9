/**
 * Puts a port's messages on the server's clock. RtMidi tells how long after the previous message each one
 * arrived at the driver; JavaScript sees them later, in bursts when the event loop was busy rendering. Stamping
 * with the device deltas keeps their spacing (what the tempo estimate needs), and clamping to the wall clock
 * keeps them comparable with every other input: never in the future, never more than `maxLag` behind.
 */
import type { Seconds } from '../../core/latent/units.ts';

export class DeviceTimebase {
  private last: Seconds | null = null;

  constructor(private readonly maxLag: Seconds = 0.5) {}

  /** The time of a message that arrived (in JavaScript) at `now`, `delta` seconds after the previous one at the device. */
  stamp(now: Seconds, delta: Seconds | undefined): Seconds {
    const fromDevice = this.last !== null && delta !== undefined && Number.isFinite(delta) && delta >= 0 ? this.last + delta : now;
    const t = Math.min(now, Math.max(fromDevice, now - this.maxLag));
    this.last = t;
    return t;
  }

  /** After a reconnect the first delta is relative to nothing we saw. */
  reset(): void {
    this.last = null;
  }
}
