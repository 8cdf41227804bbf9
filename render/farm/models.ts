/**
 * Models by content: the coordinator names a model by the SHA-256 of its files (so every worker renders the very
 * model the render was planned with, whatever its path there) and publishes the files; a worker keeps each
 * model it fetched, checked, in its own cache folder under that hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { RhodopsError } from '../../core/errors.ts';
import { openCheckpoint } from '../../core/checkpoint/io.ts';
import { syncDir } from '../../core/fsutil.ts';
import { logger } from '../../core/log.ts';
import { modelFileName, type ModelRef } from './jobs.ts';
import { sha256, type FarmStore } from './store.ts';

const log = logger('farm');

/** The id of a model: the hash of its kind and its files' names and hashes. */
export function modelId(kind: ModelRef['kind'], files: ModelRef['files']): string {
  const list = [...files].sort((a, b) => (a.name < b.name ? -1 : 1)).map((f) => [f.name, f.sha256, f.bytes]);
  return createHash('sha256').update(JSON.stringify({ kind, files: list })).digest('hex');
}

/** Reads and hashes a model (checkpoint folder or .onnx file) and publishes its files; returns its reference. */
export async function publishModel(model: string, store: FarmStore): Promise<ModelRef> {
  const isFile = model.toLowerCase().endsWith('.onnx');
  let entries: { name: string; file: string }[];
  if (isFile) {
    const base = path.basename(model);
    entries = [{ name: modelFileName.safeParse(base).success ? base : 'generator.onnx', file: model }];
  } else {
    const m = (await openCheckpoint(model)).manifest;
    const names = [...new Set(['manifest.json', m.onnx.file, ...Object.keys(m.files)])];
    for (const n of names) {
      if (!modelFileName.safeParse(n).success) throw new RhodopsError('BAD_OPTION', `${model}: the file name '${n}' cannot be sent to workers (one sub-folder at most, plain names)`, { hint: 'export the model again (rhodops export) to a plain layout' });
    }
    entries = names.map((name) => ({ name, file: path.join(model, name) }));
  }
  const files: ModelRef['files'] = [];
  for (const e of entries) {
    const bytes = await fs.readFile(e.file);
    const sha = sha256(bytes);
    await store.putBlob(sha, bytes, e.file);
    files.push({ name: e.name, sha256: sha, bytes: bytes.byteLength });
  }
  const kind = isFile ? 'onnx' : 'checkpoint';
  return { id: modelId(kind, files), kind, files };
}

/** What a fetched manifest may point at: only files that came with it (a forged one could name ../ paths). */
const manifestFilesSchema = z.object({ onnx: z.object({ file: z.string() }).passthrough(), files: z.record(z.string(), z.unknown()).default({}) }).passthrough();

/** A worker's models, fetched once per hash into `root/<hash>/` (written aside and renamed when checked). */
export class ModelCache {
  constructor(
    private readonly root: string,
    private readonly store: FarmStore,
  ) {}

  /** The path to open: the checkpoint folder, or the .onnx file. */
  async get(ref: ModelRef): Promise<string> {
    if (modelId(ref.kind, ref.files) !== ref.id) throw new RhodopsError('FARM_JOB_INVALID', `a farm job names model ${ref.id.slice(0, 12)}… with files of another hash`, { hint: 'the job was damaged or forged' });
    const dir = path.join(this.root, ref.id);
    const target = ref.kind === 'onnx' ? path.join(dir, ref.files[0]!.name) : dir;
    if (await fs.stat(dir).then(() => true, () => false)) return target;
    log.info(`fetching model ${ref.id.slice(0, 12)}… (${ref.files.length} file${ref.files.length > 1 ? 's' : ''}, ${(ref.files.reduce((a, f) => a + f.bytes, 0) / 2 ** 20).toFixed(1)} MB)`);
    const tmp = path.join(this.root, `.${ref.id}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      for (const f of ref.files) {
        const bytes = await this.store.getBlob(f.sha256, f.bytes, `model file ${f.name}`);
        await fs.mkdir(path.dirname(path.join(tmp, f.name)), { recursive: true });
        await fs.writeFile(path.join(tmp, f.name), bytes);
      }
      if (ref.kind === 'checkpoint') {
        const names = new Set(ref.files.map((f) => f.name));
        const text = await fs.readFile(path.join(tmp, 'manifest.json'), 'utf8');
        let json: unknown = null;
        try {
          json = JSON.parse(text);
        } catch {
          // Refused just below, as any manifest that does not parse.
        }
        const m = manifestFilesSchema.safeParse(json);
        const named = m.success ? [m.data.onnx.file, ...Object.keys(m.data.files)] : null;
        if (!named || named.some((n) => !names.has(n))) {
          throw new RhodopsError('FARM_JOB_INVALID', `model ${ref.id.slice(0, 12)}…: its manifest names files that did not come with it`, { hint: 'the job was damaged or forged' });
        }
      }
      await fs.rename(tmp, dir).catch(async (e: unknown) => {
        // Another worker on this machine fetched it meanwhile: theirs is as good.
        if (!(await fs.stat(dir).then(() => true, () => false))) throw e;
      });
      await syncDir(this.root);
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
    return target;
  }
}
