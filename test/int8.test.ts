// int8 PGGAN generators: calibrated from the checkpoint's float weights when opened, close to float32 (PSNR),
// the up-convolution's four-phase form correct (a wrong phase or pad would cost tens of dB), and float32 kept
// with a log line where int8 does not apply.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { saveModelCheckpoint } from '../core/checkpoint/from-model.ts';
import { openCheckpoint, readWeights } from '../core/checkpoint/io.ts';
import { exportServing } from '../core/checkpoint/serving.ts';
import { setLogLevel } from '../core/log.ts';
import { generatorSpecs } from '../core/models/generator.ts';
import { initWeights } from '../core/models/params.ts';
import { pgganArch } from '../core/models/architectures.ts';
import { quantizePerChannel, uint8Params } from '../core/onnx/quantize.ts';
import { buildInt8Pggan, psnr } from '../core/runtime/int8.ts';
import { openGenerator } from '../core/runtime/open.ts';
import { defaultOrtOptions } from '../core/runtime/ort.ts';
import { gaussianArray } from '../core/random.ts';
import { DEFAULT_MODEL, DEMO_INFOGAN } from '../presets/bundled.ts';

let root: string;
const arch = pgganArch('narrow', 32, { latentSize: 32 });
const weights = initWeights(generatorSpecs(arch), 7);

/** What the module logs while `f` runs (the logger writes to stderr). */
async function stderrOf<T>(f: () => Promise<T>): Promise<{ value: T; text: string }> {
  const write = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    return { value: await f(), text };
  } finally {
    process.stderr.write = write;
  }
}

describe('int8 generators', () => {
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-int8-'));
    // With a critic's weight and optimizer state beside the generator's, as a training run leaves them.
    const extraWeights = new Map([
      ['d/8/conv/w', { shape: [3, 3, 4, 4], data: new Float32Array(144) }],
      ['opt/g/step', { shape: [1], data: new Float32Array(1) }],
    ]);
    await saveModelCheckpoint(path.join(root, 'pggan'), arch, weights, { name: 'pggan-narrow-32', extraWeights });
  });
  after(async () => {
    setLogLevel('silent');
    await fs.rm(root, { recursive: true, force: true });
  });

  it('uint8 grids hold 0 exactly and weights stay inside the chosen bits', () => {
    for (const r of [{ min: -0.7, max: 3.1 }, { min: 0.2, max: 5 }, { min: -4, max: -1 }]) {
      const p = uint8Params(r);
      assert.ok(Number.isInteger(p.zeroPoint) && p.zeroPoint >= 0 && p.zeroPoint <= 255);
      const half = p.scale / 2 + 1e-9;
      assert.ok(Math.min(r.min, 0) >= -p.zeroPoint * p.scale - half && Math.max(r.max, 0) <= (255 - p.zeroPoint) * p.scale + half, 'the range fits the grid (to half a step)');
      assert.ok(p.scale <= (Math.max(r.max, 0) - Math.min(r.min, 0)) / 255 + 1e-12, 'and uses all 256 levels');
    }
    const w = Float32Array.from(gaussianArray(4 * 27, 3));
    for (const bits of [7, 8] as const) {
      const { q, scales } = quantizePerChannel(w, 4, bits);
      const limit = (1 << (bits - 1)) - 1;
      assert.equal(Math.max(...Array.from(q, Math.abs)), limit, `each channel's largest weight takes the top level (${limit})`);
      let worst = 0;
      for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(q[i]! * scales[Math.floor(i / 27)]! - w[i]!) / scales[Math.floor(i / 27)]!);
      assert.ok(worst <= 0.5 + 1e-6, 'rounding error at most half a step');
    }
  });

  for (const [phase, bits] of [[{ resolution: 32, alpha: 1 }, 8], [{ resolution: 16, alpha: 0.4 }, 8], [{ resolution: 32, alpha: 1 }, 7]] as const) {
    it(`${phase.resolution}² α ${phase.alpha}, ${bits}-bit weights: the int8 model draws the float model's images (PSNR ≥ 30 dB)`, async () => {
      const b = await buildInt8Pggan(arch, weights, phase, defaultOrtOptions(), 'test', bits);
      assert.equal(b.convs, 2 * (Math.log2(phase.resolution) - 3), 'every 3×3 conv from 16² up, the up-convolutions included, is quantized');
      assert.ok(b.psnrDb >= 30, `PSNR ${b.psnrDb.toFixed(1)} dB`);
      assert.ok(b.psnrDb < 80, 'the model is really quantized (not the float graph again)');
    });
  }

  it('opens a PGGAN checkpoint in int8: named so, close to float32, different latents give different images', async () => {
    setLogLevel('info');
    const dir = path.join(root, 'pggan');
    const { value: int8, text } = await stderrOf(() => openGenerator(dir, { ort: { precision: 'int8' } }));
    setLogLevel('silent');
    const fp32 = await openGenerator(dir);
    try {
      assert.match(int8.info.engine, /int8/);
      assert.doesNotMatch(fp32.info.engine, /int8/);
      assert.match(text, /int8 \((7|8)-bit weights\), 4 convolutions calibrated in [\d.]+ s, PSNR [\d.]+ dB against float32/);
      const z = gaussianArray(3 * 32, 21);
      const [a, b] = [await fp32.generateFloat(z, 3), await int8.generateFloat(z, 3)];
      assert.ok(psnr(a.data, b.data) >= 30, `PSNR ${psnr(a.data, b.data).toFixed(1)} dB`);
      const frame = a.data.length / 3;
      assert.ok(psnr(b.data.subarray(0, frame), b.data.subarray(frame, 2 * frame)) < 25, 'two latents differ far more than int8 from float');
    } finally {
      await int8.dispose();
      await fp32.dispose();
    }
  });

  it('an exported copy keeps only the generator\'s weights and plays in int8; one exported without them plays float32, saying why', async () => {
    const copy = path.join(root, 'served');
    await exportServing(path.join(root, 'pggan'), copy, { name: 'shared-textures' });
    assert.equal((await openCheckpoint(copy)).manifest.name, 'shared-textures');
    const names = [...(await readWeights(await openCheckpoint(copy))).keys()].sort();
    assert.deepEqual(names, generatorSpecs(arch).map((s) => s.name).sort(), 'no critic, no optimizer state');
    const bare = path.join(root, 'served-bare');
    await exportServing(path.join(root, 'pggan'), bare, { weights: false });
    setLogLevel('info');
    const [a, b] = [await stderrOf(() => openGenerator(copy, { ort: { precision: 'int8' } })), await stderrOf(() => openGenerator(bare, { ort: { precision: 'int8' } }))];
    setLogLevel('silent');
    try {
      assert.match(a.value.info.engine, /int8/);
      assert.doesNotMatch(b.value.info.engine, /int8/);
      assert.match(b.text, /has only its ONNX graph; it plays in float32\. Export it again with its weights/);
    } finally {
      await a.value.dispose();
      await b.value.dispose();
    }
  });

  it('keeps float32, and says why, for a model int8 does not apply to', async () => {
    setLogLevel('info');
    const { value: gen, text } = await stderrOf(() => openGenerator(DEMO_INFOGAN, { ort: { precision: 'int8' } }));
    setLogLevel('silent');
    try {
      assert.doesNotMatch(gen.info.engine, /int8/);
      assert.match(text, /int8 applies to PGGAN generators trained by rhodops; .* plays in float32/);
    } finally {
      await gen.dispose();
    }
  });

  it('rejects an unknown precision with the choices', async () => {
    await assert.rejects(openGenerator(DEFAULT_MODEL, { ort: { precision: 'int4' as never } }), (e: Error & { hint?: string }) => /Unknown precision 'int4'/.test(e.message) && /fp32, int8/.test(e.hint ?? ''));
  });
});
