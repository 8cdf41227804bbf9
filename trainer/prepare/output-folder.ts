/**
 * A resumable output folder of PNGs (`dataset augment`, `dataset stylize`): its options recorded on the first run
 * and checked on every rerun, and temporary files of a run that crashed cleared away.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RhodopsError } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/fsutil.ts';

/** What writeFileAtomic leaves behind when a process dies between writing and renaming. */
const TEMP_FILE = /\.png\.tmp-\d+-[0-9a-f]{8}$/;

/**
 * Records `record` (its `options` compared on reruns) as `file` in a new output folder, or checks that a folder
 * being resumed was made with the same options, naming each that differs. `command` names the work in messages.
 */
export async function claimOutput(dir: string, file: string, record: { options: object }, command: string): Promise<void> {
  const at = path.join(dir, file);
  const text = await fs.readFile(at, 'utf8').catch(() => null);
  if (text === null) {
    await writeFileAtomic(at, JSON.stringify(record, null, 2) + '\n');
    return;
  }
  let before: object | undefined;
  try {
    before = (JSON.parse(text) as { options?: object }).options;
  } catch {
    /* unreadable: treated as different */
  }
  if (JSON.stringify(before) === JSON.stringify(record.options)) return;
  const then = (before ?? {}) as Record<string, unknown>;
  const now = record.options as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(then), ...Object.keys(now)])].filter((k) => JSON.stringify(then[k]) !== JSON.stringify(now[k]));
  const diff = keys.map((k) => `${k} ${JSON.stringify(then[k]) ?? '(unset)'} then, ${JSON.stringify(now[k]) ?? '(unset)'} now`).join('; ');
  throw new RhodopsError('BAD_OPTION', `${dir} holds images made by ${command} with other options (${diff || 'unreadable ' + at}).`, {
    hint: `resume with the options recorded in ${file}, or write into a new output folder`,
  });
}

export async function removeStaleTemps(dir: string): Promise<void> {
  for (const name of await fs.readdir(dir)) if (TEMP_FILE.test(name)) await fs.rm(path.join(dir, name), { force: true });
}
