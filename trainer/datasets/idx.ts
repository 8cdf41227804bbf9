/**
 * IDX files, the format of MNIST, Fashion-MNIST and EMNIST (gzipped or not: told by the gzip magic bytes,
 * not the name). Header: two zero bytes, the element type (0x08 = unsigned byte), the number of dimensions,
 * then each dimension as a big-endian uint32; then the elements, row-major. Images files are 0x00000803
 * (N × rows × cols), labels files 0x00000801 (N).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { messageOf, RhodopsError } from '../../core/errors.ts';
import { logger } from '../../core/log.ts';
import { conformImages } from './convert.ts';
import type { PreparedSource } from './types.ts';

const log = logger('datasets');
const gunzip = promisify(zlib.gunzip);

const IDX_TYPES: Record<number, string> = { 0x08: 'unsigned byte', 0x09: 'signed byte', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };
const EXPECT = {
  images: { magic: 0x00000803, dims: 3, noun: 'images' },
  labels: { magic: 0x00000801, dims: 1, noun: 'labels' },
} as const;
export type IdxKind = keyof typeof EXPECT;

export interface IdxData {
  dims: number[];
  /** The elements, row-major (a view into the file's bytes). */
  data: Uint8Array;
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
const fmt = (n: number) => n.toLocaleString('en-US');
const REDOWNLOAD = 'download the file again (MNIST / Fashion-MNIST *-idx3-ubyte.gz and *-idx1-ubyte.gz files)';

/** Checks and parses the bytes of an IDX file (already decompressed); `file` names it in errors. */
export function parseIdx(bytes: Uint8Array, file: string, kind: IdxKind, gzipped = false): IdxData {
  const expect = EXPECT[kind];
  const fail = (what: string, hint = REDOWNLOAD) => new RhodopsError('DATASET_INVALID', `${file}: ${what}`, { hint });
  const wanted = `the IDX ${expect.noun} magic ${hex(expect.magic)} (unsigned bytes, ${expect.dims} dimension${expect.dims > 1 ? 's' : ''})`;
  if (bytes.length < 4) throw fail(`truncated: ${bytes.length} bytes${gzipped ? ' after decompression' : ''}, expected ${wanted}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expect.magic) {
    const other = kind === 'images' ? EXPECT.labels : EXPECT.images;
    if (magic === other.magic) {
      throw fail(`is an IDX ${other.noun} file (magic ${hex(magic)}), expected ${wanted}`, `pass the ${expect.noun} file (e.g. train-${expect.noun}-idx${expect.dims === 3 ? 3 : 1}-ubyte.gz)`);
    }
    if (bytes[0] === 0 && bytes[1] === 0 && bytes[3] === expect.dims && bytes[2] !== 0x08) {
      const type = IDX_TYPES[bytes[2]!] ?? 'an unknown type';
      throw fail(`holds ${type} elements (type 0x${bytes[2]!.toString(16)}); rhodops reads unsigned bytes (0x08)`);
    }
    throw fail(`not an IDX ${expect.noun} file: it starts with ${hex(magic)}, expected ${wanted}${gzipped ? ' after decompression' : ''}`);
  }
  const headerBytes = 4 + 4 * expect.dims;
  if (bytes.length < headerBytes) throw fail(`truncated: ${bytes.length} bytes, shorter than the ${headerBytes}-byte header`);
  const dims: number[] = [];
  for (let i = 0; i < expect.dims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const elements = dims.reduce((a, b) => a * b, 1);
  const needed = headerBytes + elements;
  const shape = kind === 'images' ? `${fmt(dims[0]!)} images of ${dims[1]}×${dims[2]}` : `${fmt(dims[0]!)} labels`;
  if (bytes.length < needed) {
    throw fail(`truncated: its header says ${shape} (${fmt(needed)} bytes), the file has ${fmt(bytes.length)}${gzipped ? ' after decompression' : ''}`);
  }
  if (bytes.length > needed) log.warn(`${file}: ${fmt(bytes.length - needed)} bytes after the ${shape} its header announces; ignoring them`);
  if (elements === 0) throw fail(`holds no ${expect.noun} (its header says ${shape})`);
  return { dims, data: bytes.subarray(headerBytes, needed) };
}

/** Reads an IDX file, gunzipping it when it starts with the gzip magic bytes. */
export async function readIdx(file: string, kind: IdxKind): Promise<IdxData> {
  let bytes: Uint8Array = await fs.readFile(file).catch((e: unknown) => {
    throw new RhodopsError('DATASET_INVALID', `${file}: cannot read it (${messageOf(e)})`, { hint: 'check the path and its permissions' });
  });
  const gzipped = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (gzipped) {
    try {
      bytes = await gunzip(bytes);
    } catch (e) {
      throw new RhodopsError('DATASET_INVALID', `${file}: the gzip data is truncated or corrupt (${messageOf(e)})`, { hint: REDOWNLOAD });
    }
  }
  return parseIdx(bytes, file, kind, gzipped);
}

const IMAGES_NAME = /images[.-]idx3-ubyte(\.gz)?$/i;

/** The images file a path names: the file itself, or the one *images-idx3-ubyte[.gz] in a folder (preferring train-). */
async function findImagesFile(p: string): Promise<string> {
  const st = await fs.stat(p).catch(() => null);
  if (!st) throw new RhodopsError('DATASET_INVALID', `${p} does not exist.`, { hint: 'idx:PATH takes an *-images-idx3-ubyte[.gz] file or the folder that holds it' });
  if (!st.isDirectory()) return p;
  const found = (await fs.readdir(p)).filter((n) => IMAGES_NAME.test(n)).sort();
  const train = found.filter((n) => n.toLowerCase().includes('train'));
  const pick = found.length === 1 ? found[0] : train.length === 1 ? train[0] : undefined;
  if (pick) {
    if (found.length > 1) log.info(`${p}: using ${pick} (also there: ${found.filter((n) => n !== pick).join(', ')})`);
    return path.join(p, pick);
  }
  throw new RhodopsError(
    'DATASET_INVALID',
    found.length === 0 ? `${p} holds no IDX images file (*-images-idx3-ubyte or *-images-idx3-ubyte.gz).` : `${p} holds several IDX images files: ${found.join(', ')}.`,
    { hint: 'name the file: idx:PATH/train-images-idx3-ubyte.gz' },
  );
}

/** The labels file beside an images file: "images" → "labels", "idx3" → "idx1", gzipped or not. */
async function findLabelsFile(imagesFile: string): Promise<string | undefined> {
  const base = path.basename(imagesFile).replace(/images/i, 'labels').replace(/idx3/i, 'idx1');
  if (base === path.basename(imagesFile)) return undefined;
  const plain = base.replace(/\.gz$/i, '');
  for (const name of [base, plain, `${plain}.gz`]) {
    const candidate = path.join(path.dirname(imagesFile), name);
    if ((await fs.stat(candidate).catch(() => null))?.isFile()) return candidate;
  }
  return undefined;
}

async function stamp(file: string): Promise<string> {
  const st = await fs.stat(file);
  return `${path.basename(file)}:${st.size}:${st.mtimeMs}`;
}

export async function prepareIdx(p: string): Promise<PreparedSource & { location: string }> {
  const imagesFile = await findImagesFile(p);
  const labelsFile = await findLabelsFile(imagesFile);
  const fingerprint = [await stamp(imagesFile), labelsFile ? await stamp(labelsFile) : 'no labels'].join('|');
  return {
    location: imagesFile,
    fingerprint,
    naturalChannels: 1,
    async decode(size, channels, onProgress) {
      const images = await readIdx(imagesFile, 'images');
      const [count, rows, cols] = images.dims as [number, number, number];
      let labels: Int32Array | undefined;
      if (labelsFile) {
        const l = await readIdx(labelsFile, 'labels');
        if (l.dims[0] !== count) {
          throw new RhodopsError('DATASET_INVALID', `${labelsFile}: holds ${fmt(l.dims[0]!)} labels for the ${fmt(count)} images of ${path.basename(imagesFile)}.`, {
            hint: 'use the labels file of the same split (train- with train-, t10k- with t10k-)',
          });
        }
        labels = Int32Array.from(l.data);
      } else {
        log.info(`${imagesFile}: no labels file beside it; loading without labels`);
      }
      const pixels = await conformImages(images.data, count, rows, cols, 1, size, channels, onProgress);
      onProgress(count, count);
      const what = labels ? `labels from ${path.basename(labelsFile!)}` : 'no labels';
      return { count, pixels, ...(labels ? { labels } : {}), source: `idx ${imagesFile} (${fmt(count)} images, ${what})` };
    },
  };
}
