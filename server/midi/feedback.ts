/**
 * Feedback to controllers: after a preset recall the knobs' LEDs and motorised faders should show the recalled
 * values. Values are normalised like the events the knobs send, so the mapping engine can invert its transform
 * and hand back what it got.
 */
import type { NormalRange } from '../../core/latent/units.ts';

export interface FeedbackValue {
  /** 0–15. */
  channel: number;
  /** 0–127; 0–31 when `highRes`. */
  controller: number;
  /** 0–1, clamped; sent as round(value × 127), or × 16383 as an MSB/LSB pair when `highRes`. */
  value: NormalRange;
  /** Send as a 14-bit pair (CC controller, then CC controller + 32). */
  highRes?: boolean;
}

/** Why a value cannot be sent, or null. */
export function feedbackProblem(v: FeedbackValue): string | null {
  const maxController = v.highRes ? 31 : 127;
  if (!Number.isInteger(v.channel) || v.channel < 0 || v.channel > 15) return `channel must be 0–15, got ${String(v.channel)}`;
  if (!Number.isInteger(v.controller) || v.controller < 0 || v.controller > maxController) return `controller must be 0–${maxController}, got ${String(v.controller)}`;
  if (typeof v.value !== 'number' || Number.isNaN(v.value)) return `value must be a number from 0 to 1, got ${String(v.value)}`;
  return null;
}

/** The control change messages for one valid value. */
export function feedbackMessages(v: FeedbackValue): number[][] {
  const status = 0xb0 | v.channel;
  const x = Math.min(1, Math.max(0, v.value));
  if (!v.highRes) return [[status, v.controller, Math.round(x * 127)]];
  const v14 = Math.round(x * 16383);
  return [
    [status, v.controller, v14 >> 7],
    [status, v.controller + 32, v14 & 0x7f],
  ];
}
