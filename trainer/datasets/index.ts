/**
 * Image datasets for the trainers: a spec string ("mnist", "idx:PATH", "svhn:PATH", "folder:PATH") becomes
 * one prepared, in-memory dataset of size × size images, decoded once and cached on disk; batches.ts then
 * streams it to training without decoding again.
 */
import path from 'node:path';
import { logger } from '../../core/log.ts';
import { cacheFileFor, defaultCacheDir, readCache, writeCache, type CacheKey } from './cache.ts';
import { prepareFolder } from './folder.ts';
import { prepareIdx } from './idx.ts';
import { prepareMnist } from './mnist.ts';
import { checkLoadOptions, parseSpec, type DatasetSpec } from './spec.ts';
import { prepareSvhn } from './svhn.ts';
import type { ImageDataset, LoadOptions, PreparedSource } from './types.ts';
import { messageOf } from '../../core/errors.ts';

export type { ImageDataset, LoadOptions } from './types.ts';
export { parseSpec, SPEC_FORMS } from './spec.ts';
export { batchAt, epochOrder, stepsPerEpoch, type BatchOptions } from './batches.ts';

const log = logger('datasets');

async function prepare(spec: DatasetSpec): Promise<PreparedSource & { location: string }> {
  switch (spec.kind) {
    case 'mnist':
      return prepareMnist();
    case 'idx':
      return prepareIdx(spec.path);
    case 'svhn':
      return prepareSvhn(spec.path);
    case 'folder':
      return prepareFolder(spec.path);
  }
}

export async function loadDataset(spec: string, opts: LoadOptions): Promise<ImageDataset> {
  const parsed = parseSpec(spec);
  checkLoadOptions(opts);
  const { size } = opts;
  const onProgress = opts.onProgress ?? (() => {});
  const source = await prepare(parsed);
  const channels = opts.channels ?? source.naturalChannels;
  const key: CacheKey = { kind: parsed.kind, location: source.location, size, channels, fingerprint: source.fingerprint };
  const file = opts.cache === false ? undefined : cacheFileFor(path.resolve(opts.cacheDir ?? defaultCacheDir()), key);

  if (file) {
    const hit = await readCache(file, key);
    if (hit.ok) {
      log.debug(`${hit.ds.source}: read the prepared ${size}×${size}×${channels} dataset from ${file}`);
      onProgress(hit.ds.count, hit.ds.count);
      return { ...hit.ds, size, channels, fromCache: true };
    }
    if (!hit.missing) log.warn(`ignoring the dataset cache ${file} (${hit.problem}); preparing it again`);
  }

  const started = Date.now();
  log.info(`preparing ${spec} at ${size}×${size}×${channels}…`);
  const decoded = await source.decode(size, channels, onProgress);
  log.info(`${decoded.source}: prepared in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (file) {
    await writeCache(file, key, decoded).catch((e: unknown) => log.warn(`could not write the dataset cache ${file} (${messageOf(e)}); continuing without it`));
  }
  return { ...decoded, size, channels, fromCache: false };
}
