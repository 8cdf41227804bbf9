/**
 * Lists the WebGPU adapters that Dawn (the `webgpu` package) finds, as one JSON line on stdout. Run in a child
 * process by adapters.ts: a broken driver can crash or hang here without taking the server down, and Dawn's own
 * warnings ("Found no drivers!") stay in the child's stderr.
 */
import { create, globals } from 'webgpu';
import type { RawAdapter } from './adapters.ts';

Object.assign(globalThis, globals);
const gpu = create([]);
const found: RawAdapter[] = [];
for (const options of [{ powerPreference: 'high-performance' }, { powerPreference: 'low-power' }, { forceFallbackAdapter: true }] as const) {
  const adapter = await gpu.requestAdapter(options);
  if (!adapter) continue;
  // The info's fields are getters on a native object: read them one by one.
  const i = adapter.info as unknown as Record<string, unknown>;
  const text = (k: string) => (typeof i[k] === 'string' ? (i[k] as string) : '');
  const raw: RawAdapter = {
    vendor: text('vendor'),
    architecture: text('architecture'),
    device: text('device'),
    description: text('description'),
    fallback: i['isFallbackAdapter'] === true,
    maxBufferSize: adapter.limits.maxBufferSize,
  };
  if (!found.some((f) => JSON.stringify(f) === JSON.stringify(raw))) found.push(raw);
}
process.stdout.write(JSON.stringify(found) + '\n');
// Dawn keeps threads alive; the answer is out, so leave now.
process.exit(0);
