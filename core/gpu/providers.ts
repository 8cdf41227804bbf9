/**
 * ONNX Runtime's execution providers on this machine, and the one `--ep auto` plays on: the best hardware provider
 * present (CoreML on macOS, DirectML on Windows, CUDA or TensorRT where their libraries are installed, WebGPU on
 * a real adapter), never a software adapter unless asked for by name, else the CPU, with the reasons.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { probeAdapters, type AdapterProbe, type GpuAdapter } from './adapters.ts';

export const GPU_PROVIDERS = ['webgpu', 'coreml', 'dml', 'cuda', 'tensorrt'] as const;
export type GpuProvider = (typeof GPU_PROVIDERS)[number];

export interface ProviderOffer {
  name: GpuProvider;
  /** Usable for `auto`: present, and on hardware. */
  usable: boolean;
  /** What it runs on, or why it is not usable. */
  detail: string;
}

export interface ProviderSurvey {
  offers: ProviderOffer[];
  adapters: AdapterProbe;
}

/** In auto's order of preference: the platform's own first, then CUDA's, then WebGPU. */
const PREFERENCE: readonly GpuProvider[] = ['coreml', 'dml', 'tensorrt', 'cuda', 'webgpu'];

/**
 * CUDA and TensorRT are separate shared libraries that onnxruntime-node's install script fetches only when asked;
 * looking for the file gives a plain reason and avoids ORT's own stderr noise.
 */
export function missingProviderLibrary(provider: 'cuda' | 'tensorrt'): string | null {
  const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  const dir = path.join(path.dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
  const file = process.platform === 'win32' ? `onnxruntime_providers_${provider}.dll` : `libonnxruntime_providers_${provider}.so`;
  return existsSync(path.join(dir, file)) ? null : `${file} is not installed (an opt-in: README "GPU")`;
}

function hardware(adapters: readonly GpuAdapter[]): GpuAdapter | undefined {
  return adapters.find((a) => !a.software);
}

/** What each GPU provider would run on here. */
export function offersFrom(listed: readonly string[], adapters: AdapterProbe, platform: NodeJS.Platform, missingLibrary: (p: 'cuda' | 'tensorrt') => string | null): ProviderOffer[] {
  return PREFERENCE.map((name): ProviderOffer => {
    if (!listed.includes(name)) return { name, usable: false, detail: `not in this onnxruntime-node build for ${platform}` };
    switch (name) {
      case 'coreml':
        return { name, usable: platform === 'darwin', detail: platform === 'darwin' ? 'Apple Neural Engine / GPU' : 'macOS only' };
      case 'dml':
        return { name, usable: platform === 'win32', detail: platform === 'win32' ? 'DirectX 12 GPU' : 'Windows only' };
      case 'cuda':
      case 'tensorrt': {
        const missing = missingLibrary(name);
        return { name, usable: missing === null, detail: missing ?? 'NVIDIA GPU (libraries installed)' };
      }
      case 'webgpu': {
        const hw = hardware(adapters.adapters);
        if (hw) return { name, usable: true, detail: hw.name };
        const sw = adapters.adapters[0];
        return { name, usable: false, detail: sw ? `only a software adapter (${sw.name}): a CPU emulation, used only when asked for by name` : (adapters.error ?? 'no adapter') };
      }
    }
  });
}

export async function surveyProviders(): Promise<ProviderSurvey> {
  const adapters = await probeAdapters();
  const listed = ort.listSupportedBackends().map((b) => b.name);
  return { offers: offersFrom(listed, adapters, process.platform, missingProviderLibrary), adapters };
}

/** auto's choice: the first usable provider in preference order, else 'cpu' with why none was. */
export function chooseAuto(offers: readonly ProviderOffer[]): { provider: GpuProvider | 'cpu'; why: string } {
  const best = offers.find((o) => o.usable);
  if (best) return { provider: best.name, why: best.detail };
  const relevant = offers.filter((o) => !/only$|not in this onnxruntime-node build/.test(o.detail));
  // The opt-in libraries are missing on most machines: one short clause for them, not a path each.
  const optIns = relevant.filter((o) => /is not installed/.test(o.detail)).map((o) => o.name);
  const reasons = [
    ...relevant.filter((o) => !optIns.includes(o.name)).map((o) => `${o.name}: ${o.detail}`),
    ...(optIns.length ? [`${optIns.join(' and ')} not installed (opt-ins, README "GPU")`] : []),
  ];
  return { provider: 'cpu', why: reasons.length ? reasons.join('; ') : 'no GPU provider for this platform' };
}
