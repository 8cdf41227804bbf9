/**
 * The output pages' look for offline renders, so a video can look like what the projector showed: unsharp-mask
 * sharpening at the frame's own pixel scale, the colour stage (protocol/look.ts: saturation and hue, contrast,
 * brightness, gamma) and feedback trails, with the page shader's formulas. Trails are per displayed frame on a
 * page (60 a second on most projectors); a video frame keeps trails^(60/fps) of the one before, so a 30 fps video
 * fades as the projector did. Blending and the upscaling filter are the page's own business: a render has every
 * frame, and resizes with lanczos.
 */
import { colourIsIdentity, colourMatrix } from '../protocol/look.ts';
import type { DisplaySettings } from '../protocol/display.ts';

/** The refresh rate the trails setting was made for. */
const DISPLAY_HZ = 60;
const LEVELS = 1024;

export class Look {
  private readonly matrix: number[] = new Array<number>(9).fill(0);
  /** Gamma after contrast and brightness, on values quantized to 1/LEVELS: pow per pixel is the slow part. */
  private readonly gammaLut = new Float32Array(LEVELS + 1);
  private readonly keep: number;
  private prev: Float32Array | null = null;

  constructor(
    readonly settings: DisplaySettings,
    fps: number,
  ) {
    colourMatrix(settings.hue, settings.saturation, this.matrix);
    for (let i = 0; i <= LEVELS; i++) this.gammaLut[i] = Math.pow(i / LEVELS, 1 / settings.gamma);
    this.keep = settings.trails > 0 ? Math.pow(settings.trails, DISPLAY_HZ / fps) : 0;
  }

  /** Whether the look changes frames at the engine's size (sharpening). */
  get sharpens(): boolean {
    return this.settings.sharpen > 0;
  }

  /** Whether the look changes frames at the output size (colour, trails). */
  get colours(): boolean {
    return !colourIsIdentity(this.settings) || this.keep > 0;
  }

  /** Unsharp mask with the four direct neighbours (edges clamp), in place. */
  sharpen(rgb: Uint8Array, width: number, height: number): void {
    const amount = this.settings.sharpen;
    const src = Uint8Array.from(rgb);
    const at = (x: number, y: number, c: number) => src[(Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))) * 3 + c]!;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < 3; c++) {
          const v = at(x, y, c);
          const blur = 0.25 * (at(x + 1, y, c) + at(x - 1, y, c) + at(x, y + 1, c) + at(x, y - 1, c));
          rgb[(y * width + x) * 3 + c] = Math.min(255, Math.max(0, Math.round(v + amount * (v - blur))));
        }
      }
    }
  }

  /** Contrast about mid-grey, brightness, clamp, gamma (as the page's shader). */
  private tone(v: number): number {
    const x = Math.min(1, Math.max(0, (v - 0.5) * this.settings.contrast + 0.5 + this.settings.brightness));
    return this.gammaLut[Math.round(x * LEVELS)]!;
  }

  /** Whether a frame depends on the frames before it (trails): a render with them cannot resume midway. */
  get remembers(): boolean {
    return this.keep > 0;
  }

  /** The colour stage, then the trails of the frames before, in place. */
  colour(rgb: Uint8Array): void {
    const m = this.matrix;
    const identity = colourIsIdentity(this.settings);
    const prev = this.keep > 0 ? (this.prev ??= new Float32Array(rgb.length)) : null;
    for (let i = 0; i < rgb.length; i += 3) {
      let r = rgb[i]! / 255;
      let g = rgb[i + 1]! / 255;
      let b = rgb[i + 2]! / 255;
      if (!identity) {
        const r2 = this.tone(m[0]! * r + m[1]! * g + m[2]! * b);
        const g2 = this.tone(m[3]! * r + m[4]! * g + m[5]! * b);
        b = this.tone(m[6]! * r + m[7]! * g + m[8]! * b);
        r = r2;
        g = g2;
      }
      if (prev) {
        // A brighter new picture wins; the small subtraction lets dim trails reach black.
        r = Math.max(r, prev[i]! * this.keep - 1 / 512);
        g = Math.max(g, prev[i + 1]! * this.keep - 1 / 512);
        b = Math.max(b, prev[i + 2]! * this.keep - 1 / 512);
        prev[i] = r;
        prev[i + 1] = g;
        prev[i + 2] = b;
      }
      rgb[i] = Math.round(r * 255);
      rgb[i + 1] = Math.round(g * 255);
      rgb[i + 2] = Math.round(b * 255);
    }
  }
}
