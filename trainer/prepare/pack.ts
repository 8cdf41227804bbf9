/**
 * `rhodops dataset pack`: prepared images (all R × R, as augment makes them) → the multi-resolution raw
 * pack described in pack-format.ts, and openPack, the reader the trainer streams batches from with
 * positional reads (no file is ever loaded whole: a 256² pack of 80,000 images is 16 GB).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describeZodError } from '../../core/checkpoint/manifest.ts';
import { messageOf, RhodopsError } from '../../core/errors.ts';
import { exists, syncDir, tempNameFor, writeSynced } from '../../core/fsutil.ts';
import { logger } from '../../core/log.ts';
import { IN_FLIGHT, mapBounded, withSharpThreads } from '../datasets/pool.ts';
import {
  isPackResolution,
  packFileName,
  packManifestSchema,
  packResolutions,
  PACK_FORMAT,
  PACK_MANIFEST,
  PACK_VERSION,
  type PackedDataset,
  type PackManifest,
} from './pack-format.ts';
import { progressBar, type ProgressMode } from './progress.ts';
import { boxPyramid } from './pyramid.ts';
import { listImageFiles } from './sources.ts';
import { imageSize, openImage, toRgb } from './upscale.ts';

const log = logger('pack');

const PACK_HINT = 'make one with `rhodops dataset pack IMAGES_DIR --out PACK_DIR`';

export interface PackOptions {
  input: string;
  out: string;
  /** The final resolution (a power of two ≥ 4); default: the size of the first image. */
  resolution?: number;
  /** Resize (lanczos3, centre crop) images that are not resolution² instead of refusing them. */
  resize?: boolean;
  /** Replace an existing pack at `out`. */
  force?: boolean;
  progress?: ProgressMode | boolean;
}

export interface PackResult {
  out: string;
  count: number;
  resolutions: number[];
  skipped: string[];
  bytes: number;
  seconds: number;
  imagesPerSecond: number;
}

/** Images decoded, then written, per round: enough to keep IN_FLIGHT decoders busy, few enough to bound memory. */
const ROUND = 64;

async function resolutionOf(files: { rel: string; abs: string; unreadable?: string }[]): Promise<number> {
  for (const f of files) {
    if (f.unreadable) continue;
    const size = await imageSize(f.abs).catch(() => null);
    if (!size) continue;
    if (size.width === size.height && isPackResolution(size.width)) return size.width;
    throw new RhodopsError('BAD_OPTION', `cannot tell the pack's resolution from the first image, ${f.rel} (${size.width}×${size.height}: not a square power of two).`, {
      hint: 'pass --resolution (e.g. 256) and --resize, or augment with --size 256 first',
    });
  }
  throw new RhodopsError('DATASET_INVALID', 'none of the images could be read, so the resolution is unknown.', { hint: 'check that the files are complete images' });
}

/** A folder `pack --force` may replace: a pack, or nothing at all. Anything else is someone's data. */
async function checkReplaceable(out: string, force: boolean): Promise<boolean> {
  const st = await fs.stat(out).catch(() => null);
  if (!st) return false;
  if (!force) throw new RhodopsError('BAD_OPTION', `${out} already exists.`, { hint: 'pass --force to replace it, or choose another --out' });
  const entries = st.isDirectory() ? await fs.readdir(out) : null;
  if (entries === null || (entries.length > 0 && !entries.includes(PACK_MANIFEST))) {
    throw new RhodopsError('BAD_OPTION', `${out} exists and is not a dataset pack; --force only replaces packs.`, { hint: 'choose another --out, or remove it yourself' });
  }
  return true;
}

export async function pack(o: PackOptions): Promise<PackResult> {
  const started = performance.now();
  const input = path.resolve(o.input);
  const out = path.resolve(o.out);
  if (o.resolution !== undefined && !isPackResolution(o.resolution)) {
    throw new RhodopsError('BAD_OPTION', `--resolution must be a power of two from 4 to 8192, got ${o.resolution}.`, { hint: 'e.g. --resolution 256' });
  }
  const { files } = await listImageFiles(input, [out]);
  if (files.length === 0) throw new RhodopsError('DATASET_INVALID', `${input} holds no image files.`, { hint: 'pack the folder `rhodops dataset augment` wrote' });
  const res = o.resolution ?? (await resolutionOf(files));
  const resolutions = packResolutions(res);
  const replace = await checkReplaceable(out, o.force ?? false);

  await fs.mkdir(path.dirname(out), { recursive: true });
  const tmp = tempNameFor(out);
  await fs.mkdir(tmp);
  const bar = progressBar(o.progress ?? false, files.length, 'pack');
  const handles = new Map<number, fs.FileHandle>();
  try {
    for (const r of resolutions) handles.set(r, await fs.open(path.join(tmp, packFileName(r)), 'w'));
    const skipped: string[] = [];
    let count = 0;
    await withSharpThreads(async () => {
      for (let start = 0; start < files.length; start += ROUND) {
        const round = files.slice(start, start + ROUND);
        // Failures are looked at in file order once the round is in, so the same folder always gives the same message.
        const decoded = await mapBounded(round, IN_FLIGHT, async (f) => {
          try {
            if (f.unreadable) throw new Error(f.unreadable);
            return await decodeAt(f.abs, f.rel, res, o.resize ?? false);
          } catch (e) {
            return e;
          }
        });
        const levels: Map<number, Uint8Array>[] = [];
        for (const [i, d] of decoded.entries()) {
          if (d instanceof Uint8Array) levels.push(boxPyramid(d, res));
          else if (d instanceof RhodopsError) throw d;
          else {
            const reason = messageOf(d).split('\n')[0]!;
            log.warn(`skipped ${round[i]!.abs}: ${reason}`);
            skipped.push(`${round[i]!.rel}: ${reason}`);
          }
        }
        for (const r of resolutions) {
          const bytes = Buffer.concat(levels.map((l) => l.get(r)!));
          await handles.get(r)!.write(bytes, 0, bytes.length, count * r * r * 3);
        }
        count += levels.length;
        bar.advance(round.length);
      }
    });
    if (count === 0) {
      throw new RhodopsError('DATASET_INVALID', `none of the ${files.length} images in ${input} could be read (first: ${skipped[0]}).`, { hint: 'check that the files are complete images' });
    }
    for (const fh of handles.values()) await fh.sync();
    const manifest: PackManifest = packManifestSchema.parse({
      format: PACK_FORMAT,
      version: PACK_VERSION,
      count,
      channels: 3,
      resolutions,
      files: Object.fromEntries(resolutions.map((r) => [String(r), packFileName(r)])),
      source: { dir: input, images: count, ...(skipped.length ? { skipped } : {}) },
      createdAt: new Date().toISOString(),
    });
    await writeSynced(path.join(tmp, PACK_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
    await syncDir(tmp);
    await swapIn(tmp, out, replace);
    const seconds = (performance.now() - started) / 1000;
    const bytes = resolutions.reduce((n, r) => n + count * r * r * 3, 0);
    return { out, count, resolutions, skipped, bytes, seconds, imagesPerSecond: count / seconds };
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    if (e instanceof RhodopsError) throw e;
    throw new RhodopsError('OUTPUT_UNWRITABLE', `cannot write the pack ${out}: ${messageOf(e)}`, { hint: 'check free disk space and permissions', cause: e });
  } finally {
    bar.stop();
    for (const fh of handles.values()) await fh.close().catch(() => {});
  }
}

/** One image as res × res RGB; a wrong size is the caller's mistake (not a corrupt file), so it stops the pack. */
async function decodeAt(file: string, rel: string, res: number, resize: boolean): Promise<Uint8Array> {
  const img = await toRgb(openImage(file));
  if (img.width === res && img.height === res) return img.data;
  if (!resize) {
    throw new RhodopsError('DATASET_INVALID', `${rel} is ${img.width}×${img.height}; every image in a ${res}² pack must be ${res}×${res}.`, {
      hint: `augment with --size ${res}, or pass --resize to resize (centre crop) the others`,
    });
  }
  const { data } = await toRgb(
    openImage(file).resize(res, res, { fit: 'cover', position: 'centre', kernel: 'lanczos3' }),
  );
  return data;
}

/** Renames the finished pack into place; an old one is moved aside first and removed after. */
async function swapIn(tmp: string, out: string, replace: boolean): Promise<void> {
  if (!replace) {
    await fs.rename(tmp, out);
  } else {
    const old = `${out}.old-${path.basename(tmp).split('.tmp-')[1]}`;
    await fs.rename(out, old);
    await fs.rename(tmp, out);
    await fs.rm(old, { recursive: true, force: true });
  }
  await syncDir(path.dirname(out));
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

function invalid(dir: string, problem: string, hint = PACK_HINT): RhodopsError {
  return new RhodopsError('DATASET_INVALID', `${dir}: ${problem}`, { hint });
}

async function readManifest(dir: string): Promise<PackManifest> {
  const file = path.join(dir, PACK_MANIFEST);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    if (!(await exists(dir))) throw invalid(dir, 'the dataset pack does not exist');
    throw invalid(dir, `not a dataset pack: it has no ${PACK_MANIFEST}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw invalid(dir, `${PACK_MANIFEST} is not JSON (${messageOf(e)})`, 'the pack is damaged: pack it again');
  }
  const head = (typeof raw === 'object' && raw !== null ? raw : {}) as { format?: unknown; version?: unknown };
  if (head.format !== PACK_FORMAT) {
    throw invalid(dir, `${PACK_MANIFEST} is not a rhodops dataset pack's (format ${JSON.stringify(head.format)}, expected "${PACK_FORMAT}")`, 'pass the folder `rhodops dataset pack … --out DIR` wrote (not a checkpoint or an image folder)');
  }
  if (typeof head.version === 'number' && head.version > PACK_VERSION) {
    throw invalid(dir, `the pack was written by a newer rhodops (format version ${head.version}; this one reads ${PACK_VERSION})`, 'update rhodops, or pack the images again with this one');
  }
  const parsed = packManifestSchema.safeParse(raw);
  if (!parsed.success) throw invalid(dir, `${PACK_MANIFEST} is invalid: ${describeZodError(parsed.error)}`, 'the pack is damaged: pack it again');
  return parsed.data;
}

class Pack implements PackedDataset {
  readonly channels = 3;
  private closed = false;
  constructor(
    readonly dir: string,
    readonly count: number,
    readonly resolutions: readonly number[],
    private readonly handles: Map<number, fs.FileHandle>,
    readonly createdAt: string | null,
  ) {}

  async read(res: number, indices: readonly number[]): Promise<Uint8Array> {
    if (this.closed) throw new Error(`the pack ${this.dir} is closed`);
    const fh = this.handles.get(res);
    if (!fh) throw new RangeError(`the pack ${this.dir} has no ${res}² images (it has ${this.resolutions.join(', ')})`);
    const bytesPer = res * res * 3;
    const out = new Uint8Array(indices.length * bytesPer);
    // Consecutive indices (a sequential epoch, a contiguous shard) become one read each.
    const reads: Promise<void>[] = [];
    for (let i = 0; i < indices.length; ) {
      const first = indices[i]!;
      if (!Number.isInteger(first) || first < 0 || first >= this.count) throw new RangeError(`image index ${first} is outside 0..${this.count - 1}`);
      let n = 1;
      while (i + n < indices.length && indices[i + n] === first + n) n++;
      const at = i * bytesPer;
      const length = n * bytesPer;
      reads.push(
        fh.read(out, at, length, first * bytesPer).then(({ bytesRead }) => {
          if (bytesRead !== length) throw invalid(this.dir, `${packFileName(res)} ended early (read ${bytesRead} of ${length} bytes at image ${first}): the file changed after it was opened`, 'pack the images again');
        }),
      );
      i += n;
    }
    await Promise.all(reads);
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const fh of this.handles.values()) await fh.close();
  }
}

/** Opens a pack for reading: the manifest checked, every file present at exactly its expected size. */
export async function openPack(dir: string): Promise<PackedDataset> {
  dir = path.resolve(dir);
  const m = await readManifest(dir);
  const handles = new Map<number, fs.FileHandle>();
  try {
    for (const r of m.resolutions) {
      const name = packFileName(r);
      const expected = m.count * r * r * 3;
      const fh = await fs.open(path.join(dir, name), 'r').catch(() => null);
      if (!fh) throw invalid(dir, `${name} is missing (the manifest lists ${m.count} images at ${r}²)`, 'copy the whole pack folder again, or pack the images again');
      handles.set(r, fh);
      const { size } = await fh.stat();
      if (size !== expected) {
        throw invalid(dir, `${name} is ${size} bytes, expected ${expected} (${m.count} images × ${r} × ${r} × 3): the pack is ${size < expected ? 'truncated' : 'damaged'}`, 'copy the pack again, or pack the images again');
      }
    }
  } catch (e) {
    for (const fh of handles.values()) await fh.close().catch(() => {});
    throw e;
  }
  return new Pack(dir, m.count, m.resolutions, handles, m.createdAt);
}
