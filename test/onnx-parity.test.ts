// ONNX Runtime and tfjs must agree on the same weights: the server plays what the trainer learnt.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { latentSizeOf, type GeneratorArch, type Phase } from '../core/models/arch.ts';
import { infoganArch, pgganArch } from '../core/models/architectures.ts';
import { exportGeneratorOnnx } from '../core/onnx/export.ts';
import { readRhodopsMetadata } from '../core/onnx/metadata.ts';
import { OrtGenerator } from '../core/runtime/ort.ts';
import { TfjsGenerator } from '../core/runtime/tfjs.ts';
import { setLogLevel } from '../core/log.ts';
import { gaussian, randomWeights, relativeRms, useBackend } from './helpers/models.ts';

const TOLERANCE = 1e-4;

const cases: [string, GeneratorArch, Phase | undefined][] = [
  ['PGGAN narrow 8² (stable)', pgganArch('narrow', 32, { latentSize: 32 }), { resolution: 8, alpha: 1 }],
  ['PGGAN narrow 16² mid-fade α=0.3', pgganArch('narrow', 32, { latentSize: 32 }), { resolution: 16, alpha: 0.3 }],
  ['PGGAN mid 32² grayscale', pgganArch('mid', 32, { channels: 1, latentSize: 48 }), { resolution: 32, alpha: 1 }],
  ['InfoGAN 28² (MNIST layout)', infoganArch(28), undefined],
  ['InfoGAN 32² colour, two categorical codes', infoganArch(32, { categorical: [10, 4], continuous: 3, noise: 16 }), undefined],
];

describe('ONNX export parity with tfjs', () => {
  before(async () => {
    setLogLevel('silent');
    await useBackend('cpu');
  });

  for (const [name, arch, phase] of cases) {
    it(`${name}: ORT equals tfjs within ${TOLERANCE} relative RMS`, async () => {
      const weights = randomWeights(arch, 11);
      const onnx = exportGeneratorOnnx(arch, weights, phase);
      const ortGen = await OrtGenerator.open(onnx, { name, kind: arch.kind, where: name, ...readRhodopsMetadata(onnx) });
      const tfGen = TfjsGenerator.fromWeights(arch, weights, phase);
      try {
        const batch = 3;
        const z = gaussian(batch * latentSizeOf(arch), 5);
        const [a, b] = [await ortGen.generateFloat(z, batch), await tfGen.generateFloat(z, batch)];
        assert.deepEqual([a.width, a.height, a.channels], [b.width, b.height, b.channels]);
        const err = relativeRms(a.data, b.data);
        assert.ok(err <= TOLERANCE, `relative RMS ${err.toExponential(2)} > ${TOLERANCE}`);
        // Different latents must give different images (the comparison is not between constants).
        const spread = relativeRms(a.data.subarray(0, a.data.length / batch), a.data.subarray(a.data.length / batch, (2 * a.data.length) / batch));
        assert.ok(spread > 1e-3, 'images for different latents are identical');
      } finally {
        await ortGen.dispose();
        await tfGen.dispose();
      }
    });
  }

  it('stores the latent layout in the ONNX metadata so a bare file keeps its codes', () => {
    const arch = infoganArch(28, { categorical: [10], continuous: 2 });
    const meta = readRhodopsMetadata(exportGeneratorOnnx(arch, randomWeights(arch, 1)));
    assert.deepEqual(meta.latent, { size: 74, noise: 62, categorical: [10], continuous: 2, distribution: 'normal' });
    assert.deepEqual(meta.output, { layout: 'NCHW', range: '-1..1' });
  });
});
