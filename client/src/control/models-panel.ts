/**
 * The model switcher: the server's models (GET /api/models), switched with POST /api/models/switch. The
 * server loads the model while frames keep coming from the old one and answers when it has loaded (or with
 * why it could not: a toast), so the panel shows "switching" until the answer or the `model` message.
 */
import type { ModelEntry } from '../lib/protocol.ts';
import { fill, h, panel } from './dom.ts';
import type { Page } from './page.ts';

export class ModelsPanel {
  readonly el: HTMLElement;
  private readonly select = h('select', { testid: 'model-select', attrs: { 'aria-label': 'model' } });
  private readonly info = h('div', { class: 'muted small', testid: 'model-info' });
  private models: ModelEntry[] = [];
  private current = '';
  /** The model asked for, until it plays or the switch ends without it. */
  private pending: ModelEntry | null = null;

  constructor(private readonly page: Page) {
    this.select.addEventListener('change', () => void this.switchTo(this.select.value));
    this.el = panel('Model', 'panel-models', this.select, this.info);
    page.bus.on('welcome', () => void this.refresh());
    page.bus.on('model', (m) => {
      if (this.pending) page.toasts.show('info', `now playing ${m.model.name}`);
      this.pending = null;
      void this.refresh();
    });
    page.bus.on('status', () => this.describe());
  }

  async refresh(): Promise<void> {
    const r = await this.page.call<{ current: string; models: ModelEntry[] }>('/models', {}, 'models');
    if (!r) return;
    this.models = r.models;
    this.current = r.current;
    // The current model may lie outside the model folders (given on the command line): list it anyway.
    const known = r.models.some((m) => m.path === r.current);
    fill(
      this.select,
      ...(known ? [] : [h('option', { text: this.page.known.model?.name ?? r.current, attrs: { value: r.current } })]),
      ...r.models.map((m) => h('option', { text: `${m.name} (${m.kind}${m.resolution ? ` ${m.resolution}²` : ''})`, attrs: { value: m.path } })),
    );
    this.select.value = this.pending?.path ?? r.current;
    this.describe();
  }

  private async switchTo(path: string): Promise<void> {
    const m = this.models.find((x) => x.path === path);
    if (!m || path === this.current) return;
    this.pending = m;
    this.describe();
    const r = await this.page.call<{ switched: string }>('/models/switch', { method: 'POST', body: { model: m.path } }, 'switch model');
    if (!r) {
      this.pending = null;
      this.select.value = this.current;
    }
    this.describe();
  }

  private describe(): void {
    const info = this.page.known.model;
    this.el.classList.toggle('switching', this.pending !== null);
    if (this.pending) {
      this.info.textContent = `switching to ${this.pending.name}… (frames continue from the current model)`;
      return;
    }
    if (!info) return;
    const l = info.latent;
    const codes = [l.categorical.length ? `categories ${l.categorical.join('+')}` : '', l.continuous ? `${l.continuous} continuous` : ''].filter(Boolean).join(', ');
    this.info.textContent = `${info.name} · ${info.kind} ${info.width}×${info.height} · noise ${l.noise}${codes ? ` · ${codes}` : ''}`;
  }
}
