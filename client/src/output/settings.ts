/**
 * Display settings on the output page: the server's (welcome / display messages) are the default, and URL
 * parameters may override them on one page (`/output?blend=0&upscale=nearest`), for testing a projector.
 * Also the pure arithmetic the renderer feeds its shader: fit scale and the hue/saturation matrix.
 */
import { DEFAULT_DISPLAY } from '../../../protocol/display-defaults.ts';
import type { DisplayChange, DisplaySettings } from '../lib/protocol.ts';

/** Until the server's welcome: the server's own defaults. */
export const INITIAL_DISPLAY: DisplaySettings = DEFAULT_DISPLAY;

// The server's ranges (server/display-settings.ts validates what pages send); a URL value out of range is clamped.
const RANGES = {
  sharpen: [0, 3],
  trails: [0, 0.98],
  brightness: [-1, 1],
  contrast: [0, 3],
  saturation: [0, 3],
  hue: [-180, 180],
  gamma: [0.2, 5],
} as const satisfies Partial<Record<keyof DisplaySettings, readonly [number, number]>>;

const UPSCALES: readonly DisplaySettings['upscale'][] = ['nearest', 'bilinear', 'bicubic'];
const FITS: readonly DisplaySettings['fit'][] = ['fit', 'fill', 'stretch'];

/** The overrides in a query string; unknown names and unreadable values are reported, not applied. */
export function overridesFromQuery(search: string): { change: DisplayChange; problems: string[] } {
  const q = new URLSearchParams(search);
  const change: DisplayChange = {};
  const problems: string[] = [];
  const blend = q.get('blend');
  if (blend !== null) {
    if (/^(1|true|on)$/i.test(blend)) change.blend = true;
    else if (/^(0|false|off)$/i.test(blend)) change.blend = false;
    else problems.push(`blend=${blend} (use 0 or 1)`);
  }
  const upscale = q.get('upscale');
  if (upscale !== null) {
    const u = UPSCALES.find((x) => x === upscale);
    if (u) change.upscale = u;
    else problems.push(`upscale=${upscale} (use ${UPSCALES.join(', ')})`);
  }
  const fit = q.get('fit');
  if (fit !== null) {
    const f = FITS.find((x) => x === fit);
    if (f) change.fit = f;
    else problems.push(`fit=${fit} (use ${FITS.join(', ')})`);
  }
  for (const [key, [lo, hi]] of Object.entries(RANGES) as [keyof typeof RANGES, readonly [number, number]][]) {
    const raw = q.get(key);
    if (raw === null) continue;
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v)) problems.push(`${key}=${raw} (a number from ${lo} to ${hi})`);
    else change[key] = Math.min(hi, Math.max(lo, v));
  }
  return { change, problems };
}

/**
 * How much of the frame one screen spans, per axis, about the centre: above 1 leaves bars (fit), below 1
 * crops (fill). Screen uv u maps to frame uv (u − ½) × scale + ½.
 */
export function fitScale(fit: DisplaySettings['fit'], frameW: number, frameH: number, screenW: number, screenH: number, out: { x: number; y: number }): void {
  out.x = 1;
  out.y = 1;
  if (fit === 'stretch' || frameW <= 0 || frameH <= 0 || screenW <= 0 || screenH <= 0) return;
  // r > 1: the screen is wider than the frame.
  const r = screenW / screenH / (frameW / frameH);
  if (fit === 'fit') {
    if (r > 1) out.x = r;
    else out.y = 1 / r;
  } else {
    if (r > 1) out.y = 1 / r;
    else out.x = r;
  }
}

