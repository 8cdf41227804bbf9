/**
 * Writes a session log while the server plays: append-only JSON lines, so a crash loses at most the last
 * line (the reader skips a cut one). Writing never slows the render loop: when the disk falls behind by more
 * than `maxBufferedBytes`, events are dropped and counted, and the end line says so (a replay then warns).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { MappingInput } from '../core/mapping/index.ts';
import type { LatentStateJson } from '../core/latent/index.ts';
import type { InstrumentJournal } from './instrument.ts';
import type { LiveOp } from './live-state.ts';
import { logger } from '../core/log.ts';
import { latentHash, SESSION_FORMAT, SESSION_VERSION, type SessionHeader } from './session-format.ts';

/** Typed arrays (chroma bins) as plain arrays; JSON.stringify would write them as objects. */
function replacer(_key: string, value: unknown): unknown {
  return ArrayBuffer.isView(value) && !(value instanceof DataView) ? Array.from(value as Float32Array) : value;
}

const log = logger('session');

/** What status and a take's result say of a session log. */
export interface SessionStats {
  file: string;
  frames: number;
  events: number;
  dropped: number;
  bytes: number;
  /** The write error that stopped the log (disk full, say): events after it are counted as dropped. */
  error: string | null;
}

export class SessionLog implements InstrumentJournal {
  private frames = 0;
  private events = 0;
  private dropped = 0;
  private bytes = 0;
  private closed = false;
  private failure: Error | null = null;

  private constructor(
    readonly file: string,
    private readonly out: WriteStream,
    private readonly maxBufferedBytes: number,
  ) {}

  /**
   * Creates the file (never over an existing one) and writes the header, made by `header()` after the file
   * is open, in the same tick as the caller attaches the log: nothing can change the state in between.
   */
  static async open(
    file: string,
    header: () => Omit<SessionHeader, 'format' | 'version'>,
    o: { maxBufferedBytes?: number; attach?: (log: SessionLog) => void } = {},
  ): Promise<SessionLog> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const out = createWriteStream(file, { flags: 'wx' });
    await new Promise<void>((resolve, reject) => {
      out.once('open', () => resolve());
      out.once('error', reject);
    });
    const log = new SessionLog(file, out, o.maxBufferedBytes ?? 8 << 20);
    out.on('error', (e) => log.fail(e));
    log.write({ format: SESSION_FORMAT, version: SESSION_VERSION, ...header() }, true);
    o.attach?.(log);
    return log;
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    log.warn(`session log ${path.basename(this.file)}: ${e.message}; events from now on are dropped (a replay of it stops here)`);
  }

  private write(line: unknown, always = false): void {
    if (this.closed) return;
    if (this.failure || this.out.destroyed || (!always && this.out.writableLength > this.maxBufferedBytes)) {
      this.dropped++;
      return;
    }
    const text = `${JSON.stringify(line, replacer)}\n`;
    this.bytes += text.length;
    this.events++;
    this.out.write(text);
  }

  op(t: number, e: LiveOp, mapped: boolean): void {
    this.write(mapped ? { t, op: e.op, args: e.args, m: 1 } : { t, op: e.op, args: e.args });
  }

  frame(t: number, dt: number, latent: Float32Array): void {
    this.frames++;
    this.write({ t, dt, h: latentHash(latent) });
  }

  input(t: number, input: MappingInput): void {
    this.write({ t, in: input });
  }

  mapping(t: number, mapping: unknown): void {
    this.write({ t, mapping });
  }

  presets(t: number, states: Record<string, LatentStateJson>): void {
    this.write({ t, presets: states });
  }

  stats(): SessionStats {
    return { file: this.file, frames: this.frames, events: this.events, dropped: this.dropped, bytes: this.bytes, error: this.failure ? this.failure.message : null };
  }

  async close(): Promise<SessionStats> {
    if (this.closed) return this.stats();
    this.write({ end: { frames: this.frames, events: this.events, dropped: this.dropped, stoppedAt: new Date().toISOString() } }, true);
    this.closed = true;
    // A failed stream is destroyed and never calls end's callback: the failure is in the stats instead.
    if (!this.failure && !this.out.destroyed) {
      await new Promise<void>((resolve) =>
        this.out.end((e?: Error | null) => {
          if (e) this.fail(e);
          resolve();
        }),
      );
    }
    return this.stats();
  }
}
