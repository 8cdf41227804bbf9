/**
 * The wasm patches against tfjs-cpu: same inputs, reference computed on 'cpu' and copied out, then the same on
 * 'wasm'; relative RMS error ≤ 1e-4, and no tensor or wasm buffer left behind by a patched kernel.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '../core/tfjs-gradients.ts';
import { rng } from '../core/random.ts';
import { relativeRms } from './helpers/models.ts';
import {
  applyWasmPatches,
  patchConv2DBackpropInput,
  registerComparisonGradients,
  setFastLeakyRelu,
  ZERO_GRADIENT_KERNELS,
} from '../core/wasm-patches/index.ts';
import { conv2DBackpropInputMethod } from '../core/wasm-patches/conv2d-backprop-input.ts';

const TOLERANCE = 1e-4;

const int = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

function randomData(r: () => number, shape: number[]): Float32Array {
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < out.length; i++) out[i] = r() * 2 - 1;
  return out;
}

interface Out {
  shape: number[];
  data: Float32Array;
}

const wasmDataIds = (): number => (tf.engine().backend as unknown as { numDataIds(): number }).numDataIds();

/**
 * Runs `fn` on a backend over tensors made from `inputs`, copies its outputs out and disposes everything.
 * On wasm it also checks that no tensor and no wasm buffer outlives the call.
 */
async function compute(
  backend: 'cpu' | 'wasm',
  inputs: Out[],
  fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<Out[]> {
  assert.ok(await tf.setBackend(backend));
  const tensorsBefore = tf.memory().numTensors;
  const idsBefore = wasmDataIds();
  const outs = tf.tidy(() => {
    const r = fn(...inputs.map((i) => tf.tensor(i.data, i.shape)));
    return Array.isArray(r) ? r : [r];
  });
  const copied = outs.map((t) => ({ shape: t.shape, data: new Float32Array(t.dataSync()) }));
  tf.dispose(outs);
  assert.equal(tf.memory().numTensors, tensorsBefore, `${backend}: tensors leaked`);
  assert.equal(wasmDataIds(), idsBefore, `${backend}: backend buffers leaked`);
  return copied;
}

async function assertMatchesCpu(
  label: string,
  inputs: Out[],
  fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<void> {
  const ref = await compute('cpu', inputs, fn);
  const got = await compute('wasm', inputs, fn);
  assert.equal(got.length, ref.length);
  ref.forEach((r, i) => {
    const g = got[i]!;
    assert.deepEqual(g.shape, r.shape, `${label}: output ${i} shape`);
    const err = relativeRms(g.data, r.data);
    assert.ok(err <= TOLERANCE, `${label}: output ${i} relative RMS error ${err.toExponential(2)} > ${TOLERANCE}`);
  });
}

type Pad = 'same' | 'valid';

interface ConvCase {
  label: string;
  x: Out;
  dy: Out;
  filterShape: [number, number, number, number];
  stride: number;
  pad: Pad;
}

/** Every kernel size × stride × padding × odd/even size, with random batch, channels and sizes per seed. */
function convCases(seed: number): ConvCase[] {
  const r = rng(seed);
  const cases: ConvCase[] = [];
  for (const k of [1, 3, 4, 5]) {
    for (const stride of [1, 2]) {
      for (const pad of ['same', 'valid'] as const) {
        for (const parity of [0, 1]) {
          const n = int(r, 1, 4);
          const ci = int(r, 1, 16);
          const co = int(r, 1, 16);
          const h = 2 * int(r, 3, 6) + parity; // 6..13, odd or even
          const w = 2 * int(r, 3, 6) + 1 - parity;
          const filterShape: [number, number, number, number] = [k, k, ci, co];
          const info = tf.backend_util.computeConv2DInfo([n, h, w, ci], filterShape, stride, 1, pad);
          cases.push({
            label: `seed ${seed} x[${n},${h},${w},${ci}] k${k} s${stride} ${pad} co${co}`,
            x: { shape: [n, h, w, ci], data: randomData(r, [n, h, w, ci]) },
            dy: { shape: info.outShape, data: randomData(r, info.outShape) },
            filterShape,
            stride,
            pad,
          });
        }
      }
    }
  }
  return cases;
}

const SEEDS = [1, 2, 3];

before(async () => {
  assert.ok(await tf.setBackend('wasm'));
  await tf.ready();
  applyWasmPatches();
});

describe('applyWasmPatches', () => {
  test('is idempotent: a second call changes nothing', () => {
    const kernelFunc = tf.getKernel('BatchMatMul', 'wasm').kernelFunc;
    const again = applyWasmPatches();
    assert.deepEqual(again, { kernels: [], gradients: [] });
    assert.equal(tf.getKernel('BatchMatMul', 'wasm').kernelFunc, kernelFunc);
    assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'));
  });
});

describe('Conv2DBackpropFilter on wasm', () => {
  const runKernel = (x: tf.Tensor, dy: tf.Tensor, c: Omit<ConvCase, 'x' | 'dy' | 'label'>): tf.Tensor =>
    tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
      strides: c.stride,
      pad: c.pad,
      dataFormat: 'NHWC',
      filterShape: c.filterShape,
    } as unknown as tf.NamedAttrMap) as tf.Tensor;

  for (const seed of SEEDS) {
    test(`kernel matches cpu on 32 random shapes (seed ${seed})`, async () => {
      for (const c of convCases(seed)) {
        await assertMatchesCpu(c.label, [c.x, c.dy], (x, dy) => runKernel(x!, dy!, c));
      }
    });
  }

  test('explicit padding', async () => {
    const r = rng(7);
    const pad = [[0, 0], [2, 1], [0, 3], [0, 0]] as tf.backend_util.ExplicitPadding;
    const filterShape: [number, number, number, number] = [3, 4, 5, 6];
    const info = tf.backend_util.computeConv2DInfo([2, 9, 8, 5], filterShape, 2, 1, pad);
    const x = { shape: [2, 9, 8, 5], data: randomData(r, [2, 9, 8, 5]) };
    const dy = { shape: info.outShape, data: randomData(r, info.outShape) };
    await assertMatchesCpu('explicit pad', [x, dy], (xt, dyt) =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x: xt!, dy: dyt! }, {
        strides: 2, pad, dataFormat: 'NHWC', filterShape,
      } as unknown as tf.NamedAttrMap) as tf.Tensor);
  });

  test('NCHW is refused with a clear message', async () => {
    assert.ok(await tf.setBackend('wasm'));
    const tensorsBefore = tf.memory().numTensors;
    const idsBefore = wasmDataIds();
    const x = tf.zeros([1, 2, 5, 5]);
    const dy = tf.zeros([1, 3, 5, 5]);
    assert.throws(
      () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
        strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 3],
      } as unknown as tf.NamedAttrMap),
      /NHWC.*only.*NCHW/,
    );
    tf.dispose([x, dy]);
    assert.equal(tf.memory().numTensors, tensorsBefore);
    assert.equal(wasmDataIds(), idsBefore);
  });

  test('as the gradient of conv2d (tf.grad) matches cpu', async () => {
    for (const seed of SEEDS) {
      for (const c of convCases(seed).filter((_, i) => i % 3 === seed % 3)) {
        const [, , ci, co] = c.filterShape;
        const w = { shape: c.filterShape, data: randomData(rng(seed + 100), c.filterShape) };
        // d/dw Σ conv2d(x, w) · dy  =  Conv2DBackpropFilter(x, dy)
        await assertMatchesCpu(`grad ${c.label} ${ci}→${co}`, [c.x, w, c.dy], (x, wt, dy) =>
          tf.grad((wv: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, wv as tf.Tensor4D, c.stride, c.pad), dy!)))(wt!));
      }
    }
  });

  test('as the filter gradient of conv2dTranspose matches cpu', async () => {
    for (const seed of SEEDS) {
      const r = rng(seed + 200);
      for (const [k, stride, pad] of [[4, 2, 'same'], [3, 1, 'same'], [5, 2, 'valid'], [3, 2, 'valid']] as const) {
        const n = int(r, 1, 4);
        const cin = int(r, 1, 16);
        const cout = int(r, 1, 16);
        const h = int(r, 3, 7);
        const w = int(r, 3, 7);
        const outH = pad === 'same' ? h * stride : (h - 1) * stride + k;
        const outW = pad === 'same' ? w * stride : (w - 1) * stride + k;
        const filterShape = [k, k, cout, cin]; // conv2dTranspose filter: [kh, kw, outChannels, inChannels]
        const x = { shape: [n, h, w, cin], data: randomData(r, [n, h, w, cin]) };
        const f = { shape: filterShape, data: randomData(r, filterShape) };
        const up = { shape: [n, outH, outW, cout], data: randomData(r, [n, outH, outW, cout]) };
        await assertMatchesCpu(`conv2dTranspose seed ${seed} k${k} s${stride} ${pad}`, [x, f, up], (xt, ft, upt) =>
          tf.grad((fv: tf.Tensor) =>
            tf.sum(tf.mul(tf.conv2dTranspose(xt as tf.Tensor4D, fv as tf.Tensor4D, [n, outH, outW, cout], stride, pad), upt!)),
          )(ft!));
      }
    }
  });
});

describe('transposed matMul on wasm', () => {
  const combos = [[false, false], [true, false], [false, true], [true, true]] as const;

  for (const seed of SEEDS) {
    test(`BatchMatMul, all four transpose flags, batched 3D (seed ${seed})`, async () => {
      const r = rng(seed + 300);
      for (const [ta, tb] of combos) {
        const batch = int(r, 1, 4);
        const m = int(r, 1, 40);
        const k = int(r, 1, 40);
        const n = int(r, 1, 40);
        const a = { shape: ta ? [batch, k, m] : [batch, m, k], data: randomData(r, [batch, m, k]) };
        const b = { shape: tb ? [batch, n, k] : [batch, k, n], data: randomData(r, [batch, k, n]) };
        await assertMatchesCpu(`matMul b${batch} ${m}×${k}×${n} tA=${ta} tB=${tb}`, [a, b], (at, bt) =>
          tf.matMul(at!, bt!, ta, tb));
      }
    });
  }

  test('2D and broadcast batch', async () => {
    const r = rng(400);
    for (const [ta, tb] of combos) {
      const a2 = { shape: ta ? [17, 9] : [9, 17], data: randomData(r, [9, 17]) };
      const b2 = { shape: tb ? [5, 17] : [17, 5], data: randomData(r, [17, 5]) };
      await assertMatchesCpu(`2D tA=${ta} tB=${tb}`, [a2, b2], (at, bt) => tf.matMul(at!, bt!, ta, tb));
      const a3 = { shape: ta ? [1, 8, 6] : [1, 6, 8], data: randomData(r, [1, 6, 8]) };
      const b3 = { shape: tb ? [3, 4, 8] : [3, 8, 4], data: randomData(r, [3, 8, 4]) };
      await assertMatchesCpu(`broadcast tA=${ta} tB=${tb}`, [a3, b3], (at, bt) => tf.matMul(at!, bt!, ta, tb));
    }
  });

  test('_FusedMatMul with bias and activation, all four flags, batch 1 and 2', async () => {
    const r = rng(500);
    const activations = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const;
    for (const batch of [1, 2]) {
      for (const [ta, tb] of combos) {
        for (const activation of activations) {
          const a = { shape: ta ? [batch, 11, 7] : [batch, 7, 11], data: randomData(r, [batch, 7, 11]) };
          const b = { shape: tb ? [batch, 13, 11] : [batch, 11, 13], data: randomData(r, [batch, 11, 13]) };
          const bias = { shape: [13], data: randomData(r, [13]) };
          const prelu = { shape: [13], data: randomData(r, [13]) };
          await assertMatchesCpu(`fused b${batch} tA=${ta} tB=${tb} ${activation}`, [a, b, bias, prelu], (at, bt, bi, pw) =>
            tf.fused.matMul({
              a: at!, b: bt!, transposeA: ta, transposeB: tb, bias: bi!, activation,
              ...(activation === 'prelu' ? { preluActivationWeights: pw! } : {}),
              ...(activation === 'leakyrelu' ? { leakyreluAlpha: 0.3 } : {}),
            }));
        }
      }
    }
  });
});

describe('zero gradients for comparisons', () => {
  test('never replace a registered gradient and cover every comparison', () => {
    const before = Object.fromEntries(Object.keys(ZERO_GRADIENT_KERNELS).map((k) => [k, tf.getGradient(k)]));
    assert.deepEqual(registerComparisonGradients(), []); // already done by applyWasmPatches
    for (const [k, config] of Object.entries(before)) {
      assert.ok(config, `${k} has a gradient`);
      assert.equal(tf.getGradient(k), config, `${k}'s gradient unchanged`);
    }
  });

  test('gradient of a comparison is zero, float32, input-shaped', async () => {
    assert.ok(await tf.setBackend('wasm'));
    const g = tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.cast(tf.greater(a, b), 'float32'), a)))([tf.tensor2d([[1, -2, 3]]), tf.tensor1d([0, 0, 0])]));
    assert.deepEqual(g.map((t) => t.dtype), ['float32', 'float32']);
    assert.deepEqual(Array.from(g[0]!.dataSync()), [1, 0, 1]);
    assert.deepEqual(Array.from(g[1]!.dataSync()), [0, 0, 0]);
    tf.dispose(g);
  });

  test('gradient penalty (second order through leakyRelu and maximum) runs on wasm and matches cpu', async () => {
      for (const seed of SEEDS) {
        const r = rng(seed + 600);
        const n = int(r, 1, 4);
        const x = { shape: [n, 8, 8, 3], data: randomData(r, [n, 8, 8, 3]) };
        const w1 = { shape: [4, 4, 3, 8], data: randomData(r, [4, 4, 3, 8]) };
        const w2 = { shape: [3, 3, 8, 6], data: randomData(r, [3, 3, 8, 6]) };
        const w3 = { shape: [4 * 4 * 6, 1], data: randomData(r, [96, 1]) };
        // D: conv s2 → leakyRelu → conv → maximum(h, 0.2h) → dense. Penalty: mean over samples of (‖∂D/∂x‖ − 1)².
        const critic = (xv: tf.Tensor, a: tf.Tensor, b: tf.Tensor, c: tf.Tensor): tf.Tensor => {
          const h1 = tf.leakyRelu(tf.conv2d(xv as tf.Tensor4D, a as tf.Tensor4D, 2, 'same'), 0.2);
          const z = tf.conv2d(h1, b as tf.Tensor4D, 1, 'same');
          const h2 = tf.maximum(z, tf.mul(z, 0.2));
          return tf.matMul(tf.reshape(h2, [xv.shape[0]!, -1]), c);
        };
        await assertMatchesCpu(`gradient penalty seed ${seed}`, [x, w1, w2, w3], (xt, a, b, c) =>
          tf.grads((av: tf.Tensor, bv: tf.Tensor, cv: tf.Tensor) => {
            const dDdx = tf.grad((xv: tf.Tensor) => tf.sum(critic(xv, av, bv, cv)))(xt!);
            const norm = tf.sqrt(tf.add(tf.sum(tf.square(dDdx), [1, 2, 3]), 1e-12));
            return tf.mean(tf.square(tf.sub(norm, 1)));
          })([a!, b!, c!]));
      }
    });
});

describe('Conv2DBackpropInput on wasm (sub-pixel)', () => {
  const METHODS = ['combined', 'phases', 'auto'] as const;
  after(() => {
    conv2DBackpropInputMethod.use = 'auto';
  });

  interface TransposeCase {
    label: string;
    dy: Out; // conv2dTranspose's x: [n, OH, OW, co]
    filter: Out; // [k, k, ci, co]
    dxShape: [number, number, number, number];
    stride: number;
    pad: Pad;
  }

  /** k 1–5 × stride 1–3 × same/valid × odd/even dx sizes, with random batch (1–4) and channels (1–16). */
  function transposeCases(seed: number): TransposeCase[] {
    const r = rng(seed + 700);
    const cases: TransposeCase[] = [];
    for (const k of [1, 2, 3, 4, 5]) {
      for (const stride of [1, 2, 3]) {
        for (const pad of ['same', 'valid'] as const) {
          for (const parity of [0, 1]) {
            const n = int(r, 1, 4);
            // Half the cases with ≥ 8 dx channels, where 'auto' takes the per-phase path.
            const ci = parity === 0 ? int(r, 1, 16) : int(r, 8, 16);
            const co = int(r, 1, 16);
            const h = 2 * int(r, 3, 6) + parity;
            const w = 2 * int(r, 3, 6) + 1 - parity;
            const filterShape: [number, number, number, number] = [k, k, ci, co];
            const info = tf.backend_util.computeConv2DInfo([n, h, w, ci], filterShape, stride, 1, pad);
            cases.push({
              label: `seed ${seed} dx[${n},${h},${w},${ci}] k${k} s${stride} ${pad} co${co}`,
              dy: { shape: info.outShape, data: randomData(r, info.outShape) },
              filter: { shape: filterShape, data: randomData(r, filterShape) },
              dxShape: [n, h, w, ci],
              stride,
              pad,
            });
          }
        }
      }
    }
    return cases;
  }

  /** Counts calls of wasm's Conv2D kernel (XNNPACK) while `body` runs. */
  async function countConv2D(body: () => Promise<void>): Promise<number> {
    const original = tf.getKernel('Conv2D', 'wasm');
    let calls = 0;
    tf.unregisterKernel('Conv2D', 'wasm');
    tf.registerKernel({ ...original, kernelFunc: (args) => (calls++, original.kernelFunc(args)) });
    try {
      await body();
    } finally {
      tf.unregisterKernel('Conv2D', 'wasm');
      tf.registerKernel(original);
    }
    return calls;
  }

  test('is patched once: a second patch changes nothing', () => {
    const kernelFunc = tf.getKernel('Conv2DBackpropInput', 'wasm').kernelFunc;
    assert.deepEqual(patchConv2DBackpropInput(), []);
    assert.deepEqual(applyWasmPatches(), { kernels: [], gradients: [] });
    assert.equal(tf.getKernel('Conv2DBackpropInput', 'wasm').kernelFunc, kernelFunc);
  });

  for (const method of METHODS) {
    test(`conv2dTranspose matches cpu on 60 random shapes per seed (${method})`, async () => {
      conv2DBackpropInputMethod.use = method;
      for (const seed of SEEDS) {
        for (const c of transposeCases(seed)) {
          await assertMatchesCpu(`${method} ${c.label}`, [c.dy, c.filter], (dy, f) =>
            tf.conv2dTranspose(dy as tf.Tensor4D, f as tf.Tensor4D, c.dxShape, c.stride, c.pad));
        }
      }
    });
  }

  test('as the input gradient of conv2d (tf.grad w.r.t. x) matches cpu', async () => {
    for (const method of METHODS) {
      conv2DBackpropInputMethod.use = method;
      for (const seed of SEEDS) {
        for (const c of convCases(seed).filter((_, i) => i % 2 === seed % 2)) {
          const w = { shape: c.filterShape, data: randomData(rng(seed + 800), c.filterShape) };
          // d/dx Σ conv2d(x, w) · dy  =  Conv2DBackpropInput(dy, w)
          await assertMatchesCpu(`${method} dx ${c.label}`, [c.x, w, c.dy], (x, wt, dy) =>
            tf.grad((xv: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xv as tf.Tensor4D, wt as tf.Tensor4D, c.stride, c.pad), dy!)))(x!));
        }
      }
    }
  });

  test('explicit and numeric padding, uneven strides and kernels', async () => {
    const r = rng(900);
    type P = tf.backend_util.ExplicitPadding | number;
    const cases: [number[], [number, number], [number, number], P, 'floor' | 'round' | 'ceil' | undefined][] = [
      // dx shape, kernel, strides, pad, rounding
      [[2, 9, 8, 9], [3, 4], [2, 2], [[0, 0], [2, 1], [0, 3], [0, 0]], undefined],
      [[1, 7, 7, 10], [2, 2], [2, 2], [[0, 0], [4, 0], [0, 5], [0, 0]], undefined], // padding past the kernel
      [[2, 11, 10, 12], [5, 3], [3, 2], [[0, 0], [1, 2], [2, 2], [0, 0]], undefined],
      [[3, 10, 9, 9], [4, 4], [1, 2], 1, 'floor'],
      [[2, 13, 12, 16], [5, 5], [3, 3], 2, 'ceil'],
      [[2, 8, 9, 3], [3, 2], [2, 1], [[0, 0], [0, 0], [1, 1], [0, 0]], undefined],
    ];
    for (const method of METHODS) {
      conv2DBackpropInputMethod.use = method;
      for (const [dxShape, [kh, kw], strides, pad, rounding] of cases) {
        const co = int(r, 1, 12);
        const filterShape = [kh, kw, dxShape[3]!, co];
        const info = tf.backend_util.computeConv2DInfo(
          dxShape as [number, number, number, number], filterShape as [number, number, number, number], strides, 1, pad, rounding);
        const dy = { shape: info.outShape, data: randomData(r, info.outShape) };
        const f = { shape: filterShape, data: randomData(r, filterShape) };
        await assertMatchesCpu(`${method} dx[${dxShape}] k${kh}×${kw} s${strides} pad ${JSON.stringify(pad)}`, [dy, f], (dyt, ft) =>
          tf.engine().runKernel('Conv2DBackpropInput', { dy: dyt!, filter: ft! }, {
            strides, pad, dataFormat: 'NHWC', dimRoundingMode: rounding, inputShape: dxShape,
          } as unknown as tf.NamedAttrMap) as tf.Tensor);
      }
    }
  });

  test('runs on wasm\'s Conv2D (one call, or one per phase); NCHW goes to the original kernel', async () => {
    const r = rng(1000);
    const dy = { shape: [2, 5, 5, 6], data: randomData(r, [2, 5, 5, 6]) };
    const f = { shape: [4, 4, 8, 6], data: randomData(r, [4, 4, 8, 6]) };
    const run = (dyt?: tf.Tensor, ft?: tf.Tensor): tf.Tensor => tf.conv2dTranspose(dyt as tf.Tensor4D, ft as tf.Tensor4D, [2, 10, 10, 8], 2, 'same');
    const calls: Record<string, number> = {};
    for (const method of METHODS) {
      conv2DBackpropInputMethod.use = method;
      calls[method] = await countConv2D(() => assertMatchesCpu(`count ${method}`, [dy, f], run));
    }
    assert.deepEqual(calls, { combined: 1, phases: 4, auto: 4 });

    const dyNchw = { shape: [2, 6, 5, 5], data: dy.data };
    const nchw = await countConv2D(() => assertMatchesCpu('NCHW', [dyNchw, f], (dyt, ft) =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy: dyt!, filter: ft! }, {
        strides: 2, pad: 'same', dataFormat: 'NCHW', inputShape: [2, 8, 10, 10],
      } as unknown as tf.NamedAttrMap) as tf.Tensor));
    assert.equal(nchw, 0);
  });

  test('second order through it (a gradient penalty over a strided conv) matches cpu', async () => {
    const r = rng(1100);
    const x = { shape: [3, 9, 9, 8], data: randomData(r, [3, 9, 9, 8]) };
    const w1 = { shape: [3, 3, 8, 12], data: randomData(r, [3, 3, 8, 12]) };
    const w2 = { shape: [4, 4, 12, 5], data: randomData(r, [4, 4, 12, 5]) };
    for (const method of METHODS) {
      conv2DBackpropInputMethod.use = method;
      await assertMatchesCpu(`penalty ${method}`, [x, w1, w2], (xt, a, b) =>
        tf.grads((av: tf.Tensor, bv: tf.Tensor) => {
          const dDdx = tf.grad((xv: tf.Tensor) => {
            const h = tf.tanh(tf.conv2d(xv as tf.Tensor4D, av as tf.Tensor4D, 2, 'same'));
            return tf.sum(tf.square(tf.conv2d(h, bv as tf.Tensor4D, 2, 'valid')));
          })(xt!);
          return tf.mean(tf.square(tf.sub(tf.sqrt(tf.add(tf.sum(tf.square(dDdx), [1, 2, 3]), 1e-12)), 1)));
        })([a!, b!]));
    }
  });
});

describe('leakyRelu on wasm (Step × Multiply)', () => {
  test("is bit-identical to tfjs's own kernel and gradient, first and second order, and leaves nothing behind", async () => {
    const r = rng(700);
    const x = { shape: [3, 9, 7, 5], data: randomData(r, [3, 9, 7, 5]) };
    x.data[0] = 0; // the kink itself: both sides take the α branch
    const w = { shape: [3, 3, 5, 4], data: randomData(r, [3, 3, 5, 4]) };
    const penalty = (xt?: tf.Tensor, wt?: tf.Tensor): tf.Tensor[] => {
      const f = (xv: tf.Tensor, wv: tf.Tensor): tf.Tensor => tf.sum(tf.leakyRelu(tf.conv2d(tf.leakyRelu(xv, 0.2) as tf.Tensor4D, wv as tf.Tensor4D, 1, 'same'), 0.1));
      const y = tf.leakyRelu(xt!, 0.2);
      const dx = tf.grad((xv: tf.Tensor) => f(xv, wt!))(xt!);
      const dw = tf.grad((wv: tf.Tensor) => tf.sum(tf.square(tf.grad((xv: tf.Tensor) => f(xv, wv))(xt!))))(wt!);
      return [y, dx, dw];
    };
    const marked = tf.getKernel('LeakyRelu', 'wasm').kernelFunc as unknown as Record<symbol, unknown>;
    assert.equal(marked[Symbol.for('rhodops.wasmPatch.leakyRelu')], true, 'the patched kernel is the one registered, so the comparison below compares two things');
    const fast = await compute('wasm', [x, w], penalty);
    setFastLeakyRelu(false);
    try {
      const tfjs = await compute('wasm', [x, w], penalty);
      fast.forEach((f, i) => assert.deepEqual(f.data, tfjs[i]!.data, `output ${i} (${['forward', 'gradient', 'second order'][i]}) bit-identical`));
    } finally {
      setFastLeakyRelu(true);
    }
    assert.ok(fast[0]!.data.some((v) => v < 0) && fast[2]!.data.some((v) => v !== 0), 'the case has negative outputs and a non-zero second-order gradient');
  });
});
