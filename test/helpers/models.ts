/** Small models the tests build themselves, with every weight (batchnorm statistics too) random. */
import * as tf from '@tensorflow/tfjs-core';
import type { GeneratorArch } from '../../core/models/arch.ts';
import { generatorSpecs } from '../../core/models/generator.ts';
import type { WeightMap } from '../../core/models/params.ts';

/** Deterministic pseudo-random numbers (mulberry32), so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(n: number, seed: number, std = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(r(), 1e-12);
    const v = r();
    const m = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = m * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** Random weights for an architecture: normal weights, non-trivial biases and batchnorm statistics. */
export function randomWeights(arch: GeneratorArch, seed: number): WeightMap {
  const out: WeightMap = new Map();
  generatorSpecs(arch).forEach((s, i) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    let data = gaussian(n, seed * 1000 + i, s.init === 'normal' ? (s.std ?? 1) : 0.1);
    if (s.name.endsWith('/variance')) data = data.map((v) => 0.5 + Math.abs(v) * 5);
    if (s.name.endsWith('/gamma')) data = data.map((v) => 1 + v);
    out.set(s.name, { shape: s.shape, data });
  });
  return out;
}

export function relativeRms(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  tf.env().set('PROD', true);
  await tf.setBackend(name);
  await tf.ready();
}
