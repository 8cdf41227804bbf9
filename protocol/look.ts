/**
 * The colour stage of the output pages' look, as plain math (no zod, no DOM), so the pages' shader and the offline
 * renderer compute the same thing: saturation and hue as one matrix, then contrast, brightness and gamma.
 */
import type { DisplaySettings } from './display.ts';

/** Rec. 709 luma: saturation 0 keeps the brightness people see. */
const LUMA = [0.2126, 0.7152, 0.0722] as const;

/**
 * Saturation × hue rotation as a row-major 3×3 matrix (written into `out`, 9 numbers). The hue turns
 * colours about the grey axis, so greys stay grey and hue 0 with saturation 1 is exactly the identity.
 */
export function colourMatrix(hueDeg: number, saturation: number, out: number[]): void {
  const a = (hueDeg * Math.PI) / 180;
  const c = Math.cos(a);
  const s = Math.sin(a) * Math.sqrt(1 / 3);
  const k = (1 - c) / 3;
  const hue = [c + k, k - s, k + s, k + s, c + k, k - s, k - s, k + s, c + k];
  for (let r = 0; r < 3; r++) {
    for (let col = 0; col < 3; col++) {
      let v = 0;
      for (let i = 0; i < 3; i++) {
        const sat = (1 - saturation) * LUMA[i]! + (r === i ? saturation : 0);
        v += sat * hue[i * 3 + col]!;
      }
      out[r * 3 + col] = v;
    }
  }
}

/** Whether the colour stage changes anything (off, it is skipped). */
export function colourIsIdentity(s: DisplaySettings): boolean {
  return s.brightness === 0 && s.contrast === 1 && s.saturation === 1 && s.hue === 0 && s.gamma === 1;
}
