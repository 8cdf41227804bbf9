/**
 * Checkpoint directories: manifest.json · tfjs/ (model.json + weights.bin) · generator.onnx ·
 * samples/ · log.jsonl. A save builds the complete new directory under a temporary name, carries
 * over what it does not write itself (samples, logs) by hard links, then renames it into place.
 * If a save dies between the two renames, the next load finds the complete copy and restores it.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RhodopsError, messageOf } from '../errors.ts';
import { exists, linkTree, syncDir, tempNameFor, writeSynced } from '../fsutil.ts';
import { logger } from '../log.ts';
import type { WeightMap } from '../models/params.ts';
import { describeZodError, manifestSchema, MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest, type ManifestInput } from './manifest.ts';
import { decodeWeights, encodeWeights, WEIGHTS_BIN, WEIGHTS_JSON } from './weights-file.ts';

const log = logger('checkpoint');

export const MANIFEST_FILE = 'manifest.json';
export const TFJS_DIR = 'tfjs';
export const ONNX_FILE = 'generator.onnx';
const OLD_SUFFIX = '.old-';

export interface CheckpointContents {
  /** Everything but `format`, `version`, `createdAt` and `files`, which the save fills in. */
  manifest: Omit<ManifestInput, 'format' | 'version' | 'createdAt' | 'files'>;
  onnx: Uint8Array;
  /** Generator (and, for trainers, discriminator and optimizer) weights, for resuming. */
  weights?: WeightMap;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function saveCheckpoint(dir: string, contents: CheckpointContents): Promise<Manifest> {
  dir = path.resolve(dir);
  await fs.mkdir(path.dirname(dir), { recursive: true });
  await recoverInterruptedSave(dir);
  const tmp = tempNameFor(dir);
  await fs.mkdir(tmp);
  try {
    const files: Record<string, { bytes: number; sha256: string }> = {};
    const put = async (rel: string, data: Uint8Array | string) => {
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      await fs.mkdir(path.dirname(path.join(tmp, rel)), { recursive: true });
      await writeSynced(path.join(tmp, rel), bytes);
      files[rel] = { bytes: bytes.byteLength, sha256: sha256(bytes) };
    };
    await put(contents.manifest.onnx.file, contents.onnx);
    if (contents.weights) {
      const { json, bin } = encodeWeights(contents.weights);
      await put(`${TFJS_DIR}/${WEIGHTS_JSON}`, json);
      await put(`${TFJS_DIR}/${WEIGHTS_BIN}`, bin);
    }
    const manifest = manifestSchema.parse({
      ...contents.manifest,
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      createdAt: new Date().toISOString(),
      files,
    });
    await writeSynced(path.join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    // Carry over what this save does not own (samples/, log.jsonl, anything a user put there).
    if (await exists(dir)) {
      const written = new Set([MANIFEST_FILE, TFJS_DIR, ...Object.keys(files).map((f) => f.split('/')[0]!)]);
      for (const entry of await fs.readdir(dir)) {
        if (!written.has(entry)) await linkTree(path.join(dir, entry), path.join(tmp, entry));
      }
    }
    await syncDir(tmp);
    await swapIntoPlace(tmp, dir);
    return manifest;
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

async function swapIntoPlace(tmp: string, dir: string): Promise<void> {
  if (!(await exists(dir))) {
    await fs.rename(tmp, dir);
  } else {
    const old = `${dir}${OLD_SUFFIX}${path.basename(tmp).split('.tmp-')[1]}`;
    await fs.rename(dir, old);
    await fs.rename(tmp, dir);
    await fs.rm(old, { recursive: true, force: true });
  }
  await syncDir(path.dirname(dir));
}

/**
 * A save that died between "rename old away" and "rename new in" leaves no `dir` but a complete
 * `.tmp-` (written before the renames began) and a complete `.old-`. Restore the newest complete one.
 */
export async function recoverInterruptedSave(dir: string): Promise<void> {
  if (await exists(dir)) return;
  const parent = path.dirname(dir);
  const base = path.basename(dir);
  const siblings = await fs.readdir(parent).catch(() => [] as string[]);
  const olds = siblings.filter((s) => s.startsWith(base + OLD_SUFFIX));
  if (olds.length === 0) return;
  const tmps = siblings.filter((s) => s.startsWith(base + '.tmp-'));
  for (const candidate of [...tmps, ...olds]) {
    const full = path.join(parent, candidate);
    try {
      await verifyFiles(full, await readManifest(full));
    } catch {
      continue;
    }
    await fs.rename(full, dir);
    log.warn(`restored ${dir} from ${candidate}: a save was interrupted before it finished`);
    for (const s of [...tmps, ...olds]) if (s !== candidate) await fs.rm(path.join(parent, s), { recursive: true, force: true });
    return;
  }
}

/** Reads and validates manifest.json; every error names the file and the field. */
export async function readManifest(dir: string): Promise<Manifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new RhodopsError('CHECKPOINT_FILE_MISSING', `${file} is missing.`, {
      hint: 'A checkpoint directory holds manifest.json beside generator.onnx; pass the directory a trainer wrote, or an .onnx file.',
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RhodopsError('MANIFEST_INVALID', `${file} is not valid JSON: ${messageOf(e)}.`, {
      hint: 'The file was truncated or edited by hand; restore it or re-save the checkpoint.',
    });
  }
  const r = manifestSchema.safeParse(json);
  if (!r.success) {
    throw new RhodopsError('MANIFEST_INVALID', `${file}: ${describeZodError(r.error)}.`, {
      hint: 'Fix the named field(s); the format is described in README.md ("Checkpoint format").',
    });
  }
  return r.data;
}

/** Checks each recorded file's size and hash, so truncation is reported plainly. */
export async function verifyFiles(dir: string, manifest: Manifest): Promise<void> {
  for (const [rel, rec] of Object.entries(manifest.files)) {
    await readVerified(dir, rel, rec);
  }
}

async function readVerified(dir: string, rel: string, rec?: { bytes: number; sha256: string }): Promise<Uint8Array> {
  const file = path.join(dir, rel);
  let data: Uint8Array;
  try {
    data = await fs.readFile(file);
  } catch {
    throw new RhodopsError('CHECKPOINT_FILE_MISSING', `${file} is missing (the manifest lists it).`, {
      hint: 'Restore the file or re-save the checkpoint.',
    });
  }
  if (rec && data.byteLength !== rec.bytes) {
    throw new RhodopsError(
      'CHECKPOINT_FILE_CORRUPT',
      `${file} is ${data.byteLength} bytes; the manifest recorded ${rec.bytes}: the file is truncated or was replaced.`,
      { hint: 'Copy the checkpoint again, or use an earlier one.' },
    );
  }
  if (rec && sha256(data) !== rec.sha256) {
    throw new RhodopsError('CHECKPOINT_FILE_CORRUPT', `${file} does not match the hash in the manifest: it is corrupt or was replaced.`, {
      hint: 'Copy the checkpoint again, or use an earlier one.',
    });
  }
  return data;
}

export interface Checkpoint {
  dir: string;
  manifest: Manifest;
}

/** Opens a checkpoint directory: exists, is a directory, has a valid manifest. */
export async function openCheckpoint(dir: string): Promise<Checkpoint> {
  dir = path.resolve(dir);
  await recoverInterruptedSave(dir);
  const st = await fs.stat(dir).catch(() => null);
  if (!st) {
    throw new RhodopsError('CHECKPOINT_NOT_FOUND', `No checkpoint at ${dir}: no such directory.`, {
      hint: 'Pass a directory written by `rhodops train` (it holds manifest.json), or an .onnx file.',
    });
  }
  if (!st.isDirectory()) {
    throw new RhodopsError('CHECKPOINT_NOT_FOUND', `${dir} is a file, not a checkpoint directory.`, {
      hint: 'Pass the checkpoint directory, or an .onnx generator file.',
    });
  }
  return { dir, manifest: await readManifest(dir) };
}

export async function readOnnx(ckpt: Checkpoint): Promise<Uint8Array> {
  const rel = ckpt.manifest.onnx.file;
  return readVerified(ckpt.dir, rel, ckpt.manifest.files[rel]);
}

export async function readWeights(ckpt: Checkpoint): Promise<WeightMap> {
  const jsonRel = `${TFJS_DIR}/${WEIGHTS_JSON}`;
  const binRel = `${TFJS_DIR}/${WEIGHTS_BIN}`;
  if (!ckpt.manifest.files[jsonRel]) {
    throw new RhodopsError('CHECKPOINT_FILE_MISSING', `${ckpt.dir} has no tfjs weights (only an ONNX generator).`, {
      hint: 'Use the ONNX Runtime engine for this model; tfjs needs a checkpoint written by the trainer.',
    });
  }
  const json = await readVerified(ckpt.dir, jsonRel, ckpt.manifest.files[jsonRel]);
  const bin = await readVerified(ckpt.dir, binRel, ckpt.manifest.files[binRel]);
  return decodeWeights(new TextDecoder().decode(json), bin, path.join(ckpt.dir, TFJS_DIR));
}
