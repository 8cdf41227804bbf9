/**
 * A folder of images (WikiArt, your own paintings): every file sharp reads, found recursively and taken in
 * path order; each resized so its short side is `size`, centre-cropped to size × size, alpha flattened onto
 * black, as RGB or luminance gray. A file that cannot be read is skipped with one warning, never a crash.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { messageOf, RhodopsError } from '../../core/errors.ts';
import { logger } from '../../core/log.ts';
import { convertChannels, RESIZE_KERNEL } from './convert.ts';
import { IN_FLIGHT, mapBounded, withSharpThreads } from './pool.ts';
import type { PreparedSource } from './types.ts';

const log = logger('datasets');
const fmt = (n: number) => n.toLocaleString('en-US');

/** Extensions of the formats sharp 0.35's prebuilt libvips reads (sharp.format: jpeg, png, webp, gif, tiff, heif/avif, svg). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heif', '.svg'];
/** Image formats sharp cannot read: reported as skipped (so a folder of BMPs says why), not silently ignored. */
export const UNREADABLE_IMAGE_FORMATS: Record<string, string> = {
  '.bmp': 'BMP',
  '.dib': 'BMP',
  '.ico': 'ICO',
  '.psd': 'Photoshop',
  '.heic': 'HEIC (HEVC)',
  '.jxl': 'JPEG XL',
  '.jp2': 'JPEG 2000',
  '.j2k': 'JPEG 2000',
  '.tga': 'TGA',
  '.ppm': 'PPM',
  '.pgm': 'PGM',
  '.pnm': 'PNM',
  '.exr': 'OpenEXR',
};
const HINT = 'folder:PATH takes a folder of .jpg, .png, .webp, .gif, .tif or .avif images (searched recursively)';

interface Entry {
  /** Relative to the folder, with '/' separators: the sort key and the name in messages. */
  rel: string;
  abs: string;
  size: number;
  mtimeMs: number;
}

/** Image files under `root`, recursively, sorted by relative path; dot-files and dot-folders are left out. */
async function listImages(root: string): Promise<Entry[]> {
  const out: Entry[] = [];
  const seen = new Set<string>();
  const walk = async (dir: string, rel: string): Promise<void> => {
    const real = await fs.realpath(dir);
    if (seen.has(real)) return; // a symlink loop
    seen.add(real);
    for (const d of await fs.readdir(dir, { withFileTypes: true })) {
      if (d.name.startsWith('.')) continue; // .DS_Store, ._photo.jpg (macOS resource forks), .git
      const abs = path.join(dir, d.name);
      const relName = rel ? `${rel}/${d.name}` : d.name;
      const st = d.isSymbolicLink() ? await fs.stat(abs).catch(() => null) : null;
      if (d.isDirectory() || st?.isDirectory()) {
        await walk(abs, relName);
      } else if (d.isFile() || st?.isFile()) {
        const ext = path.extname(d.name).toLowerCase();
        if (!IMAGE_EXTENSIONS.includes(ext) && !(ext in UNREADABLE_IMAGE_FORMATS)) continue; // not an image: ignored silently
        const s = st ?? (await fs.stat(abs));
        out.push({ rel: relName, abs, size: s.size, mtimeMs: s.mtimeMs });
      }
    }
  };
  await walk(root, '');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** One image file as size × size × channels bytes. */
export async function decodeImageFile(file: string, size: number, channels: 1 | 3): Promise<Uint8Array> {
  const { data, info } = await sharp(file, { failOn: 'error', autoOrient: true })
    .resize(size, size, { fit: 'cover', position: 'centre', kernel: RESIZE_KERNEL })
    .flatten({ background: '#000000' })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.width !== size || info.height !== size) throw new Error(`decoded to ${info.width}×${info.height}, expected ${size}×${size}`);
  const pixelCount = size * size;
  let rgb: Uint8Array = data;
  if (info.channels === 1) rgb = convertChannels(data, pixelCount, 1, 3);
  else if (info.channels !== 3) {
    rgb = new Uint8Array(pixelCount * 3);
    for (let i = 0; i < pixelCount; i++) rgb.set(data.subarray(i * info.channels, i * info.channels + 3), i * 3);
  }
  return convertChannels(rgb, pixelCount, 3, channels);
}

export async function prepareFolder(root: string): Promise<PreparedSource & { location: string }> {
  const st = await fs.stat(root).catch(() => null);
  if (!st) throw new RhodopsError('DATASET_INVALID', `${root} does not exist.`, { hint: HINT });
  if (!st.isDirectory()) throw new RhodopsError('DATASET_INVALID', `${root} is a file, not a folder.`, { hint: HINT });
  const entries = await listImages(root);
  if (entries.length === 0) {
    throw new RhodopsError('DATASET_INVALID', `${root} holds no image files (looked for ${IMAGE_EXTENSIONS.join(' ')}, recursively).`, { hint: HINT });
  }
  const hash = createHash('sha1');
  for (const e of entries) hash.update(`${e.rel}\t${e.size}\t${e.mtimeMs}\n`);
  return {
    location: root,
    fingerprint: `${entries.length}:${hash.digest('hex')}`,
    naturalChannels: 3,
    decode: async (size, channels, onProgress) => {
      const bytesPer = size * size * channels;
      // Each file decodes into its own slot; skipped slots are squeezed out afterwards, in place.
      const slots = new Uint8Array(entries.length * bytesPer);
      let done = 0;
      const problems = await withSharpThreads(() =>
        mapBounded(entries, IN_FLIGHT, async (e, i): Promise<string | null> => {
          let problem: string | null = null;
          const unreadable = UNREADABLE_IMAGE_FORMATS[path.extname(e.rel).toLowerCase()];
          if (unreadable) problem = `${unreadable} is not a format sharp reads; convert it to PNG or JPEG`;
          else {
            try {
              slots.set(await decodeImageFile(e.abs, size, channels), i * bytesPer);
            } catch (err) {
              problem = messageOf(err).split('\n')[0]!;
            }
          }
          if (problem) log.warn(`skipped ${path.join(root, e.rel)}: ${problem}`);
          onProgress(++done, entries.length);
          return problem;
        }),
      );
      const skipped: string[] = [];
      let count = 0;
      for (let i = 0; i < entries.length; i++) {
        const problem = problems[i];
        if (problem) skipped.push(`${entries[i]!.rel}: ${problem}`);
        else {
          if (count !== i) slots.copyWithin(count * bytesPer, i * bytesPer, (i + 1) * bytesPer);
          count++;
        }
      }
      if (count === 0) {
        throw new RhodopsError('DATASET_INVALID', `None of the ${fmt(entries.length)} image files in ${root} could be read (first: ${skipped[0]}).`, {
          hint: 'check that the files are complete images (open one in an image viewer)',
        });
      }
      const pixels = count === entries.length ? slots : slots.subarray(0, count * bytesPer);
      const note = skipped.length ? `, ${fmt(skipped.length)} skipped` : '';
      return { count, pixels, ...(skipped.length ? { skipped } : {}), source: `folder ${root} (${fmt(count)} images${note})` };
    },
  };
}
