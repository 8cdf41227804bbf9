// Latent directions: principal directions recover a stretched latent axis, are orthonormal and deterministic,
// and are cached per model; chroma directions and routes.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomDirections } from '../core/latent/index.ts';
import {
  cachedPrincipalDirections,
  chromaDirections,
  chromaRoutes,
  directionsNeeded,
  MappingEngine,
  parseMapping,
  principalDirections,
  seededDirections,
  type FeatureFunction,
} from '../core/mapping/index.ts';
import { principalComponents, symmetricEigen } from '../core/mapping/pca.ts';
import { throwsWith } from './helpers/assert.ts';

const NOISE = 16;
const FEATURES = 40;
/** A fixed orthonormal mixing from noise space into a wider feature space (columns orthonormal). */
const MIX = randomDirections(FEATURES, NOISE, 99);

/** Features that stretch latent axis 5 by 10 and axis 2 by 4, mixed into 40 values with a mild nonlinearity. */
const stretch: FeatureFunction = (batch) =>
  batch.map((z) => {
    const f = new Float64Array(FEATURES);
    for (let a = 0; a < NOISE; a++) {
      const scale = a === 5 ? 10 : a === 2 ? 4 : 1;
      const col = MIX[a] as Float32Array;
      for (let x = 0; x < FEATURES; x++) f[x] = (f[x] as number) + scale * (z[a] as number) * (col[x] as number);
    }
    return f.map((v) => v + 0.01 * Math.tanh(v));
  });

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};

describe('principal directions', () => {
  it('the eigensolver and PCA agree with known answers', () => {
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 0, 1, 2, 0, 0, 0, 5]), 3);
    assert.ok(values.every((v, i) => Math.abs(v - [5, 3, 1][i]!) < 1e-12), `eigenvalues 5, 3, 1: ${values}`);
    assert.ok(Math.abs(Math.abs(vectors[1]![0]!) - Math.SQRT1_2) < 1e-12, 'the eigenvector of 3 is (1, 1, 0)/√2');
    const rows = Array.from({ length: 200 }, (_, i) => [Math.cos(i) * 3, Math.sin(i * 1.7) * 0.5, 1]);
    const pca = principalComponents(rows, 2, 0);
    assert.ok(Math.abs(pca.components[0]![0]!) > 0.999, 'the widest axis is x');
    assert.ok(Math.abs(pca.totalVariance - pca.variances[0]! - pca.variances[1]!) < 1e-9, 'a constant column adds no variance');
  });

  it('recover a stretched latent axis, strongest first, with its share of the variance', async () => {
    const p = await principalDirections(stretch, { noise: NOISE, count: 4, samples: 400, seed: 1 });
    assert.equal(p.directions.length, 4, 'four directions');
    assert.ok(Math.abs(p.directions[0]![5]!) > 0.99, `the first is latent axis 5: ${p.directions[0]![5]}`);
    assert.ok(Math.abs(p.directions[1]![2]!) > 0.99, `the second is latent axis 2: ${p.directions[1]![2]}`);
    assert.ok(p.explainedRatio[0]! > 0.7 && p.explainedRatio[0]! < 0.85, `axis 5 explains ~100/130 of the variance: ${p.explainedRatio[0]}`);
    assert.ok(p.explainedVariance[0]! > p.explainedVariance[1]! && p.explainedVariance[1]! > p.explainedVariance[2]!, 'sorted by variance');
    assert.equal(p.featureSize, FEATURES, 'the feature size');
  });

  it('are orthonormal and deterministic for a seed, whatever the batch size', async () => {
    const a = await principalDirections(stretch, { noise: NOISE, count: 6, samples: 200, seed: 7, batchSize: 64 });
    const b = await principalDirections(stretch, { noise: NOISE, count: 6, samples: 200, seed: 7, batchSize: 13 });
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 6; j++) {
        const d = dot(a.directions[i]!, a.directions[j]!);
        assert.ok(Math.abs(d - (i === j ? 1 : 0)) < 1e-5, `⟨d${i}, d${j}⟩ = ${d}`);
      }
    }
    assert.deepEqual(b.directions, a.directions, 'the same directions in batches of 13 and 64');
    const c = await principalDirections(stretch, { noise: NOISE, count: 6, samples: 200, seed: 8 });
    assert.ok(Math.abs(Math.abs(dot(c.directions[0]!, a.directions[0]!)) - 1) < 0.01, 'another seed finds the same top direction');
  });

  it('reject a feature function that misbehaves, and too many directions', async () => {
    await assert.rejects(principalDirections(() => [[1, 2]], { noise: 4, count: 2, samples: 8 }), /returned 1 feature vectors for a batch of 8/, 'wrong count');
    await assert.rejects(principalDirections((b) => b.map((_, i) => new Float32Array(i === 3 ? 2 : 3)), { noise: 4, count: 2, samples: 8 }), /vector of 2 values after ones of 3/, 'varying length');
    await assert.rejects(principalDirections((b) => b.map((z) => [z[0] as number, z[0] as number]), { noise: 4, count: 2, samples: 30 }), /vary in fewer than 2/, 'features of one degree of freedom');
    throwsWith(() => seededDirections(4, 5, 0), 'BAD_OPTION', 'number of directions');
  });
});

describe('principal directions cache', () => {
  let dir = '';
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-directions-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('is computed once per model and reused; a corrupt file is recomputed', async () => {
    let calls = 0;
    const counted: FeatureFunction = (batch) => {
      calls++;
      return stretch(batch);
    };
    const opts = { noise: NOISE, count: 3, samples: 120, seed: 2, modelId: 'sha256:abc123', featureId: 'rgb16', cacheDir: dir };
    const first = await cachedPrincipalDirections(counted, opts);
    assert.equal(first.cached, false, 'computed the first time');
    const callsAfterFirst = calls;
    assert.ok(callsAfterFirst > 0, 'the feature function ran');
    const second = await cachedPrincipalDirections(counted, opts);
    assert.equal(second.cached, true, 'read back the second time');
    assert.equal(calls, callsAfterFirst, 'without running the feature function');
    assert.deepEqual(second.directions, first.directions, 'the same float32 directions from JSON');
    assert.deepEqual(second.explainedVariance, first.explainedVariance, 'and variances');
    assert.equal(second.file, first.file, 'one file');
    assert.ok(path.basename(first.file).startsWith('sha256_abc123-rgb16-'), `a readable name: ${path.basename(first.file)}`);
    const other = await cachedPrincipalDirections(counted, { ...opts, modelId: 'another-model' });
    assert.equal(other.cached, false, 'another model has its own entry');
    await fs.writeFile(first.file, '{"format": "rhodops-directions", "vers');
    const third = await cachedPrincipalDirections(counted, opts);
    assert.equal(third.cached, false, 'a truncated file is recomputed');
    assert.deepEqual(third.directions, first.directions, 'to the same directions');
    assert.equal((await cachedPrincipalDirections(counted, opts)).cached, true, 'and rewritten');
    assert.deepEqual((await fs.readdir(dir)).filter((f) => f.includes('.tmp')), [], 'no temporary files left');
  });
});

describe('chroma directions and routes', () => {
  it('give 12 directions orthogonal to the knobs, and 12 routes from the chroma bins', () => {
    const knobs = seededDirections(62, 8, 7);
    assert.deepEqual(knobs, randomDirections(62, 8, 7), 'seeded directions are core/latent randomDirections');
    const chroma = chromaDirections(62, 7);
    assert.equal(chroma.length, 12, 'one per pitch class');
    for (const c of chroma) for (const k of knobs) assert.ok(Math.abs(dot(c, k)) < 1e-5, 'orthogonal to every knob direction');
    const routes = chromaRoutes();
    assert.deepEqual(routes.map((r) => r.target.kind === 'direction' && r.target.index), [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19], 'bins → directions 8–19');
    assert.equal(routes[9]?.name, 'chroma A', 'named by pitch class');
    const mapping = parseMapping({ version: 1, name: 'harmony', routes });
    assert.equal(directionsNeeded(mapping), 20, 'the server needs 20 directions');
    const e = new MappingEngine(mapping, { directions: 20 });
    const chromaFrame = Array.from({ length: 12 }, (_, i) => (i === 0 ? 1 : i === 7 ? 0.65 : 0.1));
    e.push({ type: 'audio', time: 0, features: {}, chroma: chromaFrame });
    const d = e.evaluate(0).directions;
    assert.ok(Math.abs((d[8] as number) - 1.5) < 1e-9, `C at full strength pushes direction 8 fully: ${d[8]}`);
    assert.ok(Math.abs((d[15] as number) - 0.75) < 1e-9, `G half way: ${d[15]}`);
    assert.equal(d[9], 0, 'weak bins below the floor push nothing');
  });
});
