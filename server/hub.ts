/**
 * Connected WebSocket clients: frames out with per-client backpressure (a client whose send buffer is
 * over the cap skips frames, and replies, so one slow client never slows the others or grows server memory;
 * one that stays over it is closed), control messages in, validated, size-, rate- and cost-limited; every bad
 * message gets a short error reply and changes nothing, and nothing a client sends can throw out of here.
 */
import type { WebSocket } from 'ws';
import { controlMessageSchema, type ControlMessage, type ServerMessage } from '../protocol/messages.ts';
import { describeZodError } from '../core/checkpoint/manifest.ts';
import { clip, toWireError, type ErrorCode, type WireError } from '../core/errors.ts';
import { logger } from '../core/log.ts';
import { TokenBucket } from './token-bucket.ts';
import type { ClientStats } from '../protocol/status.ts';

const log = logger('ws');

export interface HubOptions {
  /** Skip frames and replies for a client while its unsent bytes exceed this. */
  maxBufferedBytes: number;
  /** A client over `maxBufferedBytes` for this long is not reading: it is closed. */
  maxOverBufferMs: number;
  /** Larger messages are refused with an error reply (ws closes past its own, larger hard cap). */
  maxMessageBytes: number;
  /** Token bucket per client: sustained messages per second, and the burst allowed. */
  messagesPerSecond: number;
  burst: number;
  /**
   * Bytes per second of JSON text per remote address, and its burst: parsing and validating cost grows with
   * size, so many large messages cost as much as the rate limit's count of small ones allows, not 64× more.
   */
  textBytesPerSecond: number;
  textBurstBytes: number;
  /** Bytes per second of binary messages (browser microphone PCM) per address: a few times real time. */
  binaryBytesPerSecond: number;
  binaryBurstBytes: number;
  /** Connections at once from one address, and from all. */
  maxClientsPerAddress: number;
  maxClients: number;
  /** The longest error text a reply carries. */
  maxErrorChars: number;
}

export const DEFAULT_HUB_OPTIONS: HubOptions = {
  maxBufferedBytes: 1 << 20,
  maxOverBufferMs: 10_000,
  maxMessageBytes: 64 << 10,
  messagesPerSecond: 240,
  burst: 480,
  textBytesPerSecond: 256 << 10,
  textBurstBytes: 512 << 10,
  // 48 kHz float32 mono is 188 KiB/s.
  binaryBytesPerSecond: 1 << 20,
  binaryBurstBytes: 2 << 20,
  maxClientsPerAddress: 16,
  maxClients: 64,
  maxErrorChars: 400,
};

interface Client extends ClientStats {
  ws: WebSocket;
  address: string;
  count: TokenBucket;
  /** When its send buffer went over the cap (NaN while under). */
  overSince: number;
  /** The last RATE_LIMITED reply: one a second at most, or the replies would be the flood. */
  lastRateReply: number;
}

interface AddressState {
  clients: number;
  text: TokenBucket;
  binary: TokenBucket;
}

/** What the hub hands on: validated control messages, binary messages (browser audio), departures. */
export interface HubHandlers {
  control(msg: ControlMessage, reply: (m: ServerMessage) => void, receivedAt: number, client: number): void;
  binary(data: Buffer, client: number): void;
  left(client: number): void;
}

export class Hub {
  private readonly clients = new Set<Client>();
  private readonly addresses = new Map<string, AddressState>();
  private nextId = 1;
  private lastInternalLog = 0;
  private readonly opts: HubOptions;

  constructor(
    opts: Partial<HubOptions>,
    private readonly handlers: HubHandlers,
  ) {
    this.opts = { ...DEFAULT_HUB_OPTIONS, ...opts };
  }

  /** Whether a new connection from `address` may join; a refusal says why. */
  admit(address: string): WireError | null {
    if (this.clients.size >= this.opts.maxClients) {
      return { code: 'TOO_MANY_CONNECTIONS', message: `the server has its maximum of ${this.opts.maxClients} connections`, hint: 'close pages you no longer use' };
    }
    if ((this.addresses.get(address)?.clients ?? 0) >= this.opts.maxClientsPerAddress) {
      return { code: 'TOO_MANY_CONNECTIONS', message: `${this.opts.maxClientsPerAddress} connections from one address at most`, hint: 'close pages you no longer use' };
    }
    return null;
  }

  add(ws: WebSocket, address: string, welcome: ServerMessage): void {
    const now = performance.now();
    const c: Client = {
      ws,
      id: this.nextId++,
      address,
      framesSent: 0,
      framesDropped: 0,
      messagesDropped: 0,
      messagesIn: 0,
      errors: 0,
      count: new TokenBucket(this.opts.messagesPerSecond, this.opts.burst, now),
      overSince: Number.NaN,
      lastRateReply: -Infinity,
    };
    this.clients.add(c);
    this.addressOf(address, now).clients++;
    ws.on('message', (data, isBinary) => {
      try {
        this.receive(c, data as Buffer | Buffer[] | ArrayBuffer, isBinary);
      } catch (e) {
        this.internal(c, e);
      }
    });
    ws.on('close', () => {
      if (!this.clients.delete(c)) return;
      const a = this.addresses.get(address);
      if (a) a.clients--;
      try {
        this.handlers.left(c.id);
      } catch (e) {
        this.logInternal(e);
      }
    });
    ws.on('error', (e) => log.debug(`client ${c.id}: ${e.message}`));
    this.send(c, welcome);
  }

  /** Per-address budgets outlive a connection (reconnecting must not refill them); idle full ones are forgotten. */
  private addressOf(address: string, now: number): AddressState {
    let a = this.addresses.get(address);
    if (!a) {
      if (this.addresses.size >= 1024) {
        for (const [k, v] of this.addresses) if (v.clients === 0 && v.text.full(now) && v.binary.full(now)) this.addresses.delete(k);
      }
      a = {
        clients: 0,
        text: new TokenBucket(this.opts.textBytesPerSecond, this.opts.textBurstBytes, now),
        binary: new TokenBucket(this.opts.binaryBytesPerSecond, this.opts.binaryBurstBytes, now),
      };
      this.addresses.set(address, a);
    }
    return a;
  }

  /**
   * Whether the client can take more now. Over the buffer cap, what would be sent is skipped; a client over
   * it for `maxOverBufferMs` is not reading, and is closed (its buffer freed).
   */
  private writable(c: Client, now: number): boolean {
    if (c.ws.readyState !== c.ws.OPEN) return false;
    if (c.ws.bufferedAmount <= this.opts.maxBufferedBytes) {
      c.overSince = Number.NaN;
      return true;
    }
    if (Number.isNaN(c.overSince)) c.overSince = now;
    else if (now - c.overSince > this.opts.maxOverBufferMs) {
      log.warn(`client ${c.id} has read nothing for ${(this.opts.maxOverBufferMs / 1000).toFixed(0)} s with its buffer full: closed`);
      c.ws.terminate();
    }
    return false;
  }

  private sendText(c: Client, text: string, now = performance.now()): void {
    if (this.writable(c, now)) c.ws.send(text);
    else if (c.ws.readyState === c.ws.OPEN) c.messagesDropped++;
  }

  private send(c: Client, m: ServerMessage): void {
    this.sendText(c, JSON.stringify(m));
  }

  private fail(c: Client, code: ErrorCode, message: string, id?: string, hint?: string): void {
    c.errors++;
    const max = this.opts.maxErrorChars;
    this.send(c, { type: 'error', code, message: clip(message, max), ...(hint ? { hint: clip(hint, max) } : {}), ...(id ? { id: id.slice(0, 64) } : {}) });
  }

  /** Something a handler did not expect: the client hears INTERNAL, the log hears of it once a second at most. */
  private internal(c: Client, e: unknown, id?: string): void {
    this.logInternal(e);
    const w = toWireError(e, this.opts.maxErrorChars);
    this.fail(c, w.code, w.message, id, w.hint);
  }

  /** Logs a failure inside a handler, once a second at most (a client can repeat what caused it). */
  logInternal(e: unknown): void {
    const now = performance.now();
    if (now - this.lastInternalLog < 1000) return;
    this.lastInternalLog = now;
    log.error(`a client's message failed inside the server (the show goes on): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }

  private receive(c: Client, data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean): void {
    const now = performance.now();
    c.messagesIn++;
    if (!c.count.take(1, now)) {
      if (now - c.lastRateReply >= 1000) {
        c.lastRateReply = now;
        this.fail(c, 'RATE_LIMITED', `more than ${this.opts.messagesPerSecond} messages per second; messages are ignored until the rate falls`);
      }
      return;
    }
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (buf.byteLength > this.opts.maxMessageBytes) {
      return this.fail(c, 'TOO_LARGE', `message of ${buf.byteLength} bytes; the limit is ${this.opts.maxMessageBytes}`);
    }
    const budget = isBinary ? this.addressOf(c.address, now).binary : this.addressOf(c.address, now).text;
    if (!budget.take(buf.byteLength, now)) {
      if (now - c.lastRateReply >= 1000) {
        c.lastRateReply = now;
        this.fail(c, 'RATE_LIMITED', `more than ${Math.round(budget.rate / 1024)} KiB of ${isBinary ? 'audio' : 'messages'} per second from this address; this one was ignored`);
      }
      return;
    }
    if (isBinary) {
      try {
        this.handlers.binary(buf, c.id);
      } catch (e) {
        const w = toWireError(e, this.opts.maxErrorChars);
        if (w.code === 'INTERNAL') this.internal(c, e);
        else this.fail(c, w.code, w.message, undefined, w.hint);
      }
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(buf.toString('utf8'));
    } catch {
      return this.fail(c, 'BAD_JSON', 'the message is not valid JSON', undefined, 'send control messages as JSON text');
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      return this.fail(c, 'BAD_MESSAGE', `a control message is a JSON object with a "type"; got ${Array.isArray(json) ? 'an array' : json === null ? 'null' : `a ${typeof json}`}`);
    }
    const fields = json as Record<string, unknown>;
    const id = typeof fields['id'] === 'string' ? fields['id'] : undefined;
    const parsed = controlMessageSchema.safeParse(json);
    if (!parsed.success) {
      const type = fields['type'];
      const known = controlMessageSchema.options.some((o) => o.shape.type.value === type);
      return known
        ? this.fail(c, 'BAD_MESSAGE', `'${String(type)}': ${describeZodError(parsed.error, 3)}`, id)
        : this.fail(c, 'UNKNOWN_TYPE', `unknown message type ${clip(JSON.stringify(type ?? null), 80)}`, id);
    }
    try {
      this.handlers.control(parsed.data, (m) => this.send(c, m), now, c.id);
    } catch (e) {
      const w = toWireError(e, this.opts.maxErrorChars);
      if (w.code === 'INTERNAL') this.internal(c, e, parsed.data.id);
      else this.fail(c, w.code, w.message, parsed.data.id, w.hint);
    }
  }

  /** Sends a frame to every client that can take it; the others skip it. */
  broadcastFrame(msg: Buffer): void {
    const now = performance.now();
    for (const c of this.clients) {
      if (!this.writable(c, now)) {
        if (c.ws.readyState === c.ws.OPEN) c.framesDropped++;
        continue;
      }
      c.ws.send(msg, { binary: true });
      c.framesSent++;
    }
  }

  broadcast(m: ServerMessage): void {
    const text = JSON.stringify(m);
    const now = performance.now();
    for (const c of this.clients) this.sendText(c, text, now);
  }

  get maxMessageBytes(): number {
    return this.opts.maxMessageBytes;
  }

  get size(): number {
    return this.clients.size;
  }

  stats(): ClientStats[] {
    return [...this.clients].map(({ id, framesSent, framesDropped, messagesDropped, messagesIn, errors }) => ({ id, framesSent, framesDropped, messagesDropped, messagesIn, errors }));
  }

  closeAll(): void {
    for (const c of this.clients) c.ws.close(1001, 'server shutting down');
  }

  /** Ends every connection at once (shutdown that cannot wait for close handshakes). */
  terminateAll(): void {
    for (const c of this.clients) c.ws.terminate();
  }
}
