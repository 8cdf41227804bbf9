/** The takes in a directory, for the REST API: MP4s, smoothed MP4s and MKVs (being recorded, kept, or left by a crash). */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { probeDuration } from './probe.ts';
import { activeRecordings } from './take.ts';
import type { TakeFile } from '../../protocol/status.ts';

/** Durations by path, valid while size and mtime are unchanged: listing again costs no ffprobe run. */
const durations = new Map<string, { size: number; mtimeMs: number; durationS: number | null }>();

function kindOf(file: string): { kind: TakeFile['kind']; take: string } | null {
  if (file.endsWith('.smooth.mp4')) return { kind: 'smooth', take: file.slice(0, -'.smooth.mp4'.length) };
  if (file.endsWith('.mp4')) return { kind: 'mp4', take: file.slice(0, -'.mp4'.length) };
  if (file.endsWith('.mkv')) return { kind: 'mkv', take: file.slice(0, -'.mkv'.length) };
  return null;
}

async function durationOf(file: string, size: number, mtimeMs: number): Promise<number | null> {
  const known = durations.get(file);
  if (known && known.size === size && known.mtimeMs === mtimeMs) return known.durationS;
  const durationS = await probeDuration(file).catch(() => null);
  durations.set(file, { size, mtimeMs, durationS });
  return durationS;
}

/** Newest first. A missing directory has no takes. */
export async function listTakes(dir: string): Promise<TakeFile[]> {
  const root = path.resolve(dir);
  const names = await fs.readdir(root).catch(() => [] as string[]);
  const out: TakeFile[] = [];
  for (const file of names) {
    const k = kindOf(file);
    if (!k) continue;
    const full = path.join(root, file);
    const st = await fs.stat(full).catch(() => null);
    if (!st?.isFile()) continue;
    const recording = activeRecordings.has(full);
    const entry: TakeFile = { file, take: k.take, path: full, kind: k.kind, bytes: st.size, modified: st.mtime.toISOString(), recording };
    if (!recording && st.size > 0) {
      const d = await durationOf(full, st.size, st.mtimeMs);
      if (d !== null) entry.durationS = d;
    }
    out.push(entry);
  }
  return out.sort((a, b) => b.modified.localeCompare(a.modified) || a.file.localeCompare(b.file));
}
