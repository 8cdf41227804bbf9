/**
 * Messages for the performer: server errors, failed requests (with the server's hint), notices. Bottom of
 * the screen, gone after a few seconds or on a tap; a message repeated within seconds (a rate limit, a knob
 * moved past a limit) updates its count instead of stacking.
 */
import { ApiError } from '../lib/connection.ts';
import { h } from './dom.ts';

export type ToastKind = 'error' | 'warn' | 'info';

const SHOW_MS: Record<ToastKind, number> = { error: 8000, warn: 6000, info: 3500 };
const MAX_TOASTS = 5;

interface Shown {
  el: HTMLElement;
  count: number;
  timer: ReturnType<typeof setTimeout>;
}

export class Toasts {
  readonly el = h('div', { class: 'toasts', testid: 'toasts', attrs: { role: 'status', 'aria-live': 'polite' } });
  private readonly shown = new Map<string, Shown>();

  show(kind: ToastKind, message: string, hint?: string): void {
    const key = `${kind}\n${message}`;
    const old = this.shown.get(key);
    if (old) {
      old.count++;
      const badge = old.el.querySelector('.count');
      if (badge) badge.textContent = `×${old.count}`;
      clearTimeout(old.timer);
      old.timer = setTimeout(() => this.remove(key), SHOW_MS[kind]);
      return;
    }
    const el = h(
      'div',
      { class: `toast ${kind}`, testid: `toast-${kind}`, on: { click: () => this.remove(key) } },
      h('div', { class: 'msg', text: message }, h('span', { class: 'count' })),
      hint ? h('div', { class: 'hint', text: `→ ${hint}` }) : null,
    );
    this.el.append(el);
    this.shown.set(key, { el, count: 1, timer: setTimeout(() => this.remove(key), SHOW_MS[kind]) });
    while (this.shown.size > MAX_TOASTS) this.remove(this.shown.keys().next().value as string);
  }

  /** An error of any kind: an ApiError with its code and hint, an Error, anything else. */
  error(e: unknown, context?: string): void {
    const prefix = context ? `${context}: ` : '';
    if (e instanceof ApiError) this.show('error', `${prefix}${e.message} (${e.code})`, e.hint);
    // fetch() rejects with a TypeError when no answer came at all (server stopped, network gone).
    else if (e instanceof TypeError && /fetch|network/i.test(e.message)) this.show('error', `${prefix}the server did not answer`, 'is rhodops still running? The page reconnects by itself');
    else if (e instanceof Error) this.show('error', `${prefix}${e.message}`);
    else this.show('error', `${prefix}${String(e)}`);
  }

  private remove(key: string): void {
    const s = this.shown.get(key);
    if (!s) return;
    clearTimeout(s.timer);
    s.el.remove();
    this.shown.delete(key);
  }
}
