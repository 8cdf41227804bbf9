/**
 * The prepared-dataset cache: one file per (source, size, channels, source fingerprint), so a dataset is
 * decoded once and later loads read it back in one go.
 *
 * File layout (little-endian):
 *   uint32  header length H
 *   H bytes header, UTF-8 JSON: { magic, version, key, count, size, channels, hasLabels, source, skipped, sha1 }
 *   count × size × size × channels bytes of pixels
 *   count × int32 labels, when hasLabels
 * `sha1` covers pixels and labels; `key` is the full cache key, checked against the one asked for.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../core/fsutil.ts';
import { messageOf } from '../../core/errors.ts';
import type { Decoded } from './types.ts';

export const CACHE_MAGIC = 'rhodops-dataset';
export const CACHE_VERSION = 1;
/** Bump when preparation changes (resampling, channel conversion), so old caches are not reused. */
const PREPARATION_VERSION = 1;
const MAX_HEADER_BYTES = 1 << 20;

export function defaultCacheDir(): string {
  const xdg = process.env['XDG_CACHE_HOME'];
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, 'rhodops', 'datasets');
}

export interface CacheKey {
  kind: string;
  /** Absolute path of the source, or the package name for built-in data. */
  location: string;
  size: number;
  channels: 1 | 3;
  fingerprint: string;
}

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

/** The cache file for a key: readable prefix (kind, name, size, channels), then hashes of the location and the key. */
export function cacheFileFor(dir: string, key: CacheKey): string {
  return path.join(dir, `${cachePrefix(key)}${sha1(keyString(key)).slice(0, 12)}.bin`);
}

/** Files sharing this prefix were made from the same source at the same size and channels. */
function cachePrefix(key: CacheKey): string {
  const name = path.basename(key.location).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40) || 'root';
  return `${key.kind}-${name}-${sha1(key.location).slice(0, 8)}-${key.size}px-${key.channels}ch-`;
}

function keyString(key: CacheKey): string {
  return JSON.stringify({ ...key, preparation: PREPARATION_VERSION });
}

const Header = z.object({
  magic: z.literal(CACHE_MAGIC),
  version: z.literal(CACHE_VERSION),
  key: z.string(),
  count: z.number().int().nonnegative(),
  size: z.number().int().positive(),
  channels: z.union([z.literal(1), z.literal(3)]),
  hasLabels: z.boolean(),
  source: z.string(),
  skipped: z.array(z.string()),
  sha1: z.string(),
});

function checksum(pixels: Uint8Array, labelBytes: Uint8Array | undefined): string {
  const h = createHash('sha1').update(pixels);
  if (labelBytes) h.update(labelBytes);
  return h.digest('hex');
}

function labelsToBytes(labels: Int32Array): Uint8Array {
  const out = new Uint8Array(labels.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < labels.length; i++) view.setInt32(i * 4, labels[i]!, true);
  return out;
}

/** Writes the prepared dataset atomically, then removes older files for the same source, size and channels. */
export async function writeCache(file: string, key: CacheKey, ds: Decoded): Promise<void> {
  const labelBytes = ds.labels ? labelsToBytes(ds.labels) : undefined;
  const header = Buffer.from(
    JSON.stringify({
      magic: CACHE_MAGIC,
      version: CACHE_VERSION,
      key: keyString(key),
      count: ds.count,
      size: key.size,
      channels: key.channels,
      hasLabels: labelBytes !== undefined,
      source: ds.source,
      skipped: ds.skipped ?? [],
      sha1: checksum(ds.pixels, labelBytes),
    }),
  );
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  await writeFileAtomic(file, Buffer.concat([length, header, ds.pixels, ...(labelBytes ? [labelBytes] : [])]));
  const prefix = cachePrefix(key);
  for (const name of await fs.readdir(path.dirname(file))) {
    if (name.startsWith(prefix) && name.endsWith('.bin') && name !== path.basename(file)) {
      await fs.rm(path.join(path.dirname(file), name), { force: true });
    }
  }
}

export type CacheRead = { ok: true; ds: Decoded } | { ok: false; missing: true } | { ok: false; missing: false; problem: string };

/** Reads a cache file; anything wrong with it comes back as a problem to warn about, never a throw. */
export async function readCache(file: string, key: CacheKey): Promise<CacheRead> {
  let bytes: Uint8Array;
  try {
    bytes = await readWhole(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, missing: true };
    return { ok: false, missing: false, problem: messageOf(e) };
  }
  const bad = (problem: string): CacheRead => ({ ok: false, missing: false, problem });
  if (bytes.length < 4) return bad(`${bytes.length} bytes, too short for a header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true);
  if (headerLength > MAX_HEADER_BYTES || 4 + headerLength > bytes.length) return bad(`header length ${headerLength} does not fit the file`);
  let header: z.infer<typeof Header>;
  try {
    header = Header.parse(JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength))));
  } catch {
    return bad('the header is not a dataset cache header of this version');
  }
  if (header.key !== keyString(key) || header.size !== key.size || header.channels !== key.channels) return bad('it was made for another source or settings');
  const pixelBytes = header.count * header.size * header.size * header.channels;
  const labelLength = header.hasLabels ? header.count * 4 : 0;
  const start = 4 + headerLength;
  if (bytes.length !== start + pixelBytes + labelLength) {
    return bad(`${bytes.length} bytes, expected ${start + pixelBytes + labelLength} for ${header.count} images`);
  }
  const pixels = bytes.subarray(start, start + pixelBytes);
  const labelBytes = header.hasLabels ? bytes.subarray(start + pixelBytes) : undefined;
  if (checksum(pixels, labelBytes) !== header.sha1) return bad('its checksum does not match its content');
  const ds: Decoded = { count: header.count, pixels, source: header.source };
  if (labelBytes) {
    const labels = new Int32Array(header.count);
    const lv = new DataView(labelBytes.buffer, labelBytes.byteOffset, labelBytes.byteLength);
    for (let i = 0; i < header.count; i++) labels[i] = lv.getInt32(i * 4, true);
    ds.labels = labels;
  }
  if (header.skipped.length > 0) ds.skipped = header.skipped;
  return { ok: true, ds };
}

/** The whole file in one Uint8Array, read in chunks (fs.readFile stops at 2 GiB). */
async function readWhole(file: string): Promise<Uint8Array> {
  const fh = await fs.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const out = new Uint8Array(size);
    let pos = 0;
    while (pos < size) {
      const { bytesRead } = await fh.read(out, pos, Math.min(1 << 26, size - pos), pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
    }
    return pos === size ? out : out.subarray(0, pos);
  } finally {
    await fh.close();
  }
}
