/**
 * What every panel shares: the connection, a typed bus of the server's messages, the toasts, and the latest
 * of what the server said (model, state, mapping, status), so a panel built late still starts in step.
 */
import { api, Connection } from '../lib/connection.ts';
import type { ControlMessage, DisplaySettings, LatentJson, LiveControls, MappingJson, ModelInfo, ServerMessage, ServerStatus } from '../lib/protocol.ts';
import { report } from './report.ts';
import type { Toasts } from './toasts.ts';

export type MessageType = ServerMessage['type'];
export type MessageOf<T extends MessageType> = Extract<ServerMessage, { type: T }>;
/** Events beyond the server's JSON messages: the socket's own state, and binary frames. */
interface LocalEvents {
  open: undefined;
  close: undefined;
  frame: { data: ArrayBuffer; at: number };
}
export type PageEvents = { [T in MessageType]: MessageOf<T> } & LocalEvents;

export class Bus {
  private readonly handlers = new Map<string, ((m: never) => void)[]>();

  on<K extends keyof PageEvents>(type: K, fn: (m: PageEvents[K]) => void): void {
    const list = this.handlers.get(type) ?? [];
    list.push(fn as (m: never) => void);
    this.handlers.set(type, list);
  }

  emit<K extends keyof PageEvents>(type: K, ...m: PageEvents[K] extends undefined ? [] : [PageEvents[K]]): void {
    for (const fn of this.handlers.get(type) ?? []) {
      // One panel's failure must not starve the others of the message.
      try {
        (fn as (m: unknown) => void)(m[0]);
      } catch (e) {
        report(e, `handling '${type}'`);
      }
    }
  }
}

/** The latest of what the server said. */
export interface Known {
  model: ModelInfo | null;
  state: LatentJson | null;
  controls: LiveControls | null;
  mapping: MappingJson | null;
  display: DisplaySettings | null;
  status: ServerStatus | null;
  fps: number | 'max' | null;
}

export class Page {
  readonly bus = new Bus();
  readonly known: Known = { model: null, state: null, controls: null, mapping: null, display: null, status: null, fps: null };
  readonly conn: Connection;
  private offlineNoticeAt = -Infinity;

  constructor(readonly toasts: Toasts) {
    this.conn = new Connection({
      message: (m) => this.receive(m),
      frame: (data, at) => this.bus.emit('frame', { data, at }),
      open: () => this.bus.emit('open'),
      close: () => this.bus.emit('close'),
    });
  }

  start(): void {
    this.conn.start();
  }

  private receive(m: ServerMessage): void {
    const k = this.known;
    switch (m.type) {
      case 'welcome':
        Object.assign(k, { model: m.model, state: m.state, controls: m.controls, mapping: m.mapping, display: m.display, fps: m.fps });
        break;
      case 'state':
        k.state = m.state;
        k.controls = m.controls;
        break;
      case 'model':
        k.model = m.model;
        break;
      case 'mapping':
      case 'learned':
        k.mapping = m.mapping;
        break;
      case 'display':
        k.display = m.settings;
        break;
      case 'status':
        k.status = m.status;
        break;
      case 'error':
        this.toasts.show(m.code === 'RATE_LIMITED' ? 'warn' : 'error', `${m.message} (${m.code})`);
        break;
      default:
        break;
    }
    (this.bus.emit as (type: MessageType, m: ServerMessage) => void)(m.type, m);
  }

  /** Sends a control message; while the socket is down it says so (once in a while, not per knob tick). */
  send(msg: ControlMessage): boolean {
    const sent = this.conn.send(msg);
    if (!sent && performance.now() - this.offlineNoticeAt > 4000) {
      this.offlineNoticeAt = performance.now();
      this.toasts.show('warn', 'not connected to the server: the change was not sent', 'the page reconnects by itself; check that rhodops is running');
    }
    return sent;
  }

  /** A REST call whose failure becomes a toast (with the server's hint); resolves to null then. */
  async call<T>(path: string, init: { method?: string; body?: unknown } = {}, context?: string): Promise<T | null> {
    try {
      return await api<T>(path, init);
    } catch (e) {
      this.toasts.error(e, context);
      return null;
    }
  }
}
