/**
 * Server stats from `status` (once a second): frames per second against the target, engine and encode
 * times, skipped ticks, frames dropped for slow clients, the backend, memory, MIDI ports; and this page's
 * connection. Numbers that mean trouble turn red.
 */
import type { ServerStatus } from '../lib/protocol.ts';
import { h, panel } from './dom.ts';
import type { Page } from './page.ts';

export class StatsPanel {
  readonly el: HTMLElement;
  private readonly cells = new Map<string, HTMLElement>();
  private lastSkipped: number | null = null;

  constructor(private readonly page: Page) {
    const grid = h('dl', { class: 'stats' });
    for (const [key, label] of [
      ['fps', 'fps'],
      ['engine', 'engine'],
      ['encode', 'encode'],
      ['skipped', 'skipped ticks'],
      ['drops', 'client drops'],
      ['clients', 'pages'],
      ['backend', 'backend'],
      ['memory', 'memory'],
      ['midi', 'MIDI ports'],
      ['connection', 'connection'],
    ] as const) {
      const dd = h('dd', { testid: `stat-${key}`, text: '–' });
      this.cells.set(key, dd);
      grid.append(h('div', { class: `stat ${key}` }, h('dt', { text: label }), dd));
    }
    this.el = panel('Server', 'panel-stats', grid);
    page.bus.on('status', (m) => this.show(m.status));
    page.bus.on('open', () => this.connection());
    page.bus.on('close', () => this.connection());
    this.connection();
  }

  private set(key: string, text: string, bad = false): void {
    const el = this.cells.get(key);
    if (!el) return;
    el.textContent = text;
    el.classList.toggle('bad', bad);
  }

  private show(s: ServerStatus): void {
    const l = s.loop;
    const target = l.targetFps === 'max' ? null : l.targetFps;
    this.set('fps', `${l.fps.toFixed(1)} / ${target ?? 'max'}`, target !== null && l.fps < target * 0.9);
    this.set('engine', `${l.engineMs.toFixed(1)} ms`, target !== null && l.engineMs > 1000 / target);
    this.set('encode', `${l.encodeMs.toFixed(1)} ms`);
    // Cumulative since the server started: red only while it grows (a few at start-up are normal).
    this.set('skipped', String(l.skippedTicks), this.lastSkipped !== null && l.skippedTicks > this.lastSkipped);
    this.lastSkipped = l.skippedTicks;
    const drops = s.clients.reduce((n, c) => n + c.framesDropped, 0);
    this.set('drops', String(drops), drops > 0);
    this.set('clients', String(s.clients.length));
    this.set('backend', s.engine);
    this.set('memory', `${s.memory.rssMB} MB`);
    const ports = s.inputs.midi.ports.filter((p) => p.connected);
    this.set('midi', ports.length ? ports.map((p) => p.name).join(', ') : s.inputs.midi.available === false ? `none (${s.inputs.midi.reason ?? 'unavailable'})` : 'none');
    if (l.lastError) this.cells.get('engine')!.title = `last error: ${l.lastError}`;
  }

  private connection(): void {
    const open = this.page.conn.isOpen;
    this.set('connection', open ? `live (${this.page.conn.connects > 1 ? `reconnected ${this.page.conn.connects - 1}×` : 'connected'})` : 'reconnecting…', !open);
  }
}
