/**
 * A tiny element helper: h('button', { class: 'x', testid: 'y', on: { click } }, 'text'). Listeners are
 * guarded, so a failing handler becomes a toast, never an uncaught error.
 */
import { guard } from './report.ts';

type Listeners = { [E in keyof HTMLElementEventMap]?: (e: HTMLElementEventMap[E]) => unknown };
export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  /** data-testid, for the tests. */
  testid?: string;
  text?: string;
  title?: string;
  attrs?: Record<string, string | number | boolean | undefined>;
  on?: Listeners;
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.testid) el.dataset['testid'] = props.testid;
  if (props.text !== undefined) el.textContent = props.text;
  if (props.title) el.title = props.title;
  for (const [k, v] of Object.entries(props.attrs ?? {})) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const [type, fn] of Object.entries(props.on ?? {}) as [string, (e: Event) => unknown][]) {
    el.addEventListener(type, (e) => guard(() => fn(e), `${tag} ${type}`));
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces an element's children. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** A titled panel: <section class="panel"><h2>title</h2>…</section>. */
export function panel(title: string, testid: string, ...children: Child[]): HTMLElement {
  return h('section', { class: `panel ${testid}`, testid }, h('h2', { text: title }), ...children);
}

/** A native range input; sliders are ranges styled for touch (see control.css). */
export function range(o: { min: number; max: number; step: number; value: number; testid?: string; label: string }): HTMLInputElement {
  const el = h('input', { ...(o.testid ? { testid: o.testid } : {}), attrs: { type: 'range', min: o.min, max: o.max, step: o.step, 'aria-label': o.label } });
  el.value = String(o.value);
  return el;
}

/** True while the user is typing text (so single-key shortcuts must not fire). */
export function isTextEntry(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (!(target instanceof HTMLInputElement)) return false;
  return !['range', 'checkbox', 'radio', 'button', 'submit', 'reset', 'color', 'file'].includes(target.type);
}
