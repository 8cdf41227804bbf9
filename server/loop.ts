/**
 * The render clock. Each tick: latent from the live state → engine → RGB → JPEG (once) → every client and
 * the recorder. Ticks the engine cannot keep up with are skipped, never queued. An error anywhere in a tick
 * is logged with its cause and the last good frame is sent again: the show goes on.
 */
import { messageOf } from '../core/errors.ts';
import type { LatentSpec } from '../core/checkpoint/manifest.ts';
import { logger } from '../core/log.ts';
import { encodeJpeg, type EncodedFrame } from './encoder.ts';
import type { Engine } from './engine.ts';
import { encodeFrameMessage, FRAME_FORMAT_JPEG } from './frame-message.ts';
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
  pushFrame(rgb: Uint8Array, captureTime: number): unknown;
}

export interface LoopOptions {
  fps: number;
  jpegQuality: number;
  /** Small models are enlarged (nearest) to at least this many pixels wide before JPEG. */
  displaySize: number;
}

export interface LoopStats {
  seq: number;
  /** Frames sent per second, averaged over the last second or so. */
  fps: number;
  targetFps: number;
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
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private seq = 0;
  private lastGood: { encoded: EncodedFrame } | null = null;
  private readonly acks: PendingAck[] = [];
  private readonly sentTimes: number[] = [];
  private lastTick = 0;
  private encodeMs = 0;
  private skipped = 0;
  private errors = 0;
  private lastError: string | null = null;
  private lastErrorLog = 0;
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Sends {type: 'applied'} for `id` once the first frame computed after `receivedAt` has gone out. */
  ackAfterNextFrame(id: string, receivedAt: number, reply: (m: ServerMessage) => void): void {
    if (this.acks.length < 1000) this.acks.push({ id, receivedAt, reply });
  }

  private schedule(due: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => void this.tick(due), Math.max(0, due - performance.now()));
  }

  private async tick(due: number): Promise<void> {
    const interval = 1000 / this.o.fps;
    const start = performance.now();
    const dt = (start - this.lastTick) / 1000;
    this.lastTick = start;
    try {
      if (this.engine.swapIfReady()) {
        this.source.modelChanged(this.engine.model.info.latent);
        this.onModelSwap?.();
      }
      const latent = this.source.latentAt(start / 1000, dt);
      const rgb = await this.engine.render(latent);
      const t0 = performance.now();
      const encoded = await encodeJpeg(rgb, this.o.jpegQuality, this.o.displaySize);
      this.encodeMs = this.encodeMs === 0 ? performance.now() - t0 : this.encodeMs * 0.9 + (performance.now() - t0) * 0.1;
      this.lastGood = { encoded };
    } catch (e) {
      this.errors++;
      this.lastError = messageOf(e);
      // Once a second at most: a broken input at 30 fps must not flood the log.
      if (start - this.lastErrorLog > 1000) {
        log.error(`frame failed (${this.errors} so far), re-sending the last good frame: ${this.lastError}`);
        this.lastErrorLog = start;
      }
    }
    if (this.lastGood) this.send(this.lastGood, start);
    // Next tick on the grid; if we overran, skip the ticks we missed rather than bunching them.
    let next = due + interval;
    const now = performance.now();
    if (next < now) {
      const missed = Math.ceil((now - next) / interval);
      this.skipped += missed;
      next += missed * interval;
    }
    this.schedule(next);
  }

  private send(frame: { encoded: EncodedFrame }, tickStart: number): void {
    const seq = ++this.seq;
    const captureTime = Date.now();
    const { width, height, jpeg } = frame.encoded;
    this.hub.broadcastFrame(encodeFrameMessage({ seq, captureTime, width, height, format: FRAME_FORMAT_JPEG }, jpeg));
    // The recorder keeps its own clock from these times; performance.now() never jumps, Date.now() can.
    this.sink?.pushFrame(frame.encoded.rgb, performance.now());
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
