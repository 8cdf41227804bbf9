/**
 * MIDI learn from the page: a small button on each control arms it (`learn` with the control's target), the
 * next MIDI control moved on any port becomes its source (the server's `learned`), and the control's label
 * shows that source. Esc, the banner's cancel, or the button again disarm (`learnCancel`). The server's
 * status says what is armed, so a page that reloads, or another page, shows the same.
 */
import { h } from './dom.ts';
import { sourcesByTarget } from './mapping-labels.ts';
import type { Page } from './page.ts';
import { sameTarget, targetId, type LearnTarget } from './targets.ts';

interface Binding {
  target: LearnTarget;
  button: HTMLButtonElement;
  sources: HTMLElement | null;
}

/** A local arm or cancel wins over status messages for this long (one may already be on its way). */
const LOCAL_WINS_MS = 2500;

export class LearnManager {
  private bindings: Binding[] = [];
  private armed: LearnTarget | null = null;
  private localAt = -Infinity;
  readonly banner = h('div', { class: 'learn-banner', testid: 'learn-banner', attrs: { hidden: true } });
  private readonly bannerText = h('span');

  constructor(private readonly page: Page) {
    this.banner.append(this.bannerText, h('button', { class: 'small', text: 'cancel', testid: 'learn-cancel', on: { click: () => this.cancel() } }));
    page.bus.on('welcome', () => this.refreshSources());
    page.bus.on('mapping', () => this.refreshSources());
    page.bus.on('learned', (m) => {
      this.refreshSources();
      const route = m.mapping.routes[m.route] as { target?: LearnTarget } | undefined;
      const target = route?.target;
      this.setArmed(null);
      this.localAt = performance.now();
      if (!target) return;
      const texts = sourcesByTarget(m.mapping).get(targetId(target)) ?? [];
      page.toasts.show('info', `learned: ${texts.at(-1) ?? 'a control'} → ${targetId(target)}`);
      for (const b of this.live()) if (sameTarget(b.target, target)) flash(b.button.closest('.control') ?? b.button);
    });
    page.bus.on('status', (m) => {
      if (performance.now() - this.localAt < LOCAL_WINS_MS) return;
      const learning = m.status.inputs.learning;
      if ((learning === null) !== (this.armed === null) || (learning && this.armed && !sameTarget(learning, this.armed))) this.setArmed(learning);
    });
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.armed && !document.querySelector('dialog[open]')) this.cancel();
    });
  }

  /** A learn button for `target`; `sources` (if given) shows what the mapping routes to it. */
  button(target: LearnTarget, sources: HTMLElement | null, testid: string): HTMLButtonElement {
    const button = h('button', {
      class: 'learn',
      testid,
      title: 'MIDI learn: tap, then move a knob or fader',
      attrs: { 'aria-pressed': 'false', 'aria-label': `MIDI learn for ${targetId(target)}` },
      on: { click: () => (this.armed && sameTarget(this.armed, target) ? this.cancel() : this.arm(target)) },
    });
    button.textContent = 'L';
    this.bindings.push({ target, button, sources });
    this.paint();
    if (sources) this.fillSources(sources, target);
    return button;
  }

  arm(target: LearnTarget): void {
    if (!this.page.send({ type: 'learn', target })) return;
    this.localAt = performance.now();
    this.setArmed(target);
  }

  cancel(): void {
    this.page.send({ type: 'learnCancel' });
    this.localAt = performance.now();
    this.setArmed(null);
  }

  private setArmed(t: LearnTarget | null): void {
    this.armed = t;
    this.paint();
  }

  /** Forgets every button: their controls are about to be rebuilt (a new model, more directions). */
  clear(): void {
    this.bindings = [];
  }

  private live(): Binding[] {
    return this.bindings;
  }

  private paint(): void {
    for (const b of this.live()) {
      const on = this.armed !== null && sameTarget(this.armed, b.target);
      b.button.classList.toggle('armed', on);
      b.button.setAttribute('aria-pressed', String(on));
    }
    this.banner.hidden = this.armed === null;
    if (this.armed) this.bannerText.textContent = `MIDI learn: move a knob, fader or key for ${targetId(this.armed)} (Esc cancels)`;
  }

  private refreshSources(): void {
    for (const b of this.live()) if (b.sources) this.fillSources(b.sources, b.target);
  }

  private fillSources(el: HTMLElement, target: LearnTarget): void {
    const list = sourcesByTarget(this.page.known.mapping).get(targetId(target)) ?? [];
    el.textContent = list.join(', ');
    el.title = list.length ? `mapped from ${list.join(', ')}` : 'nothing mapped; tap L to learn';
  }
}

export function flash(el: Element): void {
  el.classList.remove('flash');
  // Restart the animation: reading layout between removing and adding the class makes the browser see both.
  void (el as HTMLElement).offsetWidth;
  el.classList.add('flash');
}
