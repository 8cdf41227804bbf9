/**
 * Works out how to drive an ONNX generator: its latent input ([N, L] or [N, L, 1, 1], as DCGAN-style
 * exports have) and its image output (NCHW or NHWC, 1 or 3 channels). A dummy run with one zero
 * latent settles dynamic sizes and warms the session up.
 */
import * as ort from 'onnxruntime-node';
import { RhodopsError, messageOf } from '../errors.ts';

export interface OnnxSignature {
  input: string;
  inputRank: 2 | 4;
  latentSize: number;
  output: string;
  layout: 'NCHW' | 'NHWC';
  channels: 1 | 3;
  width: number;
  height: number;
}

export interface SignatureHints {
  where: string;
  inputName?: string | undefined;
  outputName?: string | undefined;
  /** From a manifest: the latent length, checked against the model's input. */
  latentSize?: number | undefined;
  layout?: 'NCHW' | 'NHWC' | undefined;
}

const fmt = (shape: readonly (number | string)[]) => `[${shape.join(', ')}]`;

function unsupported(where: string, what: string): RhodopsError {
  return new RhodopsError('ONNX_UNSUPPORTED_SIGNATURE', `${where}: ${what}`, {
    hint: 'rhodops drives generators with one latent input [N, L] (or [N, L, 1, 1]) and one image output [N, C, H, W] or [N, H, W, C] with C = 1 or 3. Re-export the model with that signature.',
  });
}

export async function describeSignature(session: ort.InferenceSession, hints: SignatureHints): Promise<OnnxSignature> {
  const { where } = hints;
  const inputName = hints.inputName ?? (session.inputNames.length === 1 ? session.inputNames[0] : undefined);
  if (!inputName || !session.inputNames.includes(inputName)) {
    throw unsupported(
      where,
      hints.inputName
        ? `has no input named '${hints.inputName}' (inputs: ${session.inputNames.join(', ')}).`
        : `has ${session.inputNames.length} inputs (${session.inputNames.join(', ')}); a generator takes exactly one latent input.`,
    );
  }
  const meta = session.inputMetadata[session.inputNames.indexOf(inputName)];
  if (!meta?.isTensor || meta.type !== 'float32') {
    throw unsupported(where, `input '${inputName}' is not a float32 tensor.`);
  }
  const shape = meta.shape;
  const rank4 = shape.length === 4 && shape[2] === 1 && shape[3] === 1;
  if (!(shape.length === 2 || rank4)) {
    throw unsupported(where, `input '${inputName}' has shape ${fmt(shape)}; a latent input is [N, L] or [N, L, 1, 1].`);
  }
  const declared = shape[1];
  const latentSize = typeof declared === 'number' ? declared : hints.latentSize;
  if (latentSize === undefined) {
    throw unsupported(where, `input '${inputName}' has a symbolic latent length '${String(declared)}'; put the length in a manifest (latent.size).`);
  }
  if (hints.latentSize !== undefined && latentSize !== hints.latentSize) {
    throw new RhodopsError(
      'LATENT_SHAPE_MISMATCH',
      `${where}: the model's input '${inputName}' takes ${latentSize} latent values, the manifest says latent.size = ${hints.latentSize}.`,
      { hint: 'Correct latent.size in manifest.json, or pair the manifest with the right model.' },
    );
  }

  const outputName = hints.outputName ?? session.outputNames[0];
  if (!outputName || !session.outputNames.includes(outputName)) {
    throw unsupported(where, `has no output named '${String(hints.outputName)}' (outputs: ${session.outputNames.join(', ')}).`);
  }

  const dims = rank4 ? [1, latentSize, 1, 1] : [1, latentSize];
  let outDims: readonly number[];
  try {
    const result = await session.run({ [inputName]: new ort.Tensor('float32', new Float32Array(latentSize), dims) });
    const out = result[outputName]!;
    outDims = out.dims;
    for (const t of Object.values(result)) t.dispose();
  } catch (e) {
    throw unsupported(where, `a test run with one zero latent failed: ${messageOf(e).split('\n')[0]}`);
  }
  if (outDims.length !== 4 || outDims[0] !== 1) {
    throw unsupported(where, `output '${outputName}' has shape ${fmt(outDims)} for one latent; an image output is [1, C, H, W] or [1, H, W, C].`);
  }
  const [, a, b, c] = outDims as [number, number, number, number];
  const layout = hints.layout ?? (a === 1 || a === 3 ? 'NCHW' : c === 1 || c === 3 ? 'NHWC' : null);
  if (!layout) throw unsupported(where, `output '${outputName}' has shape ${fmt(outDims)}: no channel axis of size 1 or 3.`);
  const [channels, height, width] = layout === 'NCHW' ? [a, b, c] : [c, a, b];
  if (channels !== 1 && channels !== 3) {
    throw unsupported(where, `output '${outputName}' has ${channels} channels in ${layout} layout ${fmt(outDims)}; rhodops shows 1 or 3.`);
  }
  return { input: inputName, inputRank: rank4 ? 4 : 2, latentSize, output: outputName, layout, channels, width, height };
}
