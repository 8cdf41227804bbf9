/** A bounded FIFO of frames (a ring): push fails instead of growing, so memory is capped by construction. */
export class FrameQueue {
  private readonly ring: (Buffer | undefined)[];
  private head = 0;
  private size = 0;
  /** The most frames it has held at once. */
  highWater = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<Buffer | undefined>(capacity).fill(undefined);
  }

  get length(): number {
    return this.size;
  }

  get free(): number {
    return this.capacity - this.size;
  }

  push(frame: Buffer): boolean {
    if (this.size === this.capacity) return false;
    this.ring[(this.head + this.size) % this.capacity] = frame;
    this.size++;
    if (this.size > this.highWater) this.highWater = this.size;
    return true;
  }

  shift(): Buffer | undefined {
    if (this.size === 0) return undefined;
    const frame = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    return frame;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.head = 0;
    this.size = 0;
  }
}
