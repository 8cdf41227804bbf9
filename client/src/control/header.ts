/**
 * The top bar, readable from a step back: the connection (live / reconnecting), the model, the frame rate,
 * a recording light, and the link to the output page.
 */
import { withToken } from '../lib/connection.ts';
import { h } from './dom.ts';
import type { Page } from './page.ts';

export class Header {
  readonly el: HTMLElement;
  private readonly conn = h('span', { class: 'pill', testid: 'connection', text: 'connecting…' });
  private readonly model = h('span', { class: 'model', testid: 'header-model' });
  private readonly fps = h('span', { class: 'pill mono', testid: 'header-fps', text: '– fps' });
  private readonly rec = h('span', { class: 'pill rec-light', testid: 'header-rec', text: '● REC', attrs: { hidden: true } });

  constructor(private readonly page: Page) {
    this.el = h(
      'header',
      { class: 'topbar' },
      h('span', { class: 'brand', text: 'rhodops' }),
      this.conn,
      this.model,
      h('span', { class: 'spacer' }),
      this.rec,
      this.fps,
      h('a', { class: 'button small', text: 'output ↗', attrs: { href: withToken('/output'), target: '_blank', rel: 'noopener' } }),
    );
    page.bus.on('open', () => this.connection());
    page.bus.on('close', () => this.connection());
    page.bus.on('welcome', (m) => (this.model.textContent = m.model.name));
    page.bus.on('model', (m) => (this.model.textContent = m.model.name));
    page.bus.on('status', (m) => {
      const l = m.status.loop;
      this.fps.textContent = `${l.fps.toFixed(0)}/${l.targetFps} fps`;
      this.rec.hidden = m.status.recording === null;
    });
    this.connection();
  }

  private connection(): void {
    const open = this.page.conn.isOpen;
    this.conn.textContent = open ? 'live' : this.page.conn.connects > 0 ? 'reconnecting…' : 'connecting…';
    this.conn.classList.toggle('ok', open);
    this.conn.classList.toggle('bad', !open);
    document.body.classList.toggle('offline', !open);
  }
}
