// GPU paths tested on this CPU-only machine through Debian chromium's SwiftShader Vulkan driver (a software
// adapter): adapters are found and marked software, `--ep auto` never plays on one, and ONNX Runtime's WebGPU
// provider, asked for by name, draws the bundled InfoGAN and PGGAN as the CPU does. The choice of provider is also tested
// as pure logic for the machines this one is not (a Mac, Windows, an NVIDIA GPU, a real WebGPU adapter).
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { setLogLevel } from '../core/log.ts';
import { describeAdapter, isSoftwareAdapter, probeAdapters, type AdapterProbe, type RawAdapter } from '../core/gpu/adapters.ts';
import { chooseAuto, offersFrom } from '../core/gpu/providers.ts';
import { OrtGenerator } from '../core/runtime/ort.ts';
import { BUNDLED_MODELS_DIR } from '../presets/bundled.ts';
import { gaussianArray } from '../core/random.ts';
import { Engine } from '../server/engine.ts';
import type { Generator } from '../core/runtime/types.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';

const raw = (over: Partial<RawAdapter>): RawAdapter => ({ vendor: '', architecture: '', device: '', description: '', fallback: false, maxBufferSize: 2 ** 30, ...over });
const probe = (...adapters: RawAdapter[]): AdapterProbe => ({ adapters: adapters.map(describeAdapter), error: adapters.length ? null : 'no adapter offered' });
const ALL = ['cpu', 'webgpu', 'coreml', 'dml', 'cuda', 'tensorrt'];
const noLibrary = () => 'not installed';

describe('choosing an execution provider', () => {
  it('software adapters are recognised by the WebGPU flag or by name; hardware ones are not', () => {
    assert.ok(isSoftwareAdapter(raw({ vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0' })));
    assert.ok(isSoftwareAdapter(raw({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })));
    assert.ok(isSoftwareAdapter(raw({ description: 'Microsoft Basic Render Driver' })));
    assert.ok(isSoftwareAdapter(raw({ description: 'Some GPU', fallback: true })));
    assert.ok(!isSoftwareAdapter(raw({ vendor: 'nvidia', architecture: 'ada', description: 'NVIDIA GeForce RTX 4070 Laptop GPU' })));
    assert.ok(!isSoftwareAdapter(raw({ vendor: 'apple', architecture: 'metal-3', description: 'Apple M2' })));
  });

  it('auto takes the platform\'s own provider, then CUDA where installed, then WebGPU on hardware, else the CPU saying why', () => {
    const rtx = raw({ vendor: 'nvidia', description: 'NVIDIA GeForce RTX 4070' });
    const swift = raw({ vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0', fallback: true });
    assert.equal(chooseAuto(offersFrom(ALL, probe(raw({ description: 'Apple M2' })), 'darwin', noLibrary)).provider, 'coreml');
    assert.equal(chooseAuto(offersFrom(ALL, probe(rtx), 'win32', noLibrary)).provider, 'dml');
    assert.equal(chooseAuto(offersFrom(ALL, probe(rtx), 'linux', (p) => (p === 'cuda' ? null : 'not installed'))).provider, 'cuda');
    const linux = chooseAuto(offersFrom(ALL, probe(rtx), 'linux', noLibrary));
    assert.deepEqual(linux, { provider: 'webgpu', why: 'NVIDIA GeForce RTX 4070' });
    const software = chooseAuto(offersFrom(ALL, probe(swift), 'linux', noLibrary));
    assert.equal(software.provider, 'cpu');
    assert.match(software.why, /webgpu: only a software adapter \(SwiftShader driver 5\.0\.0\)/);
    assert.equal(chooseAuto(offersFrom(['cpu'], probe(), 'linux', noLibrary)).provider, 'cpu');
  });
});

describe('WebGPU through SwiftShader', () => {
  before(() => {
    setLogLevel('silent');
    assert.ok(existsSync(SWIFTSHADER), `${SWIFTSHADER} is missing: install Debian's chromium (.ci/run does)`);
    // The probe child and ONNX Runtime's Dawn both read the environment.
    process.env['VK_ICD_FILENAMES'] = SWIFTSHADER;
  });

  it('the probe finds SwiftShader and calls it software; auto then plays on the CPU', async () => {
    const found = await probeAdapters();
    assert.equal(found.error, null);
    assert.ok(found.adapters.length >= 1);
    assert.ok(found.adapters.every((a) => a.software), JSON.stringify(found.adapters));
    assert.match(found.adapters[0]!.name, /swiftshader/i);
    const model = new Uint8Array(await fs.readFile(path.join(BUNDLED_MODELS_DIR, 'infogan-mnist', 'generator.onnx')));
    const gen = await OrtGenerator.open(model, { name: 'infogan', kind: 'onnx', where: 'bundled' }, { executionProvider: 'auto' });
    try {
      assert.match(gen.info.engine, /^onnxruntime cpu/);
    } finally {
      await gen.dispose();
    }
  });

  for (const name of ['infogan-mnist', 'pggan-wallpapers']) {
    it(`ONNX Runtime's WebGPU provider, asked for by name, draws the bundled ${name} as the CPU does`, async () => {
      const model = new Uint8Array(await fs.readFile(path.join(BUNDLED_MODELS_DIR, name, 'generator.onnx')));
      const desc = { name, kind: 'onnx' as const, where: 'bundled' };
      const gpu = await OrtGenerator.open(model, desc, { executionProvider: 'webgpu', requireProvider: true });
      const cpu = await OrtGenerator.open(model, desc, { executionProvider: 'cpu' });
      try {
        assert.match(gpu.info.engine, /^onnxruntime webgpu/);
        const latents = gaussianArray(2 * cpu.info.latent.size, 7);
        const [a, b] = [await gpu.generateFloat(latents, 2), await cpu.generateFloat(latents, 2)];
        assert.equal(a.data.length, b.data.length);
        let maxDiff = 0;
        let energy = 0;
        for (let i = 0; i < a.data.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(a.data[i]! - b.data[i]!));
          energy += Math.abs(b.data[i]!);
        }
        assert.ok(energy / b.data.length > 0.05, 'the frames are not blank');
        // Float32 on both; the sums run in another order on the GPU. 1e-3 of the -1..1 range is a quarter of one 8-bit level.
        assert.ok(maxDiff < 1e-3, `WebGPU and CPU differ by ${maxDiff} at most (range -1..1)`);
      } finally {
        await gpu.dispose();
        await cpu.dispose();
      }
    });
  }

  it('a GPU provider that fails mid-show hands over to the CPU: the frame still comes, and the show stays on the CPU', async () => {
    const model = path.join(BUNDLED_MODELS_DIR, 'infogan-mnist');
    const engine = await Engine.open(model, { ort: { executionProvider: 'webgpu', requireProvider: true } });
    try {
      assert.match(engine.model.info.engine, /^onnxruntime webgpu/);
      const latent = gaussianArray(engine.model.info.latent.size, 3);
      const before = await engine.render(latent);
      // A lost device, as the loop would meet it: the session under the generator is gone.
      await (engine as unknown as { current: { gen: Generator } }).current.gen.dispose();
      const after = await engine.render(latent);
      assert.match(engine.model.info.engine, /^onnxruntime cpu/);
      assert.equal(after.data.length, before.data.length);
      let diff = 0;
      for (let i = 0; i < after.data.length; i++) diff = Math.max(diff, Math.abs(after.data[i]! - before.data[i]!));
      assert.ok(diff <= 1, `the CPU frame is the GPU's picture (max difference ${diff} levels)`);
      // On the CPU a failure is the model's own: it is not hidden by another hand-over.
      await (engine as unknown as { current: { gen: Generator } }).current.gen.dispose();
      await assert.rejects(engine.render(latent), /after dispose/);
    } finally {
      await engine.close().catch(() => undefined);
    }
  });
});
