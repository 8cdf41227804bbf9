/**
 * The latent controls, built from the model's latent layout and the server's direction count: direction
 * sliders, a segmented selector and a crossfader per categorical code, continuous codes, truncation, drift,
 * smoothing and new noise. Rebuilt when the layout changes (another model, a mapping that wants more
 * directions); moved by every `state` message, so MIDI and audio moving a control through the mapping show.
 */
import type { LatentJson, LiveControls, ModelInfo } from '../lib/protocol.ts';
import { fill, h, panel } from './dom.ts';
import type { LearnManager } from './learn.ts';
import type { Page } from './page.ts';
import { Slider } from './slider.ts';
import { Throttled } from './throttle.ts';
import type { LearnTarget } from './targets.ts';
import { CAMERA_MOVES, CONTRAST_MAX, FLASH_MAX, ROTATE_MAX_DEG, ZOOM_MAX, type CameraMove } from '../../../core/camera.ts';

const CAMERA_HINTS: Record<CameraMove, string> = {
  flash: `towards white, up to ${Math.round(FLASH_MAX * 100)} %`,
  contrast: `a punch, up to ${1 + CONTRAST_MAX}× the contrast`,
  zoom: `in, up to ${1 + ZOOM_MAX}×`,
  rotate: `a turn, up to ±${ROTATE_MAX_DEG}°`,
};

const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}`;

/** A categorical code: tap a value, or crossfade between two chosen values. */
class CategoryControl {
  readonly el: HTMLElement;
  private readonly buttons: HTMLButtonElement[] = [];
  private readonly fader: Slider;
  private from = 0;
  private to = 1;
  /** The crossfader's learn target, updated in place when the pair changes (the learn button holds it). */
  private readonly fadeTarget: { kind: 'category crossfade'; code: number; values: number[] };

  constructor(
    private readonly page: Page,
    learn: LearnManager,
    private readonly code: number,
    values: number,
  ) {
    this.fadeTarget = { kind: 'category crossfade', code, values: [0, 1] };
    const select = h('div', { class: 'segmented', attrs: { role: 'group', 'aria-label': `code ${code} value` } });
    for (let v = 0; v < values; v++) {
      const b = h('button', { class: 'seg', text: String(v), testid: `category-${code}-${v}`, on: { click: () => this.page.send({ type: 'category', code, value: v }) } });
      this.buttons.push(b);
      select.append(b);
    }
    const selectTarget: LearnTarget = { kind: 'category select', code };
    const selectSources = h('span', { class: 'sources', testid: `sources-category-${code}` });
    const selectRow = h(
      'div',
      { class: 'control category', testid: `control-category-${code}` },
      h('label', { class: 'name' }, h('span', { text: `category ${code}` }), selectSources),
      select,
      learn.button(selectTarget, selectSources, `learn-category-${code}`),
    );
    const pick = (which: 'from' | 'to', initial: number) => {
      const s = h('select', { testid: `crossfade-${code}-${which}`, attrs: { 'aria-label': `crossfade ${which}` } });
      for (let v = 0; v < values; v++) s.append(h('option', { text: String(v), attrs: { value: v } }));
      s.value = String(initial);
      s.addEventListener('change', () => {
        this[which] = Number(s.value);
        this.fadeTarget.values = [this.from, this.to];
        this.sendFade(Number(this.fader.input.value));
      });
      return s;
    };
    this.fader = new Slider({
      id: `crossfade-${code}`,
      label: 'crossfade',
      min: 0,
      max: 1,
      step: 0.001,
      value: 0,
      onChange: (t) => this.sendFade(t),
      learn: { manager: learn, target: this.fadeTarget },
    });
    this.fader.el.classList.add('crossfader');
    const pair = h('div', { class: 'pair' }, pick('from', 0), h('span', { text: '→' }), pick('to', 1));
    this.fader.el.querySelector('.name')?.append(pair);
    this.el = h('div', { class: 'group' }, selectRow, this.fader.el);
  }

  private sendFade(t: number): void {
    this.page.send({ type: 'crossfade', code: this.code, from: this.from, to: this.to, t });
  }

  show(weights: number[] | undefined): void {
    if (!weights) return;
    let best = 0;
    weights.forEach((w, i) => {
      if (w > (weights[best] ?? 0)) best = i;
      this.buttons[i]?.style.setProperty('--w', String(w));
    });
    this.buttons.forEach((b, i) => b.classList.toggle('on', i === best));
    // The crossfader follows only when the mix is between its own pair.
    const a = weights[this.from] ?? 0;
    const b = weights[this.to] ?? 0;
    if (this.from !== this.to && a + b > 0.99) this.fader.set(b / (a + b));
  }
}

export class LatentPanel {
  readonly el: HTMLElement;
  private readonly body = h('div', { class: 'latent-body' });
  private signature = '';
  private directions: Slider[] = [];
  private continuous: Slider[] = [];
  private categories: CategoryControl[] = [];
  private drift: Slider | null = null;
  private truncation: Slider | null = null;
  private smoothing: Slider | null = null;

  constructor(
    private readonly page: Page,
    private readonly learn: LearnManager,
  ) {
    this.el = panel('Latent', 'panel-latent', this.body);
    const update = () => this.update();
    page.bus.on('welcome', update);
    page.bus.on('model', update);
    page.bus.on('state', update);
  }

  private update(): void {
    const { model, state, controls } = this.page.known;
    if (!model || !controls) return;
    const sig = `${model.latent.noise}/${model.latent.categorical.join(',')}/${model.latent.continuous}/${this.directionCount(model, controls)}`;
    if (sig !== this.signature) {
      this.signature = sig;
      this.build(model, controls);
    }
    this.show(state, controls);
  }

  /**
   * One slider per direction knob; never more than the noise size, since the server makes no more directions
   * than that (its controls list may still hold the default eight for a model with less noise).
   */
  private directionCount(model: ModelInfo, controls: LiveControls): number {
    return Math.min(controls.directions.length, model.latent.noise);
  }

  private build(model: ModelInfo, controls: LiveControls): void {
    const { page, learn } = this;
    learn.clear();
    // Sends for each control go through their own slider's throttle; these are the messages.
    this.directions = controls.directions.slice(0, this.directionCount(model, controls)).map(
      (v, i) =>
        new Slider({
          id: `direction-${i}`,
          label: `direction ${i}`,
          min: -3,
          max: 3,
          step: 0.01,
          value: v,
          reset: 0,
          format: signed,
          onChange: (value) => page.send({ type: 'direction', index: i, value }),
          learn: { manager: learn, target: { kind: 'direction', index: i } },
        }),
    );
    this.continuous = Array.from(
      { length: model.latent.continuous },
      (_, i) =>
        new Slider({
          id: `continuous-${i}`,
          label: `code ${i}`,
          min: -2,
          max: 2,
          step: 0.01,
          value: 0,
          reset: 0,
          format: signed,
          onChange: (value) => page.send({ type: 'continuous', index: i, value }),
          learn: { manager: learn, target: { kind: 'continuous', index: i } },
        }),
    );
    this.categories = model.latent.categorical.map((k, code) => new CategoryControl(page, learn, code, k));
    this.truncation = new Slider({
      id: 'truncation',
      label: 'truncation ψ',
      min: 0,
      max: 1,
      step: 0.01,
      value: controls.truncation,
      reset: 1,
      onChange: (psi) => page.send({ type: 'truncation', psi }),
      learn: { manager: learn, target: { kind: 'truncation' } },
    });
    this.drift = new Slider({
      id: 'drift',
      label: 'drift speed',
      min: 0,
      max: 2,
      step: 0.01,
      value: controls.driftSpeed,
      reset: 0,
      onChange: (speed) => page.send({ type: 'drift', speed }),
      learn: { manager: learn, target: { kind: 'drift speed' } },
    });
    this.smoothing = new Slider({
      id: 'smoothing',
      label: 'smoothing',
      min: 0,
      max: 2,
      step: 0.01,
      value: controls.smoothing,
      format: (v) => `${v.toFixed(2)} s`,
      onChange: (timeConstant) => page.send({ type: 'smoothing', timeConstant }),
    });
    const reseedSources = h('span', { class: 'sources', testid: 'sources-reseed' });
    // "New noise" fires on every tap, so a double tap must not be eaten by zooming (touch-action in CSS).
    const newNoise = new Throttled<void>(() => page.send({ type: 'randomize' }), 100);
    const top = h(
      'div',
      { class: 'control noise' },
      h('button', { class: 'primary', text: 'new noise', testid: 'randomize', on: { click: () => newNoise.push() } }),
      reseedSources,
      learn.button({ kind: 'reseed' }, reseedSources, 'learn-reseed'),
    );
    const section = (title: string, ...rows: HTMLElement[]) => (rows.length ? h('div', { class: 'subsection' }, h('h3', { text: title }), ...rows) : null);
    fill(
      this.body,
      top,
      section('directions', ...this.directions.map((s) => s.el)),
      section('categories', ...this.categories.map((c) => c.el)),
      section('continuous codes', ...this.continuous.map((s) => s.el)),
      section('shape', this.truncation.el, this.drift.el, this.smoothing.el),
      section('camera (drawn by the output pages; learn a pad or a knob)', ...CAMERA_MOVES.map((move) => this.cameraRow(move, learn))),
    );
  }

  /** A camera move: what the mapping routes to it, and its learn button (the moves are momentary: no slider). */
  private cameraRow(move: CameraMove, learn: LearnManager): HTMLElement {
    const sources = h('span', { class: 'sources', testid: `sources-camera-${move}` });
    return h(
      'div',
      { class: 'control camera', testid: `control-camera-${move}` },
      h('label', { class: 'name' }, h('span', { text: move }), sources),
      h('span', { class: 'what', text: CAMERA_HINTS[move] }),
      learn.button({ kind: 'camera', move }, sources, `learn-camera-${move}`),
    );
  }

  private show(state: LatentJson | null, controls: LiveControls): void {
    controls.directions.forEach((v, i) => this.directions[i]?.set(v));
    this.truncation?.set(controls.truncation);
    this.drift?.set(controls.driftSpeed);
    this.smoothing?.set(controls.smoothing);
    if (!state) return;
    state.continuous.forEach((v, i) => this.continuous[i]?.set(v));
    this.categories.forEach((c, code) => c.show(state.categorical[code]));
  }
}
