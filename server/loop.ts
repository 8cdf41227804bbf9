/**
 * The render clock. Each tick: latent from the live state → engine → RGB → JPEG (once) → every client and
 * the recorder. Ticks the engine cannot keep up with are skipped, never queued. An error anywhere in a tick
 * is logged with its cause and the last good frame is sent again: the show goes on.
 */
import { messageOf } from '../core/errors.ts';
import type { RgbBatch } from '../core/runtime/types.ts';
import type { LatentSpec } from '../core/checkpoint/manifest.ts';
import { logger } from '../core/log.ts';
import { displayScale, encodeFrame, enlarge, fitFrame, type EncodedFrame } from './encoder.ts';
import type { Engine } from './engine.ts';
import { encodeFrameMessage } from './frame-message.ts';
import type { Hub } from './hub.ts';
import type { ServerMessage } from './protocol.ts';

const log = logger('loop');

export interface LatentSource {
  /** The model input for this tick; `now` in seconds on the loop's clock, `dt` since the last tick. */
  latentAt(now: number, dt: number): Float32Array;
  /** Called when the engine switched model between frames, with the new model's latent layout. */
  modelChanged(spec: LatentSpec): void;
}

export interface FrameSink {
  /** The sink's fixed frame size; frames of another size (after a model switch) are fitted into it. */
  readonly width: number;
  readonly height: number;
  pushFrame(rgb: Uint8Array, captureTime: number): unknown;
}

export interface LoopOptions {
  /** Target frame rate; 'max' runs the next frame as soon as the engine is free (benchmarks, fast displays). */
  fps: number | 'max';
  jpegQuality: number;
  /** Recordings of small models are enlarged (nearest) to at least this many pixels wide. */
  displaySize: number;
}

export interface LoopStats {
  seq: number;
  /** Frames sent per second, averaged over the last second or so. */
  fps: number;
  targetFps: number | 'max';
  engineMs: number;
  encodeMs: number;
  skippedTicks: number;
  errors: number;
  lastError: string | null;
}

interface PendingAck {
  id: string;
  receivedAt: number;
  reply: (m: ServerMessage) => void;
}

export class RenderLoop {
  private cancelTick: (() => void) | null = null;
  private running = false;
  private seq = 0;
  private lastGood: { encoded: EncodedFrame; rgb: RgbBatch } | null = null;
  /** The encode-and-send chain (frame order), and how many frames are in it. */
  private output: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private readonly acks: PendingAck[] = [];
  private readonly sentTimes: number[] = [];
  private lastTick = 0;
  private encodeMs = 0;
  private skipped = 0;
  private errors = 0;
  private lastError: string | null = null;
  private lastErrorLog = 0;
  private lastLatent: Float32Array | null = null;
  sink: FrameSink | null = null;
  onModelSwap: (() => void) | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly source: LatentSource,
    private readonly hub: Hub,
    private readonly o: LoopOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.lastTick = performance.now();
    this.schedule(this.lastTick);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.cancelTick?.();
    this.cancelTick = null;
    await this.output;
  }

  /** Sends {type: 'applied'} for `id` once the first frame computed after `receivedAt` has gone out. */
  ackAfterNextFrame(id: string, receivedAt: number, reply: (m: ServerMessage) => void): void {
    if (this.acks.length < 1000) this.acks.push({ id, receivedAt, reply });
  }

  private schedule(due: number): void {
    if (!this.running) return;
    const wait = due - performance.now();
    // setTimeout never fires in under a millisecond; a frame that is already due starts at once.
    if (wait >= 1) {
      const t = setTimeout(() => void this.tick(due), wait);
      this.cancelTick = () => clearTimeout(t);
    } else {
      const t = setImmediate(() => void this.tick(due));
      this.cancelTick = () => clearImmediate(t);
    }
  }

  private async tick(due: number): Promise<void> {
    const interval = this.o.fps === 'max' ? 0 : 1000 / this.o.fps;
    const start = performance.now();
    const dt = (start - this.lastTick) / 1000;
    this.lastTick = start;
    let rgb: RgbBatch | null = null;
    try {
      if (this.engine.swapIfReady()) {
        this.source.modelChanged(this.engine.model.info.latent);
        this.onModelSwap?.();
      }
      rgb = await this.engine.render(this.finite(this.source.latentAt(start / 1000, dt)));
    } catch (e) {
      this.failed(e, start);
    }
    // Encoding and sending run off the tick, in frame order, so this frame's encoding overlaps the next
    // frame's engine run. At most one frame waits for the encoder: never a queue.
    const previous = this.output;
    const busy = this.inFlight > 0;
    this.inFlight++;
    this.output = previous.then(() => this.encodeAndSend(rgb, start)).finally(() => this.inFlight--);
    if (busy) await previous;
    // Next tick on the grid. After an overrun the ticks missed are skipped, not bunched, and the next frame
    // starts at once on a grid anchored there: waiting for the old grid point would only add idle time.
    let next = due + interval;
    const now = performance.now();
    if (next < now) {
      if (interval > 0) this.skipped += Math.floor((now - next) / interval) + 1;
      next = now;
    }
    this.schedule(next);
  }

  /**
   * The latent, if every value is finite; else the last one that was (a non-finite latent makes a black frame
   * and, through the springs, every frame after it). Counted as an error, logged once a second at most.
   */
  private finite(latent: Float32Array): Float32Array {
    for (let i = 0; i < latent.length; i++) {
      if (!Number.isFinite(latent[i]!)) {
        this.failed(new Error(`the latent has a non-finite value at ${i} (${latent[i]}); the last finite one plays`), performance.now());
        return this.lastLatent && this.lastLatent.length === latent.length ? this.lastLatent : new Float32Array(latent.length);
      }
    }
    if (this.lastLatent?.length !== latent.length) this.lastLatent = new Float32Array(latent.length);
    this.lastLatent.set(latent);
    return latent;
  }

  private failed(e: unknown, at: number): void {
    this.errors++;
    this.lastError = messageOf(e);
    // Once a second at most: a broken input at 30 fps must not flood the log.
    if (at - this.lastErrorLog > 1000) {
      log.error(`frame failed (${this.errors} so far), re-sending the last good frame: ${this.lastError}`);
      this.lastErrorLog = at;
    }
  }

  /** Never rejects: a failed encode re-sends the last good frame, like a failed render. */
  private async encodeAndSend(rgb: RgbBatch | null, tickStart: number): Promise<void> {
    if (rgb) {
      try {
        const t0 = performance.now();
        this.lastGood = { encoded: await encodeFrame(rgb, this.o.jpegQuality), rgb };
        const ms = performance.now() - t0;
        this.encodeMs = this.encodeMs === 0 ? ms : this.encodeMs * 0.9 + ms * 0.1;
      } catch (e) {
        this.failed(e, tickStart);
      }
    }
    if (!this.lastGood || !this.running) return;
    this.send(this.lastGood.encoded, tickStart);
    const sink = this.sink;
    if (sink) {
      // The recorder keeps its own clock from these times; performance.now() never jumps, Date.now() can.
      const at = performance.now();
      try {
        const rgb = this.lastGood.rgb;
        const scale = displayScale(rgb.width, this.o.displaySize);
        const big = await enlarge(rgb, this.o.displaySize);
        sink.pushFrame(await fitFrame(big, { width: rgb.width * scale, height: rgb.height * scale }, sink), at);
      } catch (e) {
        this.failed(e, tickStart);
      }
    }
  }

  private send(frame: EncodedFrame, tickStart: number): void {
    const seq = ++this.seq;
    const { width, height, format, data } = frame;
    this.hub.broadcastFrame(encodeFrameMessage({ seq, captureTime: Date.now(), width, height, format }, data));
    const sentAt = performance.now();
    this.sentTimes.push(sentAt);
    while (this.sentTimes.length > 0 && sentAt - this.sentTimes[0]! > 2000) this.sentTimes.shift();
    for (let i = this.acks.length - 1; i >= 0; i--) {
      const a = this.acks[i]!;
      if (a.receivedAt <= tickStart) {
        a.reply({ type: 'applied', id: a.id, seq, latencyMs: sentAt - a.receivedAt });
        this.acks.splice(i, 1);
      }
    }
  }

  stats(): LoopStats {
    const span = this.sentTimes.length > 1 ? this.sentTimes[this.sentTimes.length - 1]! - this.sentTimes[0]! : 0;
    return {
      seq: this.seq,
      fps: span > 0 ? ((this.sentTimes.length - 1) * 1000) / span : 0,
      targetFps: this.o.fps,
      engineMs: this.engine.engineMs,
      encodeMs: this.encodeMs,
      skippedTicks: this.skipped,
      errors: this.errors,
      lastError: this.lastError,
    };
  }
}
