/**
 * The image files of a folder, found recursively in path order, and the stems output names start with.
 * Files that are not images are ignored; images in a format sharp cannot read are listed with the reason,
 * so a folder of BMPs says why nothing came out of it.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RhodopsError } from '../../core/errors.ts';
import { IMAGE_EXTENSIONS, UNREADABLE_IMAGE_FORMATS } from '../datasets/folder.ts';


export interface SourceFile {
  /** Relative to the folder, '/'-separated: the sort key and the name in messages and the summary. */
  rel: string;
  abs: string;
  /** Set when sharp cannot read the format: the reason it is skipped. */
  unreadable?: string;
}

export interface Listing {
  files: SourceFile[];
  /** Files that are not images (left alone). */
  ignored: number;
}

/** Image files under `root` (not under `exclude`, e.g. an output folder inside it), sorted by path; dot-files left out. */
export async function listImageFiles(root: string, exclude: string[] = []): Promise<Listing> {
  const st = await fs.stat(root).catch(() => null);
  if (!st?.isDirectory()) {
    throw new RhodopsError('DATASET_INVALID', `${root} ${st ? 'is a file, not a folder' : 'does not exist'}.`, { hint: 'pass the folder that holds the images' });
  }
  const skip = new Set(exclude.map((p) => path.resolve(p)));
  const files: SourceFile[] = [];
  let ignored = 0;
  const seen = new Set<string>();
  const walk = async (dir: string, rel: string): Promise<void> => {
    const real = await fs.realpath(dir);
    if (seen.has(real) || skip.has(path.resolve(dir))) return; // a symlink loop, or the output folder
    seen.add(real);
    const entries = await fs.readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of entries) {
      if (d.name.startsWith('.')) continue; // .DS_Store, ._x.jpg (macOS forks), temporary files
      const abs = path.join(dir, d.name);
      const relName = rel ? `${rel}/${d.name}` : d.name;
      const target = d.isSymbolicLink() ? await fs.stat(abs).catch(() => null) : null;
      if (d.isDirectory() || target?.isDirectory()) await walk(abs, relName);
      else if (d.isFile() || target?.isFile()) {
        const ext = path.extname(d.name).toLowerCase();
        const unreadable = UNREADABLE_IMAGE_FORMATS[ext];
        if (unreadable) files.push({ rel: relName, abs, unreadable: `${unreadable} is not a format sharp reads; convert it to PNG or JPEG` });
        else if (IMAGE_EXTENSIONS.includes(ext)) files.push({ rel: relName, abs });
        else ignored++;
      }
    }
  };
  await walk(root, '');
  files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return { files, ignored };
}

/**
 * Output-name stems: the relative path without its extension, folders joined by '-'; where two files would
 * share a stem (a.jpg and a.png, x/a.jpg and x-a.jpg) each keeps its extension as well, and a counter
 * settles any clash left.
 */
export function stemsFor(rels: readonly string[]): string[] {
  const clean = (s: string) => s.replace(/[/\\]/g, '-').replace(/[\x00-\x1f<>:"|?*]/g, '_');
  const base = rels.map((r) => clean(r.slice(0, r.length - path.extname(r).length)));
  const counts = new Map<string, number>();
  for (const b of base) counts.set(b, (counts.get(b) ?? 0) + 1);
  const taken = new Set<string>();
  return rels.map((r, i) => {
    let stem = counts.get(base[i]!)! > 1 ? clean(r.replace(/\.([^./]+)$/, '-$1')) : base[i]!;
    for (let n = 2; taken.has(stem); n++) stem = `${base[i]}-${n}`;
    taken.add(stem);
    return stem;
  });
}
