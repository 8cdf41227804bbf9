/**
 * Backend choice. tfjs-node(-gpu) are not installed here, so `auto` must land on wasm and say why it skipped
 * them; the tfjs-node paths that need the real packages are driven with fake importers.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { explainLoadFailure, initBackend, type BackendChoice } from '../core/backend.ts';
import { isRhodopsError } from '../core/errors.ts';
import { probeAdapters } from '../core/gpu/adapters.ts';
import { setLogLevel, type LogLevel } from '../core/log.ts';

/** Runs `fn` with the log level at info and returns the lines our loggers wrote to stderr. */
async function captureLog<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  const level = (process.env['RHODOPS_LOG'] ?? 'info') as LogLevel;
  setLogLevel('info');
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = String(chunk);
    if (text.startsWith('[rhodops:')) lines.push(...text.trimEnd().split('\n'));
    else return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    return true;
  }) as typeof process.stderr.write;
  try {
    return { result: await fn(), lines };
  } finally {
    process.stderr.write = write;
    setLogLevel(level);
  }
}

/** The 'not installed' expectations hold where tfjs-node(-gpu) are absent, as here and on CI. */
const require = createRequire(import.meta.url);
const installed = (pkg: string): boolean => {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
};
const BETTER_BACKEND_HERE = installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu')
  ? 'tfjs-node or tfjs-node-gpu is installed on this machine'
  : (await probeAdapters()).adapters.some((a) => !a.software)
    ? 'a hardware WebGPU adapter is present: auto trains on it'
    : false;
/** What auto says of WebGPU on a machine without a hardware adapter (CI: none, or SwiftShader). */
const NO_WEBGPU = /^webgpu: (no adapter \(.+\)|only a software adapter \(.+\), which runs on the CPU slower than wasm; --backend webgpu uses it anyway)$/;

const notFound = (pkg: string): Error =>
  Object.assign(new Error(`Cannot find package '${pkg}' imported from /app/core/backend.ts`), { code: 'ERR_MODULE_NOT_FOUND' });

describe('initBackend', () => {
  test("'auto' picks wasm here, patches it, and logs one line naming what it skipped", { skip: BETTER_BACKEND_HERE }, async () => {
    const { result, lines } = await captureLog(() => initBackend());
    assert.deepEqual({ ...result, reasons: result.reasons.filter((r) => !r.startsWith('webgpu: ')) }, {
      name: 'wasm',
      requested: 'auto',
      reasons: ['tfjs-node-gpu: not installed', 'tfjs-node: not installed'],
    } satisfies BackendChoice);
    assert.match(result.reasons[1] ?? '', NO_WEBGPU, 'WebGPU is tried after tfjs-node-gpu, before tfjs-node');
    assert.equal(tf.getBackend(), 'wasm');
    assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'), 'wasm patches applied');
    assert.ok(tf.getGradient('Greater'), 'comparison gradients registered');
    assert.equal(lines.length, 1, `exactly one log line, got ${JSON.stringify(lines)}`);
    assert.match(lines[0]!,
      /^\[rhodops:backend\] tfjs backend: wasm \((no )?SIMD, \d+ threads?\) — skipped tfjs-node-gpu: not installed; webgpu: .+; tfjs-node: not installed$/);
  });

  test('a second call is cheap and quiet', { skip: BETTER_BACKEND_HERE }, async () => {
    const first = await initBackend('auto');
    const { result, lines } = await captureLog(() => initBackend('auto'));
    assert.equal(result.name, 'wasm');
    assert.deepEqual(result, first, 'the backend chosen the first time, not chosen again');
    assert.deepEqual(lines, []);
  });

  test("'cpu' forced works, and 'auto' afterwards switches back to wasm", { skip: BETTER_BACKEND_HERE }, async () => {
    const cpu = await initBackend('cpu');
    assert.deepEqual(cpu, { name: 'cpu', requested: 'cpu', reasons: [] });
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal((await initBackend(' AUTO ')).name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
  });

  test("'gpu' forced throws BACKEND_UNAVAILABLE with an install hint", { skip: BETTER_BACKEND_HERE }, async () => {
    await assert.rejects(initBackend('gpu'), (e: unknown) => {
      assert.ok(isRhodopsError(e, 'BACKEND_UNAVAILABLE'), String(e));
      assert.match(e.message, /'gpu' \(tfjs-node-gpu\) is unavailable: not installed/);
      assert.match(e.hint ?? '', /npm install @tensorflow\/tfjs-node-gpu@4\.22\.0/);
      assert.match(e.hint ?? '', /npm install-scripts approve @tensorflow\/tfjs-node-gpu/);
      assert.match(e.hint ?? '', /CUDA 11\.2 and cuDNN 8\.1/);
      return true;
    });
    assert.equal(tf.getBackend(), 'wasm', 'a failed forced choice leaves the backend alone');
  });

  test("'node' forced throws BACKEND_UNAVAILABLE with an install hint", { skip: BETTER_BACKEND_HERE }, async () => {
    await assert.rejects(initBackend('node'), (e: unknown) => {
      assert.ok(isRhodopsError(e, 'BACKEND_UNAVAILABLE'));
      assert.match(e.message, /tfjs-node\) is unavailable: not installed/);
      assert.match(e.hint ?? '', /npm install @tensorflow\/tfjs-node@4\.22\.0/);
      return true;
    });
  });

  test("an unknown name throws BACKEND_UNKNOWN naming it and the valid ones", async () => {
    await assert.rejects(initBackend('bogus'), (e: unknown) => {
      assert.ok(isRhodopsError(e, 'BACKEND_UNKNOWN'));
      assert.match(e.message, /'bogus'/);
      assert.match(e.message, /auto, gpu, webgpu, node, wasm, cpu/);
      return true;
    });
  });
});

describe('tfjs-node detection (fake packages)', () => {
  test('a tfjs-node on another tfjs-core version is skipped, saying so', { skip: BETTER_BACKEND_HERE }, async () => {
    const choice = await initBackend('auto', {
      importModule: async (pkg) => {
        if (pkg.endsWith('-gpu')) throw notFound(pkg);
        return { default: { version: { 'tfjs-core': '3.21.0', 'tfjs-node': '3.21.1' }, engine: tf.engine } };
      },
    });
    assert.equal(choice.name, 'wasm');
    assert.equal(choice.reasons[0], 'tfjs-node-gpu: not installed');
    assert.match(choice.reasons[1] ?? '', NO_WEBGPU);
    assert.match(choice.reasons[2] ?? '', /^tfjs-node: tfjs-node 3\.21\.1 uses @tensorflow\/tfjs-core 3\.21\.0, ours is 4\.22\.0/);
  });

  test('a backend registered elsewhere is skipped, saying so', { skip: BETTER_BACKEND_HERE }, async () => {
    const choice = await initBackend('auto', {
      importModule: async () => ({ default: { version: { 'tfjs-core': tf.version_core, 'tfjs-node': tf.version_core } } }),
    });
    assert.equal(choice.name, 'wasm');
    assert.match(choice.reasons[0] ?? '', /another @tensorflow\/tfjs-core instance/);
  });

  test('a working tfjs-node-gpu is chosen first and reported as tensorflow-gpu', async () => {
    try {
      const choice = await initBackend('auto', {
        importModule: async () => {
          tf.registerBackend('tensorflow', () => new MathBackendCPU(), 3);
          return { default: { version: { 'tfjs-core': tf.version_core, 'tfjs-node': tf.version_core }, engine: tf.engine } };
        },
      });
      assert.deepEqual(choice, { name: 'tensorflow-gpu', requested: 'auto', reasons: [] });
      assert.equal(tf.getBackend(), 'tensorflow');
    } finally {
      tf.removeBackend('tensorflow');
    }
    assert.equal((await initBackend('wasm')).name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
  });

  test('a forced tfjs-node whose native binding is missing says so', async () => {
    await assert.rejects(
      initBackend('node', {
        importModule: async () => {
          throw Object.assign(new Error("Cannot find module '/app/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node'"),
            { code: 'MODULE_NOT_FOUND' });
        },
      }),
      (e: unknown) => isRhodopsError(e, 'BACKEND_UNAVAILABLE') && /native binding is missing/.test(e.message),
    );
  });
});

describe('explainLoadFailure', () => {
  const pkg = '@tensorflow/tfjs-node-gpu';
  test('not installed', () => {
    assert.equal(explainLoadFailure(pkg, notFound(pkg)), 'not installed');
    assert.equal(explainLoadFailure(pkg, Object.assign(new Error(`Cannot find module '${pkg}'`), { code: 'MODULE_NOT_FOUND' })),
      'not installed');
  });
  test('CUDA libraries missing', () => {
    const e = new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory');
    assert.match(explainLoadFailure(pkg, e), /^CUDA\/cuDNN library missing \(libcudart\.so\.11\.0\)/);
  });
  test('a dependency of it missing is not "not installed"', () => {
    const e = Object.assign(new Error("Cannot find module '@mapbox/node-pre-gyp'"), { code: 'MODULE_NOT_FOUND' });
    assert.match(explainLoadFailure(pkg, e), /^installed, but a module it needs is missing/);
  });
  test('anything else keeps its first line', () => {
    assert.equal(explainLoadFailure(pkg, new Error('boom\nstack')), 'failed to load: boom');
  });
});
