// Bring-your-own ONNX generators: layouts, ranges and latent shapes other tools export, and the
// errors for models rhodops cannot drive.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { byoManifest, rejectsWith } from './helpers/assert.ts';
import { setLogLevel } from '../core/log.ts';
import { OnnxGraph } from '../core/onnx/graph.ts';
import { saveCheckpoint } from '../core/checkpoint/io.ts';
import { openGenerator } from '../core/runtime/open.ts';
import { OrtGenerator } from '../core/runtime/ort.ts';
import { gaussian } from './helpers/models.ts';

let root: string;

/** latent [N, 6] → Gemm → Reshape [N, 2, 2, 3] → Sigmoid: an NHWC model with output in [0, 1]. */
function nhwcModel(w: Float32Array): Uint8Array {
  const g = new OnnxGraph();
  const x = g.op('Gemm', [g.input('z'), g.floats('w', w, [6, 12])]);
  const img = g.op('Reshape', [x, g.int64s('shape', [-1, 2, 2, 3])]);
  g.op('Sigmoid', [img], {}, 'rgb');
  return g.encode({ graphName: 'nhwc', inputs: [{ name: 'z', dims: ['n', 6] }], outputs: [{ name: 'rgb', dims: ['n', 2, 2, 3] }] });
}

/** DCGAN-style: latent [N, 4, 1, 1] → ConvTranspose 4×4 → [N, 1, 4, 4] grayscale, tanh. */
function dcganModel(): Uint8Array {
  const g = new OnnxGraph();
  const y = g.op('ConvTranspose', [g.input('noise'), g.floats('w', gaussian(4 * 16, 3), [4, 1, 4, 4])], { kernel_shape: { ints: [4, 4] } });
  g.op('Tanh', [y], {}, 'out');
  return g.encode({ graphName: 'dcgan', inputs: [{ name: 'noise', dims: ['n', 4, 1, 1] }], outputs: [{ name: 'out', dims: ['n', 1, 4, 4] }] });
}

async function writeModel(name: string, bytes: Uint8Array): Promise<string> {
  const file = path.join(root, name);
  await fs.writeFile(file, bytes);
  return file;
}

describe('bring-your-own ONNX generators', () => {
  before(async () => {
    setLogLevel('silent');
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-byo-'));
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it('an NHWC model with output in 0..1, described by a manifest, gives the right RGB pixels', async () => {
    const w = gaussian(72, 1);
    const dir = path.join(root, 'nhwc');
    await saveCheckpoint(dir, {
      manifest: byoManifest('nhwc', 6),
      onnx: nhwcModel(w),
    });
    const gen = await openGenerator(dir);
    const z = gaussian(6, 2);
    const frame = await gen.generate(z, 1);
    assert.deepEqual([frame.width, frame.height, gen.info.channels], [2, 2, 3]);
    // Expected: sigmoid(z·W) laid out (h, w, c) → 0..255.
    for (let j = 0; j < 12; j++) {
      let s = 0;
      for (let i = 0; i < 6; i++) s += z[i]! * w[i * 12 + j]!;
      assert.ok(Math.abs(frame.data[j]! - 255 / (1 + Math.exp(-s))) <= 1, `pixel value ${j}`);
    }
    await gen.dispose();
  });

  it('a bare NHWC file: layout inferred from the output shape', async () => {
    const gen = await openGenerator(await writeModel('bare.onnx', nhwcModel(gaussian(72, 1))));
    assert.equal(gen.info.output.layout, 'NHWC');
    assert.equal(gen.info.latent.size, 6);
    await gen.dispose();
  });

  it('a DCGAN-style model with a [N, L, 1, 1] latent and grayscale NCHW output', async () => {
    const gen = await openGenerator(await writeModel('dcgan.onnx', dcganModel()));
    assert.deepEqual([gen.info.width, gen.info.height, gen.info.channels, gen.info.latent.size], [4, 4, 1, 4]);
    const frames = await gen.generate(gaussian(8, 4), 2);
    assert.equal(frames.data.length, 2 * 4 * 4 * 3);
    // Gray is shown as equal R, G and B.
    for (let p = 0; p < 32; p++) assert.ok(frames.data[p * 3] === frames.data[p * 3 + 1] && frames.data[p * 3] === frames.data[p * 3 + 2]);
    await gen.dispose();
  });

  it('rejects a model whose input is an image, not a latent, naming the shape', async () => {
    const g = new OnnxGraph();
    g.op('Relu', [g.input('x')], {}, 'y');
    const file = await writeModel('img2img.onnx', g.encode({ graphName: 'i2i', inputs: [{ name: 'x', dims: ['n', 3, 8, 8] }], outputs: [{ name: 'y', dims: ['n', 3, 8, 8] }] }));
    await rejectsWith(openGenerator(file), 'ONNX_UNSUPPORTED_SIGNATURE', "'x'", '[n, 3, 8, 8]');
  });

  it('rejects a model with two inputs, naming them', async () => {
    const g = new OnnxGraph();
    g.op('Add', [g.input('z'), g.input('label')], {}, 'y');
    const file = await writeModel('two.onnx', g.encode({ graphName: 't', inputs: [{ name: 'z', dims: [1, 4] }, { name: 'label', dims: [1, 4] }], outputs: [{ name: 'y', dims: [1, 4] }] }));
    await rejectsWith(openGenerator(file), 'ONNX_UNSUPPORTED_SIGNATURE', 'z, label');
  });

  it('rejects a model whose output is not an image', async () => {
    const g = new OnnxGraph();
    g.op('Relu', [g.input('z')], {}, 'y');
    const file = await writeModel('flat.onnx', g.encode({ graphName: 'f', inputs: [{ name: 'z', dims: ['n', 5] }], outputs: [{ name: 'y', dims: ['n', 5] }] }));
    await rejectsWith(openGenerator(file), 'ONNX_UNSUPPORTED_SIGNATURE', '[1, 5]');
  });

  it('a manifest whose latent size disagrees with the model', async () => {
    const dir = path.join(root, 'wronglatent');
    await saveCheckpoint(dir, {
      manifest: byoManifest('w', 7),
      onnx: nhwcModel(gaussian(72, 1)),
    });
    await rejectsWith(openGenerator(dir), 'LATENT_SHAPE_MISMATCH', 'latent.size = 7', '6');
  });

  it('latents of the wrong length are refused before they reach the model', async () => {
    const gen = await openGenerator(await writeModel('len.onnx', nhwcModel(gaussian(72, 1))));
    await rejectsWith(gen.generate(new Float32Array(5), 1), 'LATENT_SHAPE_MISMATCH', '5 latent values');
    await gen.dispose();
  });

  it('asking for CUDA where it is not installed runs on CPU and says so; requiring it fails clearly', async () => {
    const model = nhwcModel(gaussian(72, 1));
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    setLogLevel('warn');
    process.stderr.write = ((chunk: string | Uint8Array) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
    let gen: OrtGenerator;
    try {
      gen = await OrtGenerator.open(model, { name: 'm', kind: 'onnx', where: 'm' }, { executionProvider: 'cuda' });
    } finally {
      process.stderr.write = write;
      setLogLevel('silent');
    }
    if (gen.info.engine.startsWith('onnxruntime cuda')) {
      // A machine with the CUDA provider installed: it must really be used, and nothing is said.
      assert.deepEqual(lines, []);
      await gen.dispose();
      return;
    }
    assert.match(gen.info.engine, /^onnxruntime cpu/);
    assert.ok(lines.some((l) => l.includes('cuda execution provider unavailable') && l.includes('ONNXRUNTIME_NODE_INSTALL=cuda12')), lines.join(''));
    await gen.dispose();
    await rejectsWith(
      OrtGenerator.open(model, { name: 'm', kind: 'onnx', where: 'm' }, { executionProvider: 'cuda', requireProvider: true }),
      'EXECUTION_PROVIDER_UNAVAILABLE',
      'cuda',
    );
  });
});
