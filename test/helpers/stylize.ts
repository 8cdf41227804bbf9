/** Pictures and measures that the style-transfer tests share. */
import { blankImage, type RgbFloatImage } from '../../trainer/stylize/image.ts';

export function image(width: number, height: number, f: (x: number, y: number) => [number, number, number]): RgbFloatImage {
  const img = blankImage(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) img.data.set(f(x, y), (y * width + x) * 3);
  }
  return img;
}

/** Vertical black and white stripes, `period` pixels per pair. */
export const stripes = (size: number, period: number) => image(size, size, (x) => (x % period < period / 2 ? [0, 0, 0] : [255, 255, 255]));
export const flat = (size: number, v: number) => image(size, size, () => [v, v, v]);

/** Mean squared difference between horizontal (dx = 1) and vertical (dy = 1) neighbours, all channels. */
export function gradientEnergy(img: RgbFloatImage): { horizontal: number; vertical: number } {
  const { width: w, height: h, data } = img;
  let hs = 0, vs = 0;
  for (let y = 0; y < h - 1; y++) {
    for (let x = 0; x < w - 1; x++) {
      for (let c = 0; c < 3; c++) {
        const p = data[(y * w + x) * 3 + c]!;
        hs += (data[(y * w + x + 1) * 3 + c]! - p) ** 2;
        vs += (data[((y + 1) * w + x) * 3 + c]! - p) ** 2;
      }
    }
  }
  const n = (w - 1) * (h - 1) * 3;
  return { horizontal: hs / n, vertical: vs / n };
}
