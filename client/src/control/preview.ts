/**
 * The live preview: the newest frame on a 2D canvas at the model's size, enlarged by CSS with
 * `image-rendering: pixelated`. A frame that arrives while the previous one still decodes is skipped
 * (the preview shows the newest, it never queues), and every ImageBitmap is closed once drawn.
 */
import { withToken } from '../lib/connection.ts';
import { decodeFrame, releaseFrame, type DecodedFrame } from '../lib/frames.ts';
import { h, panel } from './dom.ts';
import type { Page } from './page.ts';
import { report } from './report.ts';

export class Preview {
  readonly el: HTMLElement;
  private readonly canvas = h('canvas', { class: 'preview', testid: 'preview', attrs: { width: 64, height: 64 } });
  private readonly ctx: CanvasRenderingContext2D;
  private readonly info = h('span', { class: 'muted', testid: 'preview-info', text: 'waiting for frames…' });
  private decoding = false;
  /** Frames drawn and skipped, for the info line (per second). */
  private drawn = 0;
  private skipped = 0;
  private lastSeq = 0;
  /** Counts the tests read: frames drawn since the page opened. */
  private total = 0;

  constructor(page: Page) {
    const ctx = this.canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('this browser gives no 2D canvas; the preview cannot draw');
    this.ctx = ctx;
    const link = h('a', { class: 'button', text: 'open output ↗', testid: 'output-link', attrs: { href: withToken('/output'), target: '_blank', rel: 'noopener' } });
    this.el = panel('Preview', 'panel-preview', h('div', { class: 'preview-wrap' }, this.canvas), h('div', { class: 'row' }, this.info, link));
    page.bus.on('frame', ({ data, at }) => this.frame(data, at));
    setInterval(() => {
      this.info.textContent = `${this.drawn} fps shown${this.skipped ? `, ${this.skipped} skipped` : ''} · frame ${this.lastSeq}`;
      this.drawn = 0;
      this.skipped = 0;
    }, 1000);
  }

  private frame(data: ArrayBuffer, at: number): void {
    // Hidden tabs (a second control page) need no decoding at all.
    if (this.decoding || document.hidden) {
      this.skipped++;
      return;
    }
    this.decoding = true;
    decodeFrame(data, at)
      .then((f) => {
        if (f) this.draw(f);
      })
      .catch((e: unknown) => report(e, 'preview'))
      .finally(() => (this.decoding = false));
  }

  private draw(f: DecodedFrame): void {
    try {
      const { width, height } = f.header;
      if (this.canvas.width !== width || this.canvas.height !== height) {
        this.canvas.width = width;
        this.canvas.height = height;
      }
      if (f.pixels.kind === 'bitmap') this.ctx.drawImage(f.pixels.bitmap, 0, 0, width, height);
      else {
        // rgbToRgba made the array over a plain ArrayBuffer of its own; ImageData wants that said.
        const { data } = f.pixels;
        this.ctx.putImageData(new ImageData(new Uint8ClampedArray(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength), width, height), 0, 0);
      }
      this.drawn++;
      this.total++;
      this.lastSeq = f.header.seq;
      this.canvas.dataset['frames'] = String(this.total);
      if (this.total === 1) this.info.textContent = `${width}×${height} · frame ${this.lastSeq}`;
    } finally {
      releaseFrame(f);
    }
  }
}
