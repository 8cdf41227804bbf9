/**
 * How the output pages draw (`display` messages): blending between frames, the upscaling filter, sharpening,
 * trails, colour, gamma and fit. The server merges a change and tells every page, so this panel also follows
 * what another control page set.
 */
import type { DisplaySettings } from '../lib/protocol.ts';
import { h, panel } from './dom.ts';
import type { Page } from './page.ts';
import { Slider } from './slider.ts';

type NumericKey = 'sharpen' | 'trails' | 'brightness' | 'contrast' | 'saturation' | 'hue' | 'gamma';

const NUMERIC: { key: NumericKey; label: string; min: number; max: number; step: number; reset: number }[] = [
  { key: 'sharpen', label: 'sharpen', min: 0, max: 3, step: 0.01, reset: 0 },
  { key: 'trails', label: 'trails', min: 0, max: 0.98, step: 0.01, reset: 0 },
  { key: 'brightness', label: 'brightness', min: -1, max: 1, step: 0.01, reset: 0 },
  { key: 'contrast', label: 'contrast', min: 0, max: 3, step: 0.01, reset: 1 },
  { key: 'saturation', label: 'saturation', min: 0, max: 3, step: 0.01, reset: 1 },
  { key: 'hue', label: 'hue', min: -180, max: 180, step: 1, reset: 0 },
  { key: 'gamma', label: 'gamma', min: 0.2, max: 5, step: 0.01, reset: 1 },
];

export const DISPLAY_DEFAULTS: DisplaySettings = { blend: true, upscale: 'bicubic', sharpen: 0, trails: 0, brightness: 0, contrast: 1, saturation: 1, hue: 0, gamma: 1, fit: 'fit' };

export class DisplayPanel {
  readonly el: HTMLElement;
  private readonly blend = h('button', { testid: 'display-blend', attrs: { 'aria-pressed': 'true' }, on: { click: () => this.page.send({ type: 'display', settings: { blend: !this.blendOn } }) } });
  private blendOn = true;
  private readonly upscale = h('select', { testid: 'display-upscale', attrs: { 'aria-label': 'upscale' } });
  private readonly fit = h('select', { testid: 'display-fit', attrs: { 'aria-label': 'fit' } });
  private readonly sliders = new Map<NumericKey, Slider>();

  constructor(private readonly page: Page) {
    for (const v of ['nearest', 'bilinear', 'bicubic'] as const) this.upscale.append(h('option', { text: v, attrs: { value: v } }));
    for (const v of ['fit', 'fill', 'stretch'] as const) this.fit.append(h('option', { text: v, attrs: { value: v } }));
    this.upscale.addEventListener('change', () => page.send({ type: 'display', settings: { upscale: this.upscale.value as DisplaySettings['upscale'] } }));
    this.fit.addEventListener('change', () => page.send({ type: 'display', settings: { fit: this.fit.value as DisplaySettings['fit'] } }));
    for (const n of NUMERIC) {
      this.sliders.set(
        n.key,
        new Slider({
          id: `display-${n.key}`,
          label: n.label,
          min: n.min,
          max: n.max,
          step: n.step,
          value: DISPLAY_DEFAULTS[n.key],
          reset: n.reset,
          format: n.key === 'hue' ? (v) => `${v.toFixed(0)}°` : undefined,
          onChange: (value) => page.send({ type: 'display', settings: { [n.key]: value } }),
        }),
      );
    }
    const reset = h('button', { class: 'small', text: 'reset', testid: 'display-reset', on: { click: () => page.send({ type: 'display', settings: DISPLAY_DEFAULTS }) } });
    this.el = panel(
      'Output display',
      'panel-display',
      h('div', { class: 'row' }, this.blend, h('label', { class: 'inline' }, 'upscale ', this.upscale), h('label', { class: 'inline' }, 'fit ', this.fit), reset),
      ...[...this.sliders.values()].map((s) => s.el),
    );
    this.show(DISPLAY_DEFAULTS);
    page.bus.on('welcome', (m) => this.show(m.display));
    page.bus.on('display', (m) => this.show(m.settings));
  }

  private show(s: DisplaySettings): void {
    this.blendOn = s.blend;
    this.blend.textContent = s.blend ? 'blend on' : 'blend off';
    this.blend.classList.toggle('on', s.blend);
    this.blend.setAttribute('aria-pressed', String(s.blend));
    this.upscale.value = s.upscale;
    this.fit.value = s.fit;
    for (const [k, slider] of this.sliders) slider.set(s[k]);
  }
}
