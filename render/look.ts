/**
 * The output pages' look for offline renders, so a video can look like what the projector showed: unsharp-mask
 * sharpening at the frame's own pixel scale, the colour stage (protocol/look.ts: saturation and hue, contrast,
 * brightness, gamma) and feedback trails, with the page shader's formulas. Trails are per displayed frame on a
 * page (60 a second on most projectors); a video frame keeps trails^(60/fps) of the one before, so a 30 fps video
 * fades as the projector did. Blending and the upscaling filter are the page's own business: a render has every
 * frame, and resizes with lanczos. The mapping's camera moves (core/camera.ts) are drawn here too, as the page
 * draws them: zoom and turn resample the frame (bilinear, mirrored past the edges), flash and punch follow the
 * colour stage.
 */
import { colourIsIdentity, colourMatrix } from '../protocol/look.ts';
import { cameraMatrix, cameraTone, isStill, NO_CAMERA, type Camera } from '../core/camera.ts';
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
  /** Per frame: each channel value's colour (colour stage off), or the matrix's products and what follows them. */
  private readonly byValue = new Float32Array(256);
  private readonly products = new Float32Array(9 * 256);
  private readonly afterMatrix = new Float32Array(LEVELS + 1);
  private readonly cam: number[] = [1, 0, 0, 1];

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

  /** Whether the look changes frames at the output size (colour, trails, or camera moves). */
  colours(camera: Readonly<Camera> = NO_CAMERA): boolean {
    return !colourIsIdentity(this.settings) || this.keep > 0 || !isStill(camera);
  }

  /**
   * The camera's zoom and turn: each output pixel samples the frame where the camera puts it (bilinear, mirrored
   * past the edges, as the page's shader). Returns `rgb` itself when there is neither; else a new buffer (the
   * encoder's pipe may still hold the one before).
   */
  move(rgb: Uint8Array, width: number, height: number, camera: Readonly<Camera>): Uint8Array {
    if (camera.zoom === 0 && camera.rotate === 0) return rgb;
    cameraMatrix(camera, width / height, this.cam);
    const [m0, m1, m2, m3] = this.cam as [number, number, number, number];
    const out = new Uint8Array(rgb.length);
    const mirror = (u: number) => (u >= 0 && u <= 1 ? u : 1 - Math.abs((((u % 2) + 2) % 2) - 1));
    const maxX = width - 1;
    const maxY = height - 1;
    // Frame units along a row change by a constant step: one multiply-add per pixel instead of the matrix.
    const du = m0 / width;
    const dv = m2 / width;
    let o = 0;
    for (let y = 0; y < height; y++) {
      const py = (y + 0.5) / height - 0.5;
      const px0 = 0.5 / width - 0.5;
      let u = m0 * px0 + m1 * py + 0.5;
      let v = m2 * px0 + m3 * py + 0.5;
      for (let x = 0; x < width; x++, u += du, v += dv, o += 3) {
        // Texel space, as texture() reads it: centres at k + 0.5, clamped at the edges.
        let sx = mirror(u) * width - 0.5;
        let sy = mirror(v) * height - 0.5;
        sx = sx < 0 ? 0 : sx > maxX ? maxX : sx;
        sy = sy < 0 ? 0 : sy > maxY ? maxY : sy;
        const x0 = sx | 0;
        const y0 = sy | 0;
        const fx = sx - x0;
        const fy = sy - y0;
        const a = (y0 * width + x0) * 3;
        const b = x0 < maxX ? a + 3 : a;
        const c = y0 < maxY ? a + width * 3 : a;
        const d = x0 < maxX ? c + 3 : c;
        for (let k = 0; k < 3; k++) {
          const top = rgb[a + k]! + (rgb[b + k]! - rgb[a + k]!) * fx;
          const bottom = rgb[c + k]! + (rgb[d + k]! - rgb[c + k]!) * fx;
          out[o + k] = top + (bottom - top) * fy + 0.5;
        }
      }
    }
    return out;
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

  /** Whether a frame depends on the frames before it (trails): a render with them cannot resume midway. */
  get remembers(): boolean {
    return this.keep > 0;
  }

  /**
   * The colour stage, the camera's flash and punch, then the trails of the frames before, in place. Per frame,
   * everything before the trails is folded into tables: per channel value where the colour stage is off, else
   * the matrix's products per channel value (contrast and brightness folded in) and one table of what follows.
   */
  colour(rgb: Uint8Array, camera: Readonly<Camera> = NO_CAMERA): void {
    const still = camera.flash === 0 && camera.contrast === 0;
    const keep = this.keep;
    const prev = keep > 0 ? (this.prev ??= new Float32Array(rgb.length)) : null;
    if (colourIsIdentity(this.settings)) {
      const f = this.byValue;
      for (let v = 0; v < 256; v++) f[v] = still ? v / 255 : cameraTone(v / 255, camera);
      for (let i = 0; i < rgb.length; i++) {
        let x = f[rgb[i]!]!;
        // A brighter new picture wins; the small subtraction lets dim trails reach black.
        if (prev) prev[i] = x = Math.max(x, prev[i]! * keep - 1 / 512);
        rgb[i] = x * 255 + 0.5;
      }
      return;
    }
    const { contrast, brightness } = this.settings;
    const t = this.products;
    for (let j = 0; j < 9; j++) for (let v = 0; v < 256; v++) t[j * 256 + v] = (contrast * this.matrix[j]! * v) / 255;
    const offset = 0.5 - 0.5 * contrast + brightness;
    const after = this.afterMatrix;
    for (let i = 0; i <= LEVELS; i++) after[i] = still ? this.gammaLut[i]! : cameraTone(this.gammaLut[i]!, camera);
    for (let i = 0; i < rgb.length; i += 3) {
      const r = rgb[i]!;
      const g = rgb[i + 1]! + 256;
      const b = rgb[i + 2]! + 512;
      for (let c = 0; c < 3; c++) {
        const row = c * 768;
        const y = t[row + r]! + t[row + g]! + t[row + b]! + offset;
        let x = after[((y < 0 ? 0 : y > 1 ? 1 : y) * LEVELS + 0.5) | 0]!;
        if (prev) prev[i + c] = x = Math.max(x, prev[i + c]! * keep - 1 / 512);
        rgb[i + c] = x * 255 + 0.5;
      }
    }
  }
}
