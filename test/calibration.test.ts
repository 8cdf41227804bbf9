// Calibration on the bundled models, through ONNX Runtime: the gains it measures hold on latents it never saw
// (one calibrated unit along a direction changes the picture by about DIRECTION_CHANGE, a second of drift at
// speed 1 by about DRIFT_CHANGE), and the cache gives the same gains back without rendering.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { driftAt, nudge, oneHot, randomDirections, randomState, toVector, type LatentState } from '../core/latent/index.ts';
import { setLogLevel } from '../core/log.ts';
import { openGenerator } from '../core/runtime/open.ts';
import type { Generator, RgbBatch } from '../core/runtime/types.ts';
import { cachedGains, DIRECTION_CHANGE, DRIFT_CHANGE, measureGains, type CalibrationSource } from '../instrument/calibration.ts';
import { modelStamp } from '../core/fsutil.ts';
import { BUNDLED_PGGAN, DEMO_INFOGAN } from '../presets/bundled.ts';

setLogLevel('warn');

const HELD_OUT = 32;

function sourceOf(gen: Generator, id: string): CalibrationSource & { frames: number } {
  const src = {
    latent: gen.info.latent,
    id,
    frames: 0,
    generate: (l: Float32Array, n: number): Promise<RgbBatch> => {
      src.frames += n;
      return gen.generate(l, n);
    },
  };
  return src;
}

/** Mean absolute change (0..255) between each held-out latent's picture and its moved one's. */
async function heldOutChange(gen: Generator, move: (s: LatentState, i: number) => LatentState): Promise<number> {
  const spec = gen.info.latent;
  const bases = Array.from({ length: HELD_OUT }, (_, i) => ({ ...randomState(spec, 5000 + i), categorical: spec.categorical.map((k) => oneHot(k, 0)) }));
  const render = (states: LatentState[]): Promise<RgbBatch> => {
    const l = new Float32Array(states.length * spec.size);
    states.forEach((s, i) => toVector(spec, s, l.subarray(i * spec.size, (i + 1) * spec.size)));
    return gen.generate(l, states.length);
  };
  const [a, b] = [await render(bases), await render(bases.map(move))];
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / a.data.length;
}

for (const model of [BUNDLED_PGGAN, DEMO_INFOGAN]) {
  describe(`calibration of ${path.basename(model)}`, () => {
    let gen: Generator;
    let cacheDir: string;
    before(async () => {
      gen = await openGenerator(model);
      cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-calibration-'));
    });
    after(async () => {
      await gen.dispose();
      await fs.rm(cacheDir, { recursive: true, force: true });
    });

    it('gains hold on latents the calibration never saw, for every direction and the drift', async () => {
      const directions = randomDirections(gen.info.latent.noise, 6, 11);
      const gains = await measureGains(sourceOf(gen, model), directions);
      assert.equal(gains.directions.length, directions.length);
      for (const [k, d] of directions.entries()) {
        const change = await heldOutChange(gen, (s) => nudge(s, d, gains.directions[k]!));
        // Sixteen latents' mean stays within a fifth of the model's on these models; a change that does not
        // grow in proportion to the amount takes some of the rest.
        assert.ok(change > DIRECTION_CHANGE / 1.4 && change < DIRECTION_CHANGE * 1.4, `direction ${k}: one calibrated unit changed held-out pictures by ${change.toFixed(1)}/255, not about ${DIRECTION_CHANGE}`);
      }
      const probe = 0.25;
      const drifted = await heldOutChange(gen, (s, i) => driftAt(s, { seed: 300 + i, speed: gains.drift }, probe));
      assert.ok(drifted > (DRIFT_CHANGE * probe) / 1.6 && drifted < DRIFT_CHANGE * probe * 1.6, `a quarter second of calibrated drift changed held-out pictures by ${drifted.toFixed(1)}/255, not about ${DRIFT_CHANGE * probe}`);
    });

    it('the cache gives the same gains back without rendering, and a damaged cache file is measured again', async () => {
      const directions = randomDirections(gen.info.latent.noise, 3, 12);
      const first = sourceOf(gen, model);
      const gains = await cachedGains(first, directions, cacheDir);
      assert.ok(first.frames > 0);
      const again = sourceOf(gen, model);
      assert.deepEqual(await cachedGains(again, directions, cacheDir), gains);
      assert.equal(again.frames, 0, 'a cached calibration renders nothing');

      const [file] = await fs.readdir(cacheDir);
      await fs.writeFile(path.join(cacheDir, file!), '{"directions": [1]');
      const damaged = sourceOf(gen, model);
      assert.deepEqual(await cachedGains(damaged, directions, cacheDir), gains);
      assert.ok(damaged.frames > 0, 'a damaged cache file is measured again');

      const other = sourceOf(gen, model);
      await cachedGains(other, randomDirections(gen.info.latent.noise, 3, 13), cacheDir);
      assert.ok(other.frames > 0, 'other directions are measured, not read from the first ones');
    });
  });
}

describe("a model's identity for the calibration cache", () => {
  it("changes when new weights are copied over the old ones, though the folder's own mtime does not", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-stamp-'));
    try {
      const model = path.join(dir, 'model');
      await fs.cp(DEMO_INFOGAN, model, { recursive: true });
      const before = await modelStamp(model);
      const folderBefore = (await fs.stat(model)).mtimeMs;
      // The other bundled model's weights, written into the same file as an update in place would.
      await fs.copyFile(path.join(BUNDLED_PGGAN, 'generator.onnx'), path.join(model, 'generator.onnx'));
      assert.equal((await fs.stat(model)).mtimeMs, folderBefore);
      assert.notEqual(await modelStamp(model), before);
      assert.equal(await modelStamp(model), await modelStamp(model + path.sep), 'the same model however it is named');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
