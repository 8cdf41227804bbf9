/**
 * The render clock. Each tick: the instrument's latent at the tick's time → engine → RGB → JPEG (once) → every
 * client and the recorder. Ticks the engine cannot keep up with are skipped, never queued. An error anywhere in
 * a tick is logged with its cause and the last good frame is sent again: the show goes on. The clock is an
 * option, and `frame()` makes one frame at its reading, so a test can drive the loop by hand.
 */
import { EventEmitter } from 'node:events';
import { messageOf } from '../core/errors.ts';
import type { RgbBatch } from '../core/runtime/types.ts';
import type { Instrument } from '../instrument/instrument.ts';
import { logger } from '../core/log.ts';
import { displayScale, encodeFrame, enlarge, fitFrame, type EncodedFrame } from './encoder.ts';
import type { Engine } from './engine.ts';
import { encodeFrameMessage } from '../protocol/frames.ts';
import { NO_CAMERA, type Camera } from '../core/camera.ts';
import type { Hub } from './hub.ts';
import type { ServerMessage } from '../protocol/messages.ts';
import type { LoopStats } from '../protocol/status.ts';

const log = logger('loop');

/** What the loop asks for latents: the instrument. */
export type FrameSource = Pick<Instrument, 'frameAt' | 'modelChanged' | 'cut' | 'camera'>;

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
  /** Milliseconds on a monotonic clock (performance.now); a test passes its own. */
  clock?: () => number;
}

interface PendingAck {
  id: string;
  receivedAt: number;
  reply: (m: ServerMessage) => void;
}

export interface LoopEvents {
  /** The engine switched model between two frames (the instrument has the new layout already). */
  modelSwapped: [];
}

export class RenderLoop extends EventEmitter<LoopEvents> {
  private cancelTick: (() => void) | null = null;
  private running = false;
  private seq = 0;
  private lastGood: { encoded: EncodedFrame; rgb: RgbBatch } | null = null;
  /** The encode-and-send chain (frame order), and how many frames are in it. */
  private output: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private readonly acks: PendingAck[] = [];
  private readonly sentTimes: number[] = [];
  private lastTick = Number.NaN;
  private encodeMs = 0;
  private skipped = 0;
  private errors = 0;
  private lastError: string | null = null;
  private lastErrorLog = 0;
  private lastLatent: Float32Array | null = null;
  private sink: FrameSink | null = null;
  private readonly clock: () => number;

  constructor(
    private readonly engine: Engine,
    private readonly source: FrameSource,
    private readonly hub: Hub,
    private readonly o: LoopOptions,
  ) {
    super();
    this.clock = o.clock ?? (() => performance.now());
  }

  /** Where frames are recorded from now on (a take), or null to stop recording. */
  record(sink: FrameSink | null): void {
    this.sink = sink;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(this.clock());
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
    const wait = due - this.clock();
    // setTimeout never fires in under a millisecond; a frame that is already due starts at once.
    if (wait >= 1) {
      const t = setTimeout(() => void this.tick(due), wait);
      this.cancelTick = () => clearTimeout(t);
    } else {
      const t = setImmediate(() => void this.tick(due));
      this.cancelTick = () => clearImmediate(t);
    }
  }

  /**
   * One frame at the clock's reading: the latent, the engine, then encoding and sending, which run off the tick
   * in frame order (this frame's encoding overlaps the next frame's engine run; at most one frame waits for the
   * encoder, never a queue). Resolves when the engine is done; `flushed()` waits for the sending.
   */
  async frame(): Promise<void> {
    const start = this.clock();
    // The first frame steps one frame interval, as a renderer's first frame does.
    const dt = Number.isNaN(this.lastTick) ? (this.o.fps === 'max' ? 0 : 1 / this.o.fps) : (start - this.lastTick) / 1000;
    this.lastTick = start;
    let rgb: RgbBatch | null = null;
    let camera: Camera = NO_CAMERA;
    try {
      if (this.engine.swapIfReady()) {
        this.source.modelChanged(this.engine.model.info.latent);
        this.source.cut();
        this.emit('modelSwapped');
      }
      const latent = this.finite(this.source.frameAt(start / 1000, dt));
      camera = this.source.camera;
      rgb = await this.engine.render(latent);
    } catch (e) {
      this.failed(e, start);
    }
    const previous = this.output;
    const busy = this.inFlight > 0;
    this.inFlight++;
    this.output = previous.then(() => this.encodeAndSend(rgb, camera, start)).finally(() => this.inFlight--);
    if (busy) await previous;
  }

  /** Resolves once every frame made so far has been sent. */
  flushed(): Promise<void> {
    return this.output;
  }

  private async tick(due: number): Promise<void> {
    const interval = this.o.fps === 'max' ? 0 : 1000 / this.o.fps;
    await this.frame();
    // Next tick on the grid. After an overrun the ticks missed are skipped, not bunched, and the next frame
    // starts at once on a grid anchored there: waiting for the old grid point would only add idle time.
    let next = due + interval;
    const now = this.clock();
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
        this.failed(new Error(`the latent has a non-finite value at ${i} (${latent[i]}); the last finite one plays`), this.clock());
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
  private async encodeAndSend(rgb: RgbBatch | null, camera: Camera, tickStart: number): Promise<void> {
    if (rgb) {
      try {
        const t0 = this.clock();
        this.lastGood = { encoded: await encodeFrame(rgb, this.o.jpegQuality), rgb };
        const ms = this.clock() - t0;
        this.encodeMs = this.encodeMs === 0 ? ms : this.encodeMs * 0.9 + ms * 0.1;
      } catch (e) {
        this.failed(e, tickStart);
      }
    }
    if (!this.lastGood) return;
    // A frame that failed still flashes on its beat: the moves are this frame's, the picture the last good one.
    this.send(this.lastGood.encoded, camera, tickStart);
    const sink = this.sink;
    if (sink) {
      // The recorder keeps its own clock from these times; a monotonic clock never jumps, Date.now() can.
      const at = this.clock();
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

  private send(frame: EncodedFrame, camera: Camera, tickStart: number): void {
    const seq = ++this.seq;
    const { width, height, format, data } = frame;
    this.hub.broadcastFrame(encodeFrameMessage({ seq, captureTime: Date.now(), width, height, format, camera }, data));
    const sentAt = this.clock();
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
