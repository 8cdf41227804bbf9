/**
 * The machine's WebGPU adapters, as Dawn (the `webgpu` npm package) sees them, each marked hardware or software.
 * A software adapter (SwiftShader, llvmpipe, Microsoft Basic Render Driver) is a CPU emulation: a correctness
 * path for tests, never one that `auto` should choose.
 *
 * The probe runs in a child process (probe-main.ts): a broken driver can crash or hang there without taking the
 * caller down, and Dawn's own warnings stay out of the user's terminal.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** What the probe reads from one adapter. */
export interface RawAdapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** WebGPU's own flag for an adapter that trades speed for availability (software). */
  fallback: boolean;
  maxBufferSize: number;
}

export interface GpuAdapter extends RawAdapter {
  /** A name for people: the description, else vendor and architecture. */
  name: string;
  software: boolean;
}

export interface AdapterProbe {
  adapters: GpuAdapter[];
  /** Why the probe found nothing, when it failed (no driver, a crash, a timeout). */
  error: string | null;
}

const rawSchema = z.array(
  z.object({
    vendor: z.string(),
    architecture: z.string(),
    device: z.string(),
    description: z.string(),
    fallback: z.boolean(),
    maxBufferSize: z.number(),
  }),
);

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|warp/i;

/** Whether an adapter is a CPU emulation: WebGPU says so, or its names are those of a software rasteriser. */
export function isSoftwareAdapter(a: RawAdapter): boolean {
  return a.fallback || SOFTWARE.test(`${a.vendor} ${a.architecture} ${a.device} ${a.description}`);
}

export function describeAdapter(a: RawAdapter): GpuAdapter {
  const name = a.description || [a.vendor, a.architecture].filter(Boolean).join(' ') || 'unnamed adapter';
  return { ...a, name, software: isSoftwareAdapter(a) };
}

/**
 * Dawn's Vulkan backend wants a writable XDG_RUNTIME_DIR; a server started by a service manager or in a
 * container often has none. A private folder under the temp dir stands in.
 */
export function gpuEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (env['XDG_RUNTIME_DIR']) return env;
  const dir = path.join(os.tmpdir(), `rhodops-xdg-${os.userInfo().uid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return { ...env, XDG_RUNTIME_DIR: dir };
}

const PROBE = fileURLToPath(new URL('./probe-main.ts', import.meta.url));
const PROBE_TIMEOUT_MS = 20_000;
let cached: Promise<AdapterProbe> | null = null;

/** The adapters, probed once per process. */
export function probeAdapters(): Promise<AdapterProbe> {
  cached ??= runProbe();
  return cached;
}

function runProbe(): Promise<AdapterProbe> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', PROBE], { env: gpuEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    const fail = (why: string) => resolve({ adapters: [], error: why });
    child.on('error', (e) => {
      clearTimeout(timer);
      fail(`the WebGPU probe could not start: ${e.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      const parsed = rawSchema.safeParse(safeJson(line));
      if (code === 0 && parsed.success) {
        const adapters = parsed.data.map(describeAdapter);
        const noDriver = /found no drivers|no .*adapter/i.exec(err);
        resolve({ adapters, error: adapters.length === 0 ? (noDriver ? 'no Vulkan/Metal/D3D12 driver found' : 'no adapter offered') : null });
        return;
      }
      const last = err.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
      fail(signal === 'SIGKILL' ? `the WebGPU probe hung (killed after ${PROBE_TIMEOUT_MS / 1000} s)` : `the WebGPU probe failed (exit ${code ?? signal}): ${last}`);
    });
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
