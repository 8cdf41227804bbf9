// ESRGAN from the weights in @upscalerjs/esrgan-slim: the ONNX graph we build from the Keras layers agrees
// with tfjs running the Keras model itself; the output is the input, larger; tfjs leaks no tensors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { setLogLevel } from '../core/log.ts';
import { openUpscaler } from '../core/upscale/esrgan.ts';

async function picture(size: number): Promise<Uint8Array> {
  const svg = `<svg width="${size}" height="${size}"><rect width="${size}" height="${size}" fill="#203050"/><circle cx="${size / 2}" cy="${size / 2}" r="${size / 3}" fill="#e83"/><rect x="2" y="2" width="${size / 4}" height="${size / 5}" fill="#fff"/></svg>`;
  return new Uint8Array(await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer());
}

describe('ESRGAN upscaling', () => {
  for (const factor of [2, 4] as const) {
    it(`×${factor}: ONNX Runtime and tfjs-wasm agree within 1/255, and the picture is the input's`, async () => {
      setLogLevel('warn');
      const size = 24;
      const img = await picture(size);
      const ortUp = await openUpscaler(factor, { engine: 'ort', ort: { intraOpNumThreads: 1 } });
      const tfUp = await openUpscaler(factor, { engine: 'tfjs-wasm' });
      try {
        const a = await ortUp.upscale(img, 1, size, size);
        const before = tf.memory().numTensors;
        const b = await tfUp.upscale(img, 1, size, size);
        assert.equal(tf.memory().numTensors, before, 'tfjs disposes every tensor of a call');
        const big = size * factor;
        assert.equal(a.length, big * big * 3);
        let max = 0;
        for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
        assert.ok(max <= 1, `the two engines differ by at most 1/255 (got ${max})`);
        const down = await sharp(Buffer.from(a), { raw: { width: big, height: big, channels: 3 } }).resize(size, size, { kernel: 'cubic' }).raw().toBuffer();
        const mad = down.reduce((acc, v, i) => acc + Math.abs(v - img[i]!), 0) / down.length;
        assert.ok(mad < 8, `shrunk back, the upscaled picture is the input (mean |Δ| ${mad.toFixed(1)} of 255)`);
        // A batch of two gives each frame what it gets alone.
        const two = await ortUp.upscale(new Uint8Array([...img, ...img]), 2, size, size);
        assert.deepEqual(two.subarray(a.length), a);
      } finally {
        await ortUp.dispose();
        await tfUp.dispose();
      }
    });
  }
});
