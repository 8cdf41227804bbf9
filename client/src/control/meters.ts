/**
 * Audio meters from the server's `meters` messages (~15 a second): level (rms), bass / mid / treble bars,
 * an onset flash, tempo and beat phase. They fall to zero when the messages stop (the source ended), so a
 * frozen bar never pretends there is sound.
 */
import type { MeterFeatures } from '../lib/protocol.ts';
import { h } from './dom.ts';
import { flash } from './learn.ts';

const BARS = ['rms', 'bass', 'mid', 'treble'] as const;
const LABELS: Record<(typeof BARS)[number], string> = { rms: 'level', bass: 'bass', mid: 'mid', treble: 'treble' };
/** Without a message for this long, the meters fall to zero. */
const STALE_MS = 600;

export class Meters {
  readonly el: HTMLElement;
  private readonly bars = new Map<string, { row: HTMLElement; fill: HTMLElement }>();
  private readonly onset = h('span', { class: 'onset', testid: 'meter-onset', title: 'onset' });
  private readonly tempo = h('span', { class: 'mono', testid: 'meter-tempo', text: '– BPM' });
  private readonly beat = h('span', { class: 'beat-fill' });
  private lastAt = -Infinity;

  constructor() {
    const rows = BARS.map((k) => {
      const fill = h('span', { class: 'fill' });
      const row = h('div', { class: `meter ${k}`, testid: `meter-${k === 'rms' ? 'level' : k}`, attrs: { 'data-value': 0 } }, h('span', { class: 'mlabel', text: LABELS[k] }), h('span', { class: 'track' }, fill));
      this.bars.set(k, { row, fill });
      return row;
    });
    this.el = h('div', { class: 'meters', testid: 'meters' }, ...rows, h('div', { class: 'row beat-row' }, this.onset, this.tempo, h('span', { class: 'beat', title: 'beat phase' }, this.beat)));
    setInterval(() => {
      if (performance.now() - this.lastAt > STALE_MS && this.lastAt > 0) {
        this.lastAt = 0;
        this.clear();
      }
    }, 250);
  }

  show(f: MeterFeatures): void {
    this.lastAt = performance.now();
    for (const k of BARS) this.set(k, f[k]);
    if (f.onset) flash(this.onset);
    this.tempo.textContent = f.tempo > 0 ? `${f.tempo.toFixed(1)} BPM` : '– BPM';
    this.beat.style.transform = `scaleX(${f.tempo > 0 ? f.beatPhase : 0})`;
    this.el.dataset['tempo'] = String(f.tempo);
  }

  clear(): void {
    for (const k of BARS) this.set(k, 0);
    this.tempo.textContent = '– BPM';
    this.beat.style.transform = 'scaleX(0)';
  }

  private set(k: string, v: number): void {
    const b = this.bars.get(k);
    if (!b) return;
    const x = Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0));
    b.fill.style.transform = `scaleX(${x})`;
    b.row.dataset['value'] = x.toFixed(3);
  }
}
