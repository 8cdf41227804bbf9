/** Crash-safe file writing: write to a temporary name, fsync, rename over the target. */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export function tempNameFor(target: string): string {
  return `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Writes and fsyncs a file (no rename): for files inside a directory that is itself renamed into place. */
export async function writeSynced(file: string, data: Uint8Array | string): Promise<void> {
  const fh = await fs.open(file, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Atomically replaces `file`: readers see the old content or the new, never a mix or a truncation. */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempNameFor(file);
  try {
    await writeSynced(tmp, data);
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await syncDir(path.dirname(file));
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic there.
  } finally {
    await fh.close();
  }
}

export async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

/** Hard-links a tree (files linked, directories recreated); copies where links are not allowed. */
export async function linkTree(from: string, to: string): Promise<void> {
  const st = await fs.lstat(from);
  if (st.isDirectory()) {
    await fs.mkdir(to, { recursive: true });
    for (const entry of await fs.readdir(from)) await linkTree(path.join(from, entry), path.join(to, entry));
  } else if (st.isFile()) {
    await fs.link(from, to).catch(() => fs.copyFile(from, to));
  }
}

/** A file's identity for caches: where it is, its size and when it last changed. */
export async function fileStamp(file: string | null): Promise<string> {
  if (!file) return '-';
  const st = await fs.stat(file);
  return `${path.resolve(file)}:${st.size}:${st.mtimeMs}`;
}

/**
 * A model's identity for caches: the stamps of the files that decide its frames (or of the .onnx file itself).
 * A directory's own mtime would not do: copying new weights over old ones leaves it unchanged.
 */
export async function modelStamp(model: string): Promise<string> {
  if (model.toLowerCase().endsWith('.onnx')) return fileStamp(model);
  const parts = await Promise.all(['manifest.json', 'generator.onnx', 'tfjs/weights.bin'].map((f) => fileStamp(path.join(model, f)).catch(() => '-')));
  return parts.join(' ');
}
