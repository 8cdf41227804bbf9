/**
 * SVHN's cropped digits (train_32x32.mat, test_32x32.mat, extra_32x32.mat): MAT v5 files holding X, uint8
 * 32×32×3×N in MATLAB's column-major order, and y, N×1 labels 1..10 where 10 stands for the digit 0.
 */
import { promises as fs } from 'node:fs';
import { messageOf, RhodopsError } from '../../core/errors.ts';
import { logger } from '../../core/log.ts';
import { conformImages } from './convert.ts';
import { parseMat5, type MatVariable } from './mat5.ts';
import type { PreparedSource } from './types.ts';

const log = logger('datasets');
const fmt = (n: number) => n.toLocaleString('en-US');
const HINT = 'svhn:PATH takes SVHN\'s train_32x32.mat or test_32x32.mat (http://ufldl.stanford.edu/housenumbers/)';

/** X (H×W×C×N, column-major) as N images H×W×C, row-major HWC. */
export function columnMajorToHwc(x: Uint8Array, height: number, width: number, channels: number, count: number): Uint8Array {
  const out = new Uint8Array(x.length);
  const plane = height * width;
  const image = plane * channels;
  for (let n = 0; n < count; n++) {
    for (let c = 0; c < channels; c++) {
      const src = n * image + c * plane;
      for (let col = 0; col < width; col++) {
        for (let row = 0; row < height; row++) {
          out[n * image + (row * width + col) * channels + c] = x[src + col * height + row]!;
        }
      }
    }
  }
  return out;
}

/** SVHN labels: 10 means the digit 0; 0..9 pass through (so already-mapped files also load). */
export function svhnLabels(y: MatVariable, count: number, file: string): Int32Array {
  const data = y.data;
  if (!data || data.length !== count) {
    throw new RhodopsError('DATASET_INVALID', `${file}: y holds ${data?.length ?? 'no numeric'} values for ${fmt(count)} images.`, { hint: HINT });
  }
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = Number(data[i]);
    if (!Number.isInteger(v) || v < 0 || v > 10) {
      throw new RhodopsError('DATASET_INVALID', `${file}: y(${i + 1}) is ${v}; SVHN labels are integers 1..10.`, { hint: HINT });
    }
    labels[i] = v === 10 ? 0 : v;
  }
  return labels;
}

export async function prepareSvhn(file: string): Promise<PreparedSource & { location: string }> {
  const st = await fs.stat(file).catch(() => null);
  if (!st?.isFile()) throw new RhodopsError('DATASET_INVALID', `${file} ${st ? 'is not a file' : 'does not exist'}.`, { hint: HINT });
  return {
    location: file,
    fingerprint: `${st.size}:${st.mtimeMs}`,
    naturalChannels: 3,
    async decode(size, channels, onProgress) {
      const bytes = await fs.readFile(file).catch((e: unknown) => {
        throw new RhodopsError('DATASET_INVALID', `${file}: cannot read it (${messageOf(e)})`, { hint: 'check its permissions' });
      });
      const mat = await parseMat5(bytes, file);
      const X = mat.variables.find((v) => v.name === 'X');
      const y = mat.variables.find((v) => v.name === 'y');
      const names = mat.variables.map((v) => v.name).join(', ') || 'none';
      if (!X) throw new RhodopsError('DATASET_INVALID', `${file}: no variable X (variables: ${names}).`, { hint: HINT });
      if (X.class !== 'uint8' || !(X.data instanceof Uint8Array) || X.complex) {
        throw new RhodopsError('DATASET_INVALID', `${file}: X is ${X.complex ? 'complex ' : ''}${X.class}, expected uint8 images.`, { hint: HINT });
      }
      // H×W×C×N, or H×W×N for gray images (MATLAB drops trailing singleton dimensions, so N = 1 can look like H×W×C).
      const [height, width, c3, n4] = X.dims as [number, number, number?, number?];
      const channelsIn = X.dims.length === 4 ? c3! : X.dims.length === 3 && c3 === 3 ? 3 : 1;
      const count = X.dims.length === 4 ? n4! : X.dims.length === 3 && c3 !== 3 ? c3! : 1;
      if (X.dims.length > 4 || (channelsIn !== 1 && channelsIn !== 3)) {
        throw new RhodopsError('DATASET_INVALID', `${file}: X is ${X.dims.join('×')}, expected height×width×3×count.`, { hint: HINT });
      }
      if (count === 0) throw new RhodopsError('DATASET_INVALID', `${file}: X holds no images.`, { hint: HINT });
      let labels: Int32Array | undefined;
      if (y) labels = svhnLabels(y, count, file);
      else log.warn(`${file}: no variable y; loading without labels`);
      const hwc = columnMajorToHwc(X.data, height, width, channelsIn, count);
      const pixels = await conformImages(hwc, count, height, width, channelsIn as 1 | 3, size, channels, onProgress);
      onProgress(count, count);
      return { count, pixels, ...(labels ? { labels } : {}), source: `svhn ${file} (${fmt(count)} images${labels ? '' : ', no labels'})` };
    },
  };
}
