/**
 * The output page's text: a status overlay shown on a key (s or h), refreshed a few times a second while
 * shown, and a small dim corner note while the server is away. Plain DOM over the canvas; nothing here runs
 * in the display loop.
 */
import type { ModelInfo, ServerStatus } from '../lib/protocol.ts';
import type { OutputStats } from './hooks.ts';

export interface OverlayState {
  stats: OutputStats;
  model: ModelInfo | null;
  server: ServerStatus | null;
  /** Problems with the page's URL overrides, shown so a typo is not silently ignored. */
  problems: string[];
}

const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '–');

export function statusText(s: OverlayState): string {
  const st = s.stats;
  const d = st.settings;
  const m = s.model;
  const loop = s.server?.loop;
  const lines = [
    `rhodops output · ${st.connected ? 'connected' : 'reconnecting…'} · connects ${st.connects}`,
    m ? `model   ${m.name} (${m.kind}, ${m.width}×${m.height}, ${m.engine})` : 'model   –',
    `frame   ${st.frameWidth}×${st.frameHeight} · seq ${st.lastShownSeq < 0 ? '–' : st.lastShownSeq}`,
    `in      ${fmt(st.receivedFps)} fps · ${st.framesReceived} frames · ${st.framesDropped} dropped (decoder busy) · decode ${fmt(st.decodeMs)} ms · upload ${fmt(st.uploadMs)} ms`,
    `shown   ${fmt(st.displayFps)} pictures/s · blend ${d.blend ? 'on' : 'off'} · drawn at ${Math.round(st.renderScale * 100)}% resolution`,
    `delay   capture→display p50 ${fmt(st.delayP50Ms, 0)} ms · p95 ${fmt(st.delayP95Ms, 0)} ms · playout ${fmt(st.playoutDelayMs, 0)} ms`,
    loop ? `server  ${fmt(loop.fps)} fps (target ${loop.targetFps}) · engine ${fmt(loop.engineMs)} ms · encode ${fmt(loop.encodeMs)} ms · skipped ${loop.skippedTicks}` : 'server  –',
    `display ${d.upscale} · sharpen ${d.sharpen} · trails ${d.trails} · ${d.fit} · brightness ${d.brightness} · contrast ${d.contrast} · saturation ${d.saturation} · hue ${d.hue}° · gamma ${d.gamma}`,
    ...s.problems.map((p) => `ignored ${p}`),
    'keys    f / double-click: full screen · s or h: this overlay',
  ];
  return lines.join('\n');
}

export class Overlay {
  private readonly status: HTMLPreElement;
  private readonly note: HTMLDivElement;
  private timer: ReturnType<typeof setInterval> | null = null;
  private noteTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    parent: HTMLElement,
    private readonly state: () => OverlayState,
  ) {
    this.status = document.createElement('pre');
    this.status.id = 'status';
    this.status.hidden = true;
    this.note = document.createElement('div');
    this.note.id = 'note';
    this.note.textContent = 'reconnecting…';
    this.note.hidden = true;
    parent.append(this.status, this.note);
  }

  get visible(): boolean {
    return !this.status.hidden;
  }

  toggle(): void {
    this.status.hidden = !this.status.hidden;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.status.hidden) return;
    this.refresh();
    this.timer = setInterval(() => this.refresh(), 250);
  }

  private refresh(): void {
    this.status.textContent = statusText(this.state());
  }

  /** The server went away: the last picture stays, and after 2 s a small note says why it no longer moves. */
  disconnected(): void {
    if (this.noteTimer) return;
    this.noteTimer = setTimeout(() => {
      this.note.hidden = false;
    }, 2000);
  }

  connected(): void {
    if (this.noteTimer) clearTimeout(this.noteTimer);
    this.noteTimer = null;
    this.note.hidden = true;
  }
}
