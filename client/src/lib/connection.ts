/**
 * The page's WebSocket to the server: JSON messages and binary frames in, control messages out. It reconnects
 * by itself (backing off to once every 2 s), so a page on a projector survives a server restart untouched.
 * A `welcome` after a reconnect is how a page learns the server (or its model) may have changed.
 */
import type { ControlMessage, ServerMessage } from './protocol.ts';

/** The access token from the page's URL (`?token=`), needed when the server listens beyond loopback. */
export function accessToken(): string | null {
  return new URLSearchParams(location.search).get('token');
}

/** A same-origin URL carrying the access token, for links between pages and downloads. */
export function withToken(url: string): string {
  const t = accessToken();
  if (!t) return url;
  return `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(t)}`;
}

export interface ConnectionHandlers {
  message?(m: ServerMessage): void;
  /** A binary frame message, and when it arrived (performance.now()). */
  frame?(data: ArrayBuffer, receivedAt: number): void;
  open?(): void;
  close?(): void;
}

export interface ConnectionOptions {
  minRetryMs: number;
  maxRetryMs: number;
}

export class Connection {
  private ws: WebSocket | null = null;
  private retryMs: number;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** Times the socket opened; 1 on the first connection, more after reconnects. */
  connects = 0;
  private readonly o: ConnectionOptions;

  constructor(
    private readonly handlers: ConnectionHandlers,
    options: Partial<ConnectionOptions> = {},
  ) {
    this.o = { minRetryMs: 250, maxRetryMs: 2000, ...options };
    this.retryMs = this.o.minRetryMs;
  }

  start(): this {
    this.stopped = false;
    this.connect();
    return this;
  }

  private connect(): void {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const t = accessToken();
    const ws = new WebSocket(`${scheme}://${location.host}/ws${t ? `?token=${encodeURIComponent(t)}` : ''}`);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      this.connects++;
      this.retryMs = this.o.minRetryMs;
      this.handlers.open?.();
    };
    ws.onmessage = (e: MessageEvent<ArrayBuffer | string>) => {
      if (typeof e.data !== 'string') {
        this.handlers.frame?.(e.data, performance.now());
        return;
      }
      let m: ServerMessage;
      try {
        m = JSON.parse(e.data) as ServerMessage;
      } catch {
        console.warn('rhodops: a message from the server was not JSON; ignored');
        return;
      }
      this.handlers.message?.(m);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.handlers.close?.();
      if (this.stopped) return;
      this.retryTimer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.o.maxRetryMs, this.retryMs * 1.6);
    };
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Sends a control message; false (nothing sent) while disconnected. */
  send(msg: ControlMessage): boolean {
    if (!this.isOpen) return false;
    this.ws!.send(JSON.stringify(msg));
    return true;
  }

  /** Binary out (microphone PCM); skipped while the socket's buffer is over `maxBuffered` bytes. */
  sendBinary(data: ArrayBuffer | ArrayBufferView, maxBuffered = 256 * 1024): boolean {
    if (!this.isOpen || this.ws!.bufferedAmount > maxBuffered) return false;
    this.ws!.send(data as ArrayBuffer);
    return true;
  }

  close(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.ws?.close();
    this.ws = null;
  }
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** The REST API, with the access token; an error reply becomes an ApiError carrying the server's code and hint. */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const t = accessToken();
  const method = init.method ?? 'GET';
  // The server takes changes as JSON only (a cross-site page cannot send that without asking first).
  const body = init.body ?? (method === 'GET' ? undefined : {});
  const headers: Record<string, string> = {};
  if (t) headers['authorization'] = `Bearer ${t}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/api${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const json = (await res.json().catch(() => null)) as { error?: { code: string; message: string; hint?: string } } | null;
  if (!res.ok) throw new ApiError(json?.error?.code ?? `HTTP_${res.status}`, json?.error?.message ?? res.statusText, json?.error?.hint);
  return json as T;
}
