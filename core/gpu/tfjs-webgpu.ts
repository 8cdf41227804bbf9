/**
 * tfjs's WebGPU backend in Node: Dawn (the `webgpu` package) provides `navigator.gpu`, and
 * @tensorflow/tfjs-backend-webgpu runs on it. Both come from npm with prebuilt binaries, so a laptop's GPU
 * (Metal, Vulkan, D3D12) trains with nothing installed beyond `npm install`.
 *
 * Dawn is only brought into this process once the child-process probe (adapters.ts) has found an adapter that
 * suits: a driver that crashes or hangs does so in the probe, not in a training run.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gpuEnvironment, probeAdapters, type GpuAdapter } from './adapters.ts';

export interface WebgpuLoad {
  adapter: GpuAdapter;
}

/** Why WebGPU is not used, for the backend chooser's one line (it says what to do about it). */
export class WebgpuUnavailable extends Error {}

let dawnInProcess = false;

/** Whether Dawn was started in this process: its threads keep Node alive, so the command exits explicitly. */
export function dawnStarted(): boolean {
  return dawnInProcess;
}

/**
 * Makes `webgpu` tfjs's backend. Without `allowSoftware` only a hardware adapter will do (`auto`); asked for by
 * name, a software one (SwiftShader) is accepted too: a correctness path for tests, ~100× slower than wasm.
 */
export async function loadTfjsWebgpu(allowSoftware: boolean): Promise<WebgpuLoad> {
  const probe = await probeAdapters();
  const hardware = probe.adapters.find((a) => !a.software);
  const adapter = hardware ?? (allowSoftware ? probe.adapters[0] : undefined);
  if (adapter === undefined) {
    const software = probe.adapters[0];
    throw new WebgpuUnavailable(
      software !== undefined
        ? `only a software adapter (${software.name}), which runs on the CPU slower than wasm; --backend webgpu uses it anyway`
        : `no adapter (${probe.error ?? 'none offered'})`);
  }
  await startDawn();
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new WebgpuUnavailable(`${adapter.name}: the tfjs WebGPU backend failed to initialise`);
  await tf.ready();
  return { adapter };
}

async function startDawn(): Promise<void> {
  if (dawnInProcess) return;
  const env = gpuEnvironment();
  if (env['XDG_RUNTIME_DIR'] !== undefined) process.env['XDG_RUNTIME_DIR'] = env['XDG_RUNTIME_DIR'];
  const { create, globals } = await import('webgpu');
  // tfjs-backend-webgpu reads the WebGPU constants (GPUBufferUsage…) and navigator.gpu from the global scope,
  // as in a browser.
  Object.assign(globalThis, globals);
  const gpu = create([]);
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav !== undefined) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  dawnInProcess = true;
}
