/**
 * Recording takes: start and stop (POST /api/recordings/start|stop), the running take's elapsed time,
 * frames written and dropped (from `status`), and the takes on the server with download links.
 */
import type { TakeFile } from '../lib/protocol.ts';
import { withToken } from '../lib/connection.ts';
import type { TakeStats, TakeSummary } from '../lib/protocol.ts';
import { fill, h, panel } from './dom.ts';
import { bytes, clock } from './format.ts';
import type { Page } from './page.ts';

export class RecordingPanel {
  readonly el: HTMLElement;
  private readonly toggle = h('button', { class: 'rec', testid: 'rec-toggle', on: { click: () => this.toggleTake() } });
  private readonly smooth = h('input', { testid: 'rec-smooth', attrs: { type: 'checkbox' } });
  private readonly elapsed = h('span', { class: 'big mono', testid: 'rec-elapsed', text: '0:00' });
  private readonly written = h('span', { class: 'mono', testid: 'rec-written', text: '–' });
  private readonly dropped = h('span', { class: 'mono', testid: 'rec-dropped', text: '–' });
  private readonly state = h('span', { class: 'muted', testid: 'rec-state', text: 'idle' });
  private readonly takes = h('ul', { class: 'takes', testid: 'takes-list' });
  private take: TakeStats | null = null;
  /** performance.now() at the take's start, from its elapsed time: the clock runs between status messages. */
  private startedAt = 0;
  private busy = false;
  private lastTakeName: string | null = null;

  constructor(private readonly page: Page) {
    this.el = panel(
      'Recording',
      'panel-recording',
      h('div', { class: 'row' }, this.toggle, h('label', { class: 'check' }, this.smooth, 'smooth (2× fps)'), this.elapsed),
      h('div', { class: 'row stats-line' }, h('span', {}, 'written ', this.written), h('span', {}, 'dropped ', this.dropped), this.state),
      h('h3', { text: 'takes' }),
      this.takes,
    );
    this.paint();
    page.bus.on('welcome', () => void this.refresh());
    page.bus.on('status', (m) => {
      this.show(m.status.recording);
      // A take stopped from elsewhere (another page, the REST API): list it.
      const last = m.status.lastTake?.name ?? null;
      if (last !== this.lastTakeName) {
        this.lastTakeName = last;
        void this.refresh();
      }
    });
    setInterval(() => {
      if (this.take?.state === 'recording') this.elapsed.textContent = clock((performance.now() - this.startedAt) / 1000);
    }, 250);
  }

  private show(t: TakeStats | null): void {
    this.take = t;
    if (t) {
      this.startedAt = performance.now() - t.elapsedMs;
      this.elapsed.textContent = clock(t.elapsedMs / 1000);
      this.written.textContent = String(t.written);
      this.dropped.textContent = String(t.dropped);
      this.dropped.classList.toggle('bad', t.dropped > 0);
      this.state.textContent = `${t.state} · ${t.name} · ${t.width}×${t.height} @ ${t.fps} · ${bytes(t.bytes)}`;
    }
    this.paint();
  }

  private paint(): void {
    const on = this.take !== null;
    this.toggle.textContent = this.busy ? (on ? 'stopping…' : 'starting…') : on ? '■ stop' : '● record';
    this.toggle.classList.toggle('on', on);
    this.toggle.disabled = this.busy;
    this.el.classList.toggle('recording', on);
    if (!on && !this.busy) this.state.textContent = this.lastTakeName ? `idle · last take ${this.lastTakeName}` : 'idle';
  }

  private async toggleTake(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.paint();
    try {
      if (this.take) {
        const summary = await this.page.call<TakeSummary>('/recordings/stop', { method: 'POST' }, 'stop recording');
        this.take = null;
        if (summary) {
          this.lastTakeName = summary.name;
          const drops = summary.framesDropped ? `, ${summary.framesDropped} dropped` : '';
          this.page.toasts.show(summary.error ? 'warn' : 'info', `take ${summary.name}: ${summary.durationS.toFixed(1)} s, ${summary.framesWritten} frames${drops}${summary.error ? `; ${summary.error.message}` : ''}`);
        }
        await this.refresh();
      } else {
        const stats = await this.page.call<TakeStats>('/recordings/start', { method: 'POST', body: { smooth: this.smooth.checked } }, 'start recording');
        if (stats) this.show(stats);
      }
    } finally {
      this.busy = false;
      this.paint();
    }
  }

  async refresh(): Promise<void> {
    const files = await this.page.call<TakeFile[]>('/recordings', {}, 'takes');
    if (!files) return;
    const byTake = new Map<string, TakeFile[]>();
    for (const f of files) byTake.set(f.take, [...(byTake.get(f.take) ?? []), f]);
    if (byTake.size === 0) {
      fill(this.takes, h('li', { class: 'muted', text: 'no takes yet' }));
      return;
    }
    fill(
      this.takes,
      ...[...byTake].map(([take, list]) => {
        const duration = list.find((f) => f.durationS !== undefined)?.durationS;
        return h(
          'li',
          { testid: 'take', attrs: { 'data-take': take } },
          h('span', { class: 'take-name', text: take }),
          h('span', { class: 'muted', text: duration !== undefined ? clock(duration) : '' }),
          h(
            'span',
            { class: 'links' },
            ...list.map((f) =>
              f.recording
                ? h('span', { class: 'muted', text: 'recording…' })
                : h('a', { class: 'button small', testid: 'take-link', text: `${f.kind === 'smooth' ? 'smooth mp4' : f.kind} ${bytes(f.bytes)}`, attrs: { href: withToken(`/recordings/${encodeURIComponent(f.file)}`), download: f.file } }),
            ),
          ),
        );
      }),
    );
  }
}
