/**
 * Opens a generator from what a user points at: a checkpoint directory (ours, or a bring-your-own
 * ONNX with a small manifest) or a bare .onnx file (signature inferred, metadata read if ours).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RhodopsError } from '../errors.ts';
import { openCheckpoint, readOnnx, readWeights } from '../checkpoint/io.ts';
import { fullPhase } from '../models/arch.ts';
import { readRhodopsMetadata } from '../onnx/metadata.ts';
import { OrtGenerator, type OrtOptions } from './ort.ts';
import { TfjsGenerator } from './tfjs.ts';
import type { Generator } from './types.ts';

export type EngineName = 'ort' | 'tfjs';

export interface OpenOptions {
  engine?: EngineName;
  ort?: Partial<OrtOptions>;
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
  return OrtGenerator.open(
    await readOnnx(ckpt),
    {
      name: m.name,
      kind: m.kind,
      where: path.join(full, m.onnx.file),
      latent: m.latent,
      output: m.output,
      inputName: m.onnx.input,
      outputName: m.onnx.output,
    },
    opts.ort,
  );
}
