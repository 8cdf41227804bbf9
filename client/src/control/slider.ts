/**
 * One labelled slider row: label (and what the mapping routes to it), the range, its value, a learn button.
 * Touch-sized (see control.css). Values from the server move it, except while the performer holds it (or
 * just let go: a state message already on its way would otherwise pull the thumb back for a moment).
 */
import { h, range } from './dom.ts';
import type { LearnManager } from './learn.ts';
import { Throttled } from './throttle.ts';
import type { LearnTarget } from './targets.ts';

export interface SliderOptions {
  /** For data-testid: slider-ID, value-ID, learn-ID, sources-ID. */
  id: string;
  label: string;
  min: number;
  max: number;
  step: number;
  value: number;
  /** Called with the new value, at most 60 times a second, the last value always. */
  onChange(value: number): void;
  format?(value: number): string;
  /** A learn button for this target. */
  learn?: { manager: LearnManager; target: LearnTarget };
  /** Double-tap (or double-click) returns to this value. */
  reset?: number;
}

/** After the performer lets go, server values wait this long (the state echo of the last drag values). */
const SETTLE_MS = 350;

export class Slider {
  readonly el: HTMLElement;
  readonly input: HTMLInputElement;
  private readonly readout: HTMLElement;
  private held = false;
  private lastLocal = -Infinity;
  private readonly out: Throttled<number>;

  constructor(private readonly o: SliderOptions) {
    this.out = new Throttled((v) => o.onChange(v));
    this.input = range({ min: o.min, max: o.max, step: o.step, value: clamp(o.value, o.min, o.max), testid: `slider-${o.id}`, label: o.label });
    this.readout = h('span', { class: 'value', testid: `value-${o.id}` });
    const sources = h('span', { class: 'sources', testid: `sources-${o.id}` });
    const name = h('label', { class: 'name' }, h('span', { text: o.label }), sources);
    const learn = o.learn ? o.learn.manager.button(o.learn.target, sources, `learn-${o.id}`) : null;
    this.el = h('div', { class: `control slider${learn ? '' : ' no-learn'}`, testid: `control-${o.id}` }, name, this.input, this.readout, learn);
    this.show(o.value);

    const release = () => {
      this.held = false;
      this.lastLocal = performance.now();
      this.out.flush();
    };
    this.input.addEventListener('pointerdown', () => (this.held = true));
    this.input.addEventListener('pointerup', release);
    this.input.addEventListener('pointercancel', release);
    this.input.addEventListener('blur', release);
    this.input.addEventListener('input', () => this.local(Number(this.input.value)));
    if (o.reset !== undefined) {
      const to = o.reset;
      this.input.addEventListener('dblclick', () => {
        this.input.value = String(to);
        this.local(to);
        this.out.flush();
      });
    }
  }

  /** A value from the server (skipped while the performer holds the slider). */
  set(value: number): void {
    if (this.busy) return;
    this.input.value = String(clamp(value, this.o.min, this.o.max));
    this.show(value);
  }

  get busy(): boolean {
    return this.held || performance.now() - this.lastLocal < SETTLE_MS;
  }

  private local(v: number): void {
    this.lastLocal = performance.now();
    this.show(v);
    this.out.push(v);
  }

  private show(v: number): void {
    this.readout.textContent = this.o.format ? this.o.format(v) : v.toFixed(2);
    this.el.dataset['value'] = String(v);
  }
}

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
