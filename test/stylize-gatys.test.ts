// Gatys-style transfer (trainer/stylize/gatys.ts) and its feature nets (features.ts): random filters, and a VGG-like
// net read from an ONNX file that the test writes, checked against ONNX Runtime on the same file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { initBackend } from '../core/backend.ts';
import { setLogLevel } from '../core/log.ts';
import { OnnxGraph } from '../core/onnx/graph.ts';
import { gaussianArray, rng } from '../core/random.ts';
import { rejectsWith, throwsWith } from './helpers/assert.ts';
import { relativeRms } from './helpers/models.ts';
import { IMAGENET_MEAN, IMAGENET_STD, onnxFeatureNet, randomFeatureNet } from '../trainer/stylize/features.ts';
import { stylizeGatys, type GatysOptions, type GatysProgress } from '../trainer/stylize/gatys.ts';
import type { RgbFloatImage } from '../trainer/stylize/image.ts';
import { flat, gradientEnergy, image, stripes } from './helpers/stylize.ts';

/** A smooth colourful source: a diagonal ramp in red, a ring in green, seeded noise in blue. */
function smoothSource(w: number, h: number): RgbFloatImage {
  const r = rng(3);
  return image(w, h, (x, y) => [40 + (150 * (x + y)) / (w + h), 128 + 100 * Math.cos(Math.hypot(x - w / 2, y - h / 2) / 5), 60 + 40 * r()]);
}

/** Small and quick: 16 filters of each size, 3 octaves. */
const smallNet = () => randomFeatureNet({ seed: 5, filters: 16, octaves: 3 });
const small: Partial<GatysOptions> = { size: 48, startSize: 24, iterations: 60, finalIterations: 20 };

/**
 * A VGG-like ONNX model: conv 3→4 (3×3, pad 1), relu, conv 4→6 (3×3, asymmetric pads), relu, 2×2 max pool,
 * conv 6→5 (3×3, stride 1, pad 1), relu, then a Flatten that ends the features. Every intermediate tensor is a
 * graph output, so ONNX Runtime reports them all.
 */
function tinyVgg(size: number): { bytes: Uint8Array; outputs: string[] } {
  const g = new OnnxGraph();
  const x = g.input('image');
  let k = 0;
  const conv = (input: string, inCh: number, outCh: number, pads: number[], out: string) => {
    k++;
    const w = g.floats(`w${k}`, gaussianArray(outCh * inCh * 9, 100 + k, Math.sqrt(2 / (inCh * 9))), [outCh, inCh, 3, 3]);
    const b = g.floats(`b${k}`, gaussianArray(outCh, 200 + k, 0.1), [outCh]);
    return g.op('Conv', [input, w, b], { kernel_shape: { ints: [3, 3] }, pads: { ints: pads }, strides: { ints: [1, 1] } }, out);
  };
  const c11 = conv(x, 3, 4, [1, 1, 1, 1], 'c11');
  const r11 = g.op('Relu', [c11], {}, 'r11');
  const c12 = conv(r11, 4, 6, [1, 0, 1, 2], 'c12');
  const r12 = g.op('Relu', [c12], {}, 'r12');
  const p1 = g.op('MaxPool', [r12], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } }, 'p1');
  const c21 = conv(p1, 6, 5, [1, 1, 1, 1], 'c21');
  const r21 = g.op('Relu', [c21], {}, 'r21');
  g.op('Flatten', [r21], { axis: { i: 1 } }, 'flat');
  const half = size / 2;
  const outputs = [
    { name: 'c11', dims: [1, 4, size, size] },
    { name: 'r11', dims: [1, 4, size, size] },
    { name: 'c12', dims: [1, 6, size, size] },
    { name: 'r12', dims: [1, 6, size, size] },
    { name: 'p1', dims: [1, 6, half, half] },
    { name: 'c21', dims: [1, 5, half, half] },
    { name: 'r21', dims: [1, 5, half, half] },
    { name: 'flat', dims: [1, 5 * half * half] },
  ];
  const bytes = g.encode({ inputs: [{ name: 'image', dims: [1, 3, size, size] }], outputs, graphName: 'tiny-vgg' });
  return { bytes, outputs: outputs.map((o) => o.name) };
}

/** NHWC 0..255 image as VGG's input: NCHW, (x / 255 − mean) / std. */
function imagenetNchw(img: RgbFloatImage): Float32Array {
  const { width: w, height: h } = img;
  const out = new Float32Array(3 * w * h);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < w * h; i++) out[c * w * h + i] = (img.data[i * 3 + c]! / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!;
  }
  return out;
}

/** [1, H, W, C] to C × H × W, as ONNX lays it out. */
async function toNchw(t: tf.Tensor4D): Promise<Float32Array> {
  const nchw = tf.transpose(t, [0, 3, 1, 2]);
  const data = (await nchw.data()) as Float32Array;
  nchw.dispose();
  return data;
}

describe('Gatys style transfer', () => {
  let dir: string;
  before(async () => {
    setLogLevel('silent');
    await initBackend('wasm');
    dir = await mkdtemp(path.join(os.tmpdir(), 'rhodops-gatys-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('random filters: a striped style on flat grey content gives a striped result, and the style loss falls at every scale', async () => {
    const net = smallNet();
    try {
      const progress: GatysProgress[] = [];
      const out = await stylizeGatys(flat(48, 128), [{ image: stripes(48, 8), weight: 1 }], small, net, rng(11), (p) => progress.push(p));
      const e = gradientEnergy(out);
      // Perfect stripes of period 8: horizontal energy 255² / 4 ≈ 16256, vertical 0.
      assert.ok(e.horizontal > 5000, `horizontal gradient energy ${e.horizontal.toFixed(0)} > 5000`);
      assert.ok(e.vertical < e.horizontal / 3, `vertical ${e.vertical.toFixed(0)} < horizontal ${e.horizontal.toFixed(0)} / 3`);
      for (const scale of [24, 48]) {
        const at = progress.filter((p) => p.scale === scale);
        const first = at[0]!.style;
        const last = at.at(-1)!.style;
        assert.ok(last < first / 3, `${scale}²: style loss ${first.toExponential(2)} → ${last.toExponential(2)}, at least 3× lower`);
      }
      assert.equal(progress.length, 80);
      assert.equal(progress.at(-1)!.done, progress.at(-1)!.total);
    } finally {
      net.dispose();
    }
  });

  it('Adam also makes stripes, and a flat style gives a flat result in its colour', async () => {
    const net = smallNet();
    try {
      const striped = await stylizeGatys(flat(32, 128), [{ image: stripes(48, 8), weight: 1 }], { size: 32, startSize: 32, iterations: 60, optimizer: 'adam', learningRate: 20 }, net, rng(2));
      const e = gradientEnergy(striped);
      assert.ok(e.vertical < e.horizontal / 2, `Adam: vertical ${e.vertical.toFixed(0)} < horizontal ${e.horizontal.toFixed(0)} / 2`);
      const plain = await stylizeGatys(smoothSource(32, 32), [{ image: flat(32, 70), weight: 1 }], { size: 32, startSize: 32, iterations: 5 }, net, rng(2));
      assert.ok(plain.data.every((v) => Math.abs(v - 70) < 0.5), 'every pixel in the flat style\'s colour');
    } finally {
      net.dispose();
    }
  });

  it('is deterministic for a seed (bit for bit), varies with it, and leaks no tensors', async () => {
    const net = smallNet();
    const content = smoothSource(40, 30);
    const styles = [{ image: stripes(40, 6), weight: 2 }, { image: smoothSource(36, 36), weight: 1 }];
    const o: Partial<GatysOptions> = { size: 32, startSize: 16, iterations: 8, finalIterations: 4 };
    try {
      const before = tf.memory().numTensors;
      const a = await stylizeGatys(content, styles, o, net, rng(42));
      assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
      const b = await stylizeGatys(content, styles, o, net, rng(42));
      const c = await stylizeGatys(content, styles, { ...o, optimizer: 'adam' }, net, rng(43));
      assert.equal(tf.memory().numTensors, before, 'no tensor leaked (Adam either)');
      assert.equal(a.width, 32);
      assert.equal(a.height, 32);
      assert.deepEqual(Buffer.from(a.data.buffer), Buffer.from(b.data.buffer), 'same seed, same pastiche');
      assert.notDeepEqual(Buffer.from(a.data.buffer), Buffer.from(c.data.buffer), 'another seed, another pastiche');
    } finally {
      net.dispose();
    }
    // The same seed gives the same filters; a net's weights are all it owns.
    const counted = tf.memory().numTensors;
    const n1 = randomFeatureNet({ seed: 9, filters: 4, octaves: 2 });
    const n2 = randomFeatureNet({ seed: 9, filters: 4, octaves: 2 });
    const n3 = randomFeatureNet({ seed: 10, filters: 4, octaves: 2 });
    const x = tf.tensor4d(smoothSource(16, 16).data, [1, 16, 16, 3]);
    const [a1, a2, a3] = [n1, n2, n3].map((n) => n.activations(x, ['octave1'])[0]!);
    assert.deepEqual(await a1!.data(), await a2!.data());
    assert.notDeepEqual(await a1!.data(), await a3!.data());
    assert.deepEqual(a1!.shape, [1, 8, 8, 3 * 4]);
    tf.dispose([x, a1!, a2!, a3!]);
    for (const n of [n1, n2, n3]) n.dispose();
    assert.equal(tf.memory().numTensors, counted, 'dispose() frees every weight');
  });

  it('a VGG-like ONNX file gives the activations ONNX Runtime computes from it, within 1e-4 relative RMS', async () => {
    const size = 20;
    const { bytes, outputs } = tinyVgg(size);
    const file = path.join(dir, 'tiny-vgg.onnx');
    await writeFile(file, bytes);
    const net = await onnxFeatureNet(file, { pooling: 'max' });
    const session = await ort.InferenceSession.create(file);
    try {
      assert.deepEqual(net.layers.map((l) => l.name), ['conv1_1', 'relu1_1', 'conv1_2', 'relu1_2', 'pool1', 'conv2_1', 'relu2_1'], 'the Flatten ends the features');
      assert.deepEqual(net.layers.map((l) => l.source), outputs.slice(0, 7));
      assert.deepEqual(net.styleLayers, ['relu1_1', 'relu2_1']);
      assert.equal(net.contentLayer, 'relu2_1');
      const img = smoothSource(size, size);
      const results = await session.run({ image: new ort.Tensor('float32', imagenetNchw(img), [1, 3, size, size]) });
      const x = tf.tensor4d(img.data, [1, size, size, 3]);
      const acts = net.activations(x, net.layers.map((l) => l.name));
      for (const [i, layer] of net.layers.entries()) {
        const ours = await toNchw(acts[i]!);
        const theirs = results[layer.source!]!.data as Float32Array;
        const err = relativeRms(ours, theirs);
        assert.ok(err <= 1e-4, `${layer.name} (${layer.source}): relative RMS ${err.toExponential(2)} > 1e-4`);
      }
      tf.dispose([x, ...acts]);

      // Average pooling (Gatys's choice, the default) differs from the file's max pools only after the pool.
      const avg = await onnxFeatureNet(file);
      const y = tf.tensor4d(img.data, [1, size, size, 3]);
      const [r12, p1] = avg.activations(y, ['relu1_2', 'pool1']);
      assert.ok(relativeRms(await toNchw(r12!), results.r12!.data as Float32Array) <= 1e-4);
      assert.ok(relativeRms(await toNchw(p1!), results.p1!.data as Float32Array) > 1e-2, 'average pooling is not max pooling');
      tf.dispose([y, r12!, p1!]);
      // The net drives the optimisation too: gradients pass its convs and pools.
      const before = tf.memory().numTensors;
      const progress: number[] = [];
      await stylizeGatys(smoothSource(24, 24), [{ image: stripes(24, 6), weight: 1 }], { size: 24, startSize: 24, iterations: 10 }, avg, rng(1), (p) => progress.push(p.style));
      assert.equal(tf.memory().numTensors, before);
      assert.ok(progress.at(-1)! < progress[0]!, `style loss ${progress[0]!.toExponential(2)} → ${progress.at(-1)!.toExponential(2)}`);
      avg.dispose();
    } finally {
      net.dispose();
      await session.release();
    }
  });

  it('refuses a file that is not ONNX, an ONNX model with no Conv, one of unexpected shapes and a batch-normalised VGG, naming the file', async () => {
    const text = path.join(dir, 'notes.onnx');
    await writeFile(text, 'these are not the weights you are looking for\n');
    await rejectsWith(onnxFeatureNet(text), 'ONNX_INVALID', text, 'not an ONNX model');
    const noise = path.join(dir, 'noise.onnx');
    await writeFile(noise, Uint8Array.from(gaussianArray(4096, 3), (v) => Math.abs(Math.round(v * 80)) & 255));
    await rejectsWith(onnxFeatureNet(noise), 'ONNX_INVALID', noise);
    await rejectsWith(onnxFeatureNet(path.join(dir, 'missing.onnx')), 'NOT_FOUND', 'missing.onnx');

    const counted = tf.memory().numTensors;
    const g = new OnnxGraph();
    const r = g.op('Relu', [g.input('image')], {}, 'r');
    g.op('MaxPool', [r], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } }, 'p');
    const noConv = path.join(dir, 'no-conv.onnx');
    await writeFile(noConv, g.encode({ inputs: [{ name: 'image', dims: [1, 3, 8, 8] }], outputs: [{ name: 'p', dims: [1, 3, 4, 4] }], graphName: 'pools' }));
    await rejectsWith(onnxFeatureNet(noConv), 'ONNX_UNSUPPORTED_SIGNATURE', noConv, 'no Conv');

    // A conv that expects 4 input channels where the image has 3.
    const h = new OnnxGraph();
    const w = h.floats('w_bad', new Float32Array(2 * 4 * 9), [2, 4, 3, 3]);
    h.op('Conv', [h.input('image'), w], { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } }, 'c');
    const badShape = path.join(dir, 'bad-shape.onnx');
    await writeFile(badShape, h.encode({ inputs: [{ name: 'image', dims: [1, 3, 8, 8] }], outputs: [{ name: 'c', dims: [1, 2, 8, 8] }], graphName: 'bad' }));
    await rejectsWith(onnxFeatureNet(badShape), 'ONNX_UNSUPPORTED_SIGNATURE', badShape, 'w_bad', '[2, 4, 3, 3]');

    // VGG19_bn: a BatchNormalization after the first conv would otherwise end the features after one layer.
    const bn = new OnnxGraph();
    const c = bn.op('Conv', [bn.input('image'), bn.floats('w', new Float32Array(2 * 3 * 9), [2, 3, 3, 3])], { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } });
    const stats = ['gamma', 'beta', 'mean', 'var'].map((n) => bn.floats(n, Float32Array.of(1, 1), [2]));
    bn.op('BatchNormalization', [c, ...stats], {}, 'n');
    const withBn = path.join(dir, 'vgg-bn.onnx');
    await writeFile(withBn, bn.encode({ inputs: [{ name: 'image', dims: [1, 3, 8, 8] }], outputs: [{ name: 'n', dims: [1, 2, 8, 8] }], graphName: 'bn' }));
    await rejectsWith(onnxFeatureNet(withBn), 'ONNX_UNSUPPORTED_SIGNATURE', withBn, 'batch normalisation');
    assert.equal(tf.memory().numTensors, counted, 'a refused file leaves no weights behind');
  });

  it('refuses options, inputs and layer names out of range, naming them', async () => {
    const net = smallNet();
    const content = flat(32, 10);
    const style = [{ image: flat(32, 200), weight: 1 }];
    try {
      await rejectsWith(stylizeGatys(content, style, { size: 64, startSize: 128 }, net, rng(1)), 'BAD_OPTION', 'startSize', '128');
      await rejectsWith(stylizeGatys(content, style, { optimizer: 'sgd' as GatysOptions['optimizer'] }, net, rng(1)), 'BAD_OPTION', 'optimizer', 'sgd');
      await rejectsWith(stylizeGatys(content, style, { styleLayers: ['relu1_1'] }, net, rng(1)), 'BAD_OPTION', 'relu1_1', 'octave0');
      await rejectsWith(stylizeGatys(content, [], {}, net, rng(1)), 'BAD_OPTION', 'style');
      await rejectsWith(stylizeGatys(content, style, { bogus: 1 } as Partial<GatysOptions>, net, rng(1)), 'BAD_OPTION', 'bogus');
      throwsWith(() => randomFeatureNet({ sizes: [4] }), 'BAD_OPTION', 'odd');
      throwsWith(() => randomFeatureNet({ octaves: 9 }), 'BAD_OPTION', 'octaves');
    } finally {
      net.dispose();
    }
  });
});
