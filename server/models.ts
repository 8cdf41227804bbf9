/** Models the server can switch to: checkpoint directories (with manifest.json) and .onnx files in the model folders. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readManifest } from '../core/checkpoint/io.ts';
import type { ModelEntry } from '../protocol/status.ts';

export async function listModels(dirs: string[]): Promise<ModelEntry[]> {
  const out: ModelEntry[] = [];
  for (const dir of dirs) {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isFile() && e.name.toLowerCase().endsWith('.onnx')) {
        out.push({ name: e.name.replace(/\.onnx$/i, ''), path: full, kind: 'onnx', resolution: null });
      } else if (e.isDirectory()) {
        const m = await readManifest(full).catch(() => null);
        if (m) out.push({ name: m.name, path: full, kind: m.kind, resolution: m.resolution });
      }
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
