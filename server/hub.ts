/**
 * Connected WebSocket clients: frames out with per-client backpressure (a client whose send buffer is
 * over the cap skips frames, so one slow client never slows the others or grows server memory), control
 * messages in, validated, size- and rate-limited; every bad message gets an error reply and changes nothing.
 */
import type { WebSocket } from 'ws';
import { controlMessageSchema, type ControlMessage, type ServerMessage } from './protocol.ts';
import { describeZodError } from '../core/checkpoint/manifest.ts';
import { logger } from '../core/log.ts';

const log = logger('ws');

export interface HubOptions {
  /** Skip frames for a client while its unsent bytes exceed this. */
  maxBufferedBytes: number;
  /** Larger control messages are refused with an error reply (ws closes past its own, larger hard cap). */
  maxMessageBytes: number;
  /** Token bucket per client: sustained messages per second, and the burst allowed. */
  messagesPerSecond: number;
  burst: number;
}

export const DEFAULT_HUB_OPTIONS: HubOptions = { maxBufferedBytes: 1 << 20, maxMessageBytes: 64 << 10, messagesPerSecond: 240, burst: 480 };

export interface ClientStats {
  id: number;
  address: string;
  framesSent: number;
  framesDropped: number;
  messagesIn: number;
  errors: number;
}

interface Client extends ClientStats {
  ws: WebSocket;
  tokens: number;
  lastRefill: number;
}

/** What the hub hands on: validated control messages, binary messages (browser audio), departures. */
export interface HubHandlers {
  control(msg: ControlMessage, reply: (m: ServerMessage) => void, receivedAt: number, client: number): void;
  binary(data: Buffer, client: number): void;
  left(client: number): void;
}

export class Hub {
  private readonly clients = new Set<Client>();
  private nextId = 1;

  constructor(
    private readonly opts: HubOptions,
    private readonly handlers: HubHandlers,
  ) {}

  add(ws: WebSocket, address: string, welcome: ServerMessage): void {
    const c: Client = { ws, id: this.nextId++, address, framesSent: 0, framesDropped: 0, messagesIn: 0, errors: 0, tokens: this.opts.burst, lastRefill: performance.now() };
    this.clients.add(c);
    ws.on('message', (data, isBinary) => this.receive(c, data as Buffer | Buffer[] | ArrayBuffer, isBinary));
    ws.on('close', () => {
      this.clients.delete(c);
      this.handlers.left(c.id);
    });
    ws.on('error', (e) => log.debug(`client ${c.id}: ${e.message}`));
    this.send(c, welcome);
  }

  private send(c: Client, m: ServerMessage): void {
    if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify(m));
  }

  private fail(c: Client, code: string, message: string, id?: string, hint?: string): void {
    c.errors++;
    this.send(c, { type: 'error', code, message, ...(hint ? { hint } : {}), ...(id ? { id } : {}) });
  }

  private receive(c: Client, data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean): void {
    const now = performance.now();
    c.messagesIn++;
    c.tokens = Math.min(this.opts.burst, c.tokens + ((now - c.lastRefill) / 1000) * this.opts.messagesPerSecond);
    c.lastRefill = now;
    if (c.tokens < 1) return this.fail(c, 'RATE_LIMITED', `more than ${this.opts.messagesPerSecond} messages per second; this one was ignored`);
    c.tokens--;
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (buf.byteLength > this.opts.maxMessageBytes) {
      return this.fail(c, 'TOO_LARGE', `message of ${buf.byteLength} bytes; the limit is ${this.opts.maxMessageBytes}`);
    }
    if (isBinary) {
      try {
        this.handlers.binary(buf, c.id);
      } catch (e) {
        const err = e as { code?: string; message?: string; hint?: string };
        this.fail(c, err.code ?? 'BAD_MESSAGE', err.message ?? String(e), undefined, err.hint);
      }
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(buf.toString('utf8'));
    } catch {
      return this.fail(c, 'BAD_JSON', 'the message is not valid JSON');
    }
    const parsed = controlMessageSchema.safeParse(json);
    if (!parsed.success) {
      const type = (json as { type?: unknown } | null)?.type;
      const known = controlMessageSchema.options.some((o) => o.shape.type.value === type);
      const id = typeof (json as { id?: unknown }).id === 'string' ? (json as { id: string }).id : undefined;
      return known
        ? this.fail(c, 'BAD_MESSAGE', `'${String(type)}': ${describeZodError(parsed.error)}`, id)
        : this.fail(c, 'UNKNOWN_TYPE', `unknown message type ${JSON.stringify(type ?? null)}`, id);
    }
    try {
      this.handlers.control(parsed.data, (m) => this.send(c, m), now, c.id);
    } catch (e) {
      const err = e as { code?: string; message?: string; hint?: string };
      this.fail(c, err.code ?? 'FAILED', err.message ?? String(e), parsed.data.id, err.hint);
    }
  }

  /** Sends a frame to every client that can take it; the others skip it. */
  broadcastFrame(msg: Buffer): void {
    for (const c of this.clients) {
      if (c.ws.readyState !== c.ws.OPEN) continue;
      if (c.ws.bufferedAmount > this.opts.maxBufferedBytes) {
        c.framesDropped++;
        continue;
      }
      c.ws.send(msg, { binary: true });
      c.framesSent++;
    }
  }

  broadcast(m: ServerMessage): void {
    const text = JSON.stringify(m);
    for (const c of this.clients) if (c.ws.readyState === c.ws.OPEN) c.ws.send(text);
  }

  get size(): number {
    return this.clients.size;
  }

  stats(): ClientStats[] {
    return [...this.clients].map(({ id, address, framesSent, framesDropped, messagesIn, errors }) => ({ id, address, framesSent, framesDropped, messagesIn, errors }));
  }

  closeAll(): void {
    for (const c of this.clients) c.ws.close(1001, 'server shutting down');
  }
}
