/**
 * Opens a generator from what a user points at: a checkpoint directory (ours, or a bring-your-own
 * ONNX with a small manifest) or a bare .onnx file (signature inferred, metadata read if ours).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RhodopsError } from '../errors.ts';
import { openCheckpoint, readOnnx, readWeights, TFJS_DIR } from '../checkpoint/io.ts';
import { fullPhase } from '../models/arch.ts';
import { readRhodopsMetadata } from '../onnx/metadata.ts';
import { logger } from '../log.ts';
import type { Manifest } from '../checkpoint/manifest.ts';
import type { Checkpoint } from '../checkpoint/io.ts';
import { buildInt8PgganAside, MIN_INT8_PSNR_DB } from './int8.ts';
import { defaultOrtOptions, OrtGenerator, type OrtOptions } from './ort.ts';
import { TfjsGenerator } from './tfjs.ts';
import type { Generator } from './types.ts';

export type EngineName = 'ort' | 'tfjs';

export interface OpenOptions {
  engine?: EngineName;
  ort?: Partial<OrtOptions>;
}

const log = logger('ort');

/**
 * The int8 model for a checkpoint, or null (with the reason logged) where float32 must play: a GPU provider,
 * a model that is not a rhodops PGGAN, or a quantized model that strays from the float one.
 */
async function int8Model(ckpt: Checkpoint, o: OrtOptions, where: string): Promise<Uint8Array | null> {
  const m: Manifest = ckpt.manifest;
  if (o.executionProvider !== 'cpu') {
    log.warn(`int8 is a CPU speed-up; the ${o.executionProvider} provider runs ${m.name} in float32.`);
    return null;
  }
  if (m.arch?.kind !== 'pggan') {
    log.warn(`int8 applies to PGGAN generators trained by rhodops; ${m.name} (${m.arch?.kind ?? 'bring-your-own ONNX'}) plays in float32.`);
    return null;
  }
  if (!Object.keys(m.files).some((f) => f.startsWith(`${TFJS_DIR}/`))) {
    log.warn(`int8 is calibrated from a model's float weights, and ${m.name} has only its ONNX graph; it plays in float32. Export it again with its weights (rhodops export).`);
    return null;
  }
  const b = await buildInt8PgganAside(m.arch, await readWeights(ckpt), m.training?.phase ?? fullPhase(m.arch), o, where);
  if (b.psnrDb < MIN_INT8_PSNR_DB) {
    log.warn(`${m.name}: the int8 model's images differ from float32's (PSNR ${b.psnrDb.toFixed(1)} dB < ${MIN_INT8_PSNR_DB}); playing float32.`);
    return null;
  }
  log.info(`${m.name}: int8 (${b.weightBits}-bit weights), ${b.convs} convolutions calibrated in ${(b.ms / 1000).toFixed(1)} s, PSNR ${b.psnrDb.toFixed(1)} dB against float32`);
  return b.model;
}

export async function openGenerator(target: string, opts: OpenOptions = {}): Promise<Generator> {
  const engine = opts.engine ?? 'ort';
  const full = path.resolve(target);
  const st = await fs.stat(full).catch(() => null);
  if (st?.isFile() && full.toLowerCase().endsWith('.onnx')) {
    if (engine !== 'ort') {
      throw new RhodopsError('BAD_OPTION', `${full} is an ONNX file; the tfjs engine needs a checkpoint written by the trainer.`, {
        hint: 'Use the ONNX Runtime engine (the default) for .onnx files.',
      });
    }
    if (opts.ort?.precision === 'int8') log.warn(`int8 needs a checkpoint with its float weights; ${path.basename(full)} plays in float32.`);
    const bytes = new Uint8Array(await fs.readFile(full));
    const meta = readRhodopsMetadata(bytes);
    return OrtGenerator.open(bytes, { name: path.basename(full, '.onnx'), kind: 'onnx', where: full, ...meta }, opts.ort);
  }

  const ckpt = await openCheckpoint(full);
  const m = ckpt.manifest;
  if (engine === 'tfjs') {
    if (!m.arch) {
      throw new RhodopsError('BAD_OPTION', `${full} is a bring-your-own ONNX model; the tfjs engine runs only rhodops-trained models.`, {
        hint: 'Use the ONNX Runtime engine (the default).',
      });
    }
    const phase = m.training?.phase ?? fullPhase(m.arch);
    return TfjsGenerator.fromWeights(m.arch, await readWeights(ckpt), phase, m.name);
  }
  const ortOptions = { ...defaultOrtOptions(), ...opts.ort };
  const int8 = ortOptions.precision === 'int8' ? await int8Model(ckpt, ortOptions, path.join(full, m.onnx.file)) : null;
  return OrtGenerator.open(
    int8 ?? (await readOnnx(ckpt)),
    {
      name: m.name,
      kind: m.kind,
      where: path.join(full, m.onnx.file),
      latent: m.latent,
      output: m.output,
      inputName: m.onnx.input,
      outputName: m.onnx.output,
      int8: int8 !== null,
    },
    opts.ort,
  );
}
