/**
 * Chooses the tfjs backend to train on and says why.
 *
 * `auto` takes the first that loads of: tfjs-node-gpu (TensorFlow C with CUDA), webgpu (tfjs's WebGPU backend on
 * Dawn, on a hardware adapter only), tfjs-node (TensorFlow C), wasm (XNNPACK, with our kernel patches), cpu
 * (plain JS, ~50× slower than wasm). tfjs-node(-gpu) are not
 * dependencies: their install downloads libtensorflow, which cannot work offline, so a GPU user installs one
 * by hand; we detect it at run time and explain, in one log line, every better backend we skipped.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { RhodopsError, messageOf } from './errors.ts';
import { logger } from './log.ts';
import './tfjs-gradients.ts';
import { applyWasmPatches, registerComparisonGradients, registerLeakyReluGradient } from './wasm-patches/index.ts';
import { loadTfjsWebgpu, WebgpuUnavailable } from './gpu/tfjs-webgpu.ts';

export const BACKEND_NAMES = ['auto', 'gpu', 'webgpu', 'node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
/** The names for a command's --backend help. */
export const BACKEND_CHOICES = BACKEND_NAMES.join(' | ');

/** What we ended up on: tf.getBackend() reports 'tensorflow' for both tfjs-node packages; we tell them apart. */
export type ChosenBackend = 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendChoice {
  name: ChosenBackend;
  /** The name asked for, normalised ('auto' when none was given). */
  requested: BackendName;
  /** One line per better backend that `auto` skipped, e.g. "tfjs-node-gpu: not installed". */
  reasons: string[];
}

export interface InitBackendOptions {
  /**
   * Loads an optional package by name; the default is a dynamic import. Tests pass a fake to stand in for
   * tfjs-node(-gpu), which cannot be installed here. A call with this option is never cached.
   */
  importModule?: (specifier: string) => Promise<unknown>;
}

const TFJS_NODE_GPU = '@tensorflow/tfjs-node-gpu';
const TFJS_NODE = '@tensorflow/tfjs-node';

const log = logger('backend');

/** How to get each backend, for error hints. */
export const INSTALL_HINTS: Readonly<Record<Exclude<BackendName, 'auto'>, string>> = {
  gpu:
    `npm install ${TFJS_NODE_GPU}@${tf.version_core} && npm install-scripts approve ${TFJS_NODE_GPU} && ` +
    `npm rebuild ${TFJS_NODE_GPU} (Linux x64 with an NVIDIA driver, CUDA 11.2 and cuDNN 8.1; its install script ` +
    `downloads libtensorflow, so it needs internet access; npm 10 runs the script without the approve step)`,
  node:
    `npm install ${TFJS_NODE}@${tf.version_core} && npm install-scripts approve ${TFJS_NODE} && ` +
    `npm rebuild ${TFJS_NODE} (its install script downloads libtensorflow, so it needs internet access; ` +
    `npm 10 runs the script without the approve step)`,
  webgpu:
    'a GPU driver with Vulkan (Linux), Metal (macOS) or D3D12 (Windows); `rhodops gpu` lists the adapters found. ' +
    'The webgpu and @tensorflow/tfjs-backend-webgpu packages are dependencies (npm ci reinstalls them)',
  wasm: 'reinstall the dependencies (npm ci): @tensorflow/tfjs-backend-wasm ships its .wasm files in the package',
  cpu: 'reinstall the dependencies (npm ci): @tensorflow/tfjs-backend-cpu is a dependency',
};

/** Turns a failed import of tfjs-node(-gpu) into a short reason. Exported for tests. */
export function explainLoadFailure(pkg: string, error: unknown): string {
  const message = messageOf(error);
  const code = (error as { code?: unknown } | null)?.code;
  const firstLine = (message.split('\n')[0] ?? '').trim();
  const cuda = /(lib(?:cudart|cudnn|cublas|cublasLt|cufft|curand|cusolver|cusparse|nvinfer)[\w.-]*\.so[\w.]*)/.exec(message);
  if (cuda) return `CUDA/cuDNN library missing (${cuda[1]}): it needs CUDA 11.2 and cuDNN 8.1 on the library path`;
  if (/tfjs_binding\.node/.test(message)) {
    return 'installed, but its native binding is missing (its install script did not run; npm 11 skips it unless approved)';
  }
  if (/libtensorflow[\w.-]*\.so/.test(message)) {
    return `installed, but libtensorflow is missing or broken (${firstLine.slice(0, 120)})`;
  }
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(pkg)) return 'not installed';
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
    return `installed, but a module it needs is missing (${firstLine.slice(0, 120)})`;
  }
  return `failed to load: ${firstLine.slice(0, 160)}`;
}

class Unavailable extends Error {}

/**
 * Forgets what a rejected tfjs-node(-gpu) left behind. tfjs-node registers all its 'tensorflow' kernels before
 * it loads its native binding, so a failed import leaves them registered, and trying the other package then
 * prints ~150 "kernel already registered" warnings.
 */
function forgetTensorflowBackend(): void {
  for (const k of tf.getKernelsForBackend('tensorflow')) tf.unregisterKernel(k.kernelName, 'tensorflow');
  if (tf.findBackendFactory('tensorflow') != null) tf.removeBackend('tensorflow');
}

/** Imports tfjs-node or tfjs-node-gpu and checks that its backend landed on our tfjs-core and initialises. */
async function loadTfjsNode(pkg: string, importModule: (s: string) => Promise<unknown>): Promise<string> {
  try {
    return await loadTfjsNodeUnchecked(pkg, importModule);
  } catch (e) {
    forgetTensorflowBackend();
    throw e;
  }
}

async function loadTfjsNodeUnchecked(pkg: string, importModule: (s: string) => Promise<unknown>): Promise<string> {
  let mod: unknown;
  try {
    mod = await importModule(pkg);
  } catch (e) {
    throw new Unavailable(explainLoadFailure(pkg, e), { cause: e });
  }
  // A CommonJS package imported from ESM: its exports are on `default`.
  const exports = ((mod as { default?: unknown }).default ?? mod) as {
    version?: Record<string, string>;
    engine?: () => unknown;
  };
  const theirCore = exports.version?.['tfjs-core'];
  const theirs = `${pkg.replace('@tensorflow/', '')} ${exports.version?.['tfjs-node'] ?? '(version unknown)'}`;
  if (theirCore !== undefined && theirCore !== tf.version_core) {
    throw new Unavailable(
      `${theirs} uses @tensorflow/tfjs-core ${theirCore}, ours is ${tf.version_core}: its backend is on another tfjs-core ` +
        `instance (install ${pkg}@${tf.version_core})`);
  }
  if (tf.findBackendFactory('tensorflow') == null || (exports.engine !== undefined && exports.engine() !== tf.engine())) {
    throw new Unavailable(
      `loaded, but registered its backend on another @tensorflow/tfjs-core instance than ours (${tf.version_core}); ` +
        `install ${pkg}@${tf.version_core} so npm shares one copy`);
  }
  if (!(await tf.setBackend('tensorflow'))) throw new Unavailable('loaded, but the TensorFlow backend failed to initialise');
  await tf.ready();
  return theirs;
}

async function loadWasm(): Promise<string> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Unavailable('failed to initialise (see the warning above)');
    await tf.ready();
    applyWasmPatches();
    const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
    const threads = wasm.getThreadsCount();
    return `${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}`;
  } catch (e) {
    if (e instanceof Unavailable) throw e;
    throw new Unavailable(`failed to load: ${messageOf(e).split('\n')[0] ?? ''}`, { cause: e });
  }
}

async function loadWebgpu(allowSoftware: boolean): Promise<string> {
  try {
    const { adapter } = await loadTfjsWebgpu(allowSoftware);
    return `${adapter.name}${adapter.software ? ', a software adapter: slow' : ''}`;
  } catch (e) {
    if (e instanceof WebgpuUnavailable) throw new Unavailable(e.message);
    throw new Unavailable(`failed to load: ${messageOf(e).split('\n')[0] ?? ''}`, { cause: e });
  }
}

async function loadCpu(): Promise<string> {
  try {
    await import('@tensorflow/tfjs-backend-cpu');
    if (!(await tf.setBackend('cpu'))) throw new Unavailable('failed to initialise');
    await tf.ready();
    return 'plain JS, slow';
  } catch (e) {
    if (e instanceof Unavailable) throw e;
    throw new Unavailable(`failed to load: ${messageOf(e).split('\n')[0] ?? ''}`, { cause: e });
  }
}

interface Candidate {
  forced: Exclude<BackendName, 'auto'>;
  label: string;
  name: ChosenBackend;
  /** `named`: asked for by name rather than tried by `auto`. */
  load: (importModule: (s: string) => Promise<unknown>, named: boolean) => Promise<string>;
}

const CANDIDATES: readonly Candidate[] = [
  { forced: 'gpu', label: 'tfjs-node-gpu', name: 'tensorflow-gpu', load: (im) => loadTfjsNode(TFJS_NODE_GPU, im) },
  { forced: 'webgpu', label: 'webgpu', name: 'webgpu', load: (_im, named) => loadWebgpu(named) },
  { forced: 'node', label: 'tfjs-node', name: 'tensorflow', load: (im) => loadTfjsNode(TFJS_NODE, im) },
  { forced: 'wasm', label: 'wasm', name: 'wasm', load: () => loadWasm() },
  { forced: 'cpu', label: 'cpu', name: 'cpu', load: () => loadCpu() },
];

/** tf.getBackend()'s name for a choice. */
const tfName = (name: ChosenBackend): string => (name === 'tensorflow-gpu' ? 'tensorflow' : name);

function parseName(requested: string): BackendName {
  const name = requested.trim().toLowerCase();
  if ((BACKEND_NAMES as readonly string[]).includes(name)) return name as BackendName;
  throw new RhodopsError('BACKEND_UNKNOWN', `unknown tfjs backend '${requested}'; valid: ${BACKEND_NAMES.join(', ')}`, {
    hint: `use one of ${BACKEND_NAMES.join(', ')} ('auto' picks the fastest that loads)`,
  });
}

async function resolve(requested: BackendName, importModule: (s: string) => Promise<unknown>): Promise<BackendChoice> {
  const candidates = requested === 'auto' ? CANDIDATES : CANDIDATES.filter((c) => c.forced === requested);
  const reasons: string[] = [];
  for (const c of candidates) {
    try {
      const detail = await c.load(importModule, requested !== 'auto');
      // Gradients are global, not per backend: every backend needs these for gradient penalties.
      registerComparisonGradients();
      registerLeakyReluGradient();
      const skipped = reasons.length > 0 ? ` — skipped ${reasons.join('; ')}` : '';
      log.info(`tfjs backend: ${c.name} (${requested === 'auto' ? detail : `${detail}, forced`})${skipped}`);
      return { name: c.name, requested, reasons };
    } catch (e) {
      if (!(e instanceof Unavailable)) throw e;
      if (requested !== 'auto') {
        throw new RhodopsError('BACKEND_UNAVAILABLE', `tfjs backend '${requested}' (${c.label}) is unavailable: ${e.message}`, {
          hint: INSTALL_HINTS[c.forced],
          cause: e.cause ?? e,
        });
      }
      reasons.push(`${c.label}: ${e.message}`);
    }
  }
  throw new RhodopsError('BACKEND_UNAVAILABLE', `no tfjs backend could be loaded: ${reasons.join('; ')}`, {
    hint: INSTALL_HINTS.cpu,
  });
}

const chosen = new Map<BackendName, Promise<BackendChoice>>();

const defaultImport = (specifier: string): Promise<unknown> => import(specifier);

/**
 * Sets the tfjs backend. `requested` is one of 'auto' | 'gpu' | 'webgpu' | 'node' | 'wasm' | 'cpu'. Resolving a name a
 * second time is cheap: it re-selects the backend found the first time and logs nothing.
 * @throws RhodopsError BACKEND_UNKNOWN for another name; BACKEND_UNAVAILABLE when a forced backend (or, for
 *   'auto', every backend) cannot load, with a hint that says how to install it.
 */
export async function initBackend(requested: string = 'auto', options: InitBackendOptions = {}): Promise<BackendChoice> {
  const name = parseName(requested);
  // PROD silences tfjs's console banners (e.g. the cpu backend's "install tfjs-node" notice); we log our own line.
  tf.env().set('PROD', true);
  if (options.importModule !== undefined) return resolve(name, options.importModule);
  let pending = chosen.get(name);
  if (pending === undefined) {
    pending = resolve(name, defaultImport);
    chosen.set(name, pending);
    pending.catch(() => chosen.delete(name));
    return copy(await pending);
  }
  const choice = await pending;
  if (tf.getBackend() !== tfName(choice.name)) {
    if (!(await tf.setBackend(tfName(choice.name)))) {
      chosen.delete(name);
      return initBackend(requested);
    }
    await tf.ready();
  }
  return copy(choice);
}

const copy = (c: BackendChoice): BackendChoice => ({ ...c, reasons: [...c.reasons] });

/**
 * Threads of our own for work that tfjs runs on one core (training replicas, stylize): `auto` is one per core
 * on the wasm and cpu backends; tfjs-node and GPUs use every core already, so one.
 */
export function threadCount(setting: number | 'auto', backend: string): number {
  if (setting !== 'auto') return setting;
  return backend === 'wasm' || backend === 'cpu' ? Math.max(1, os.availableParallelism()) : 1;
}
