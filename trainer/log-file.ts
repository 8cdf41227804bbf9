/** A run's log.jsonl: one JSON object a line, appended as training goes. */
import { promises as fs } from 'node:fs';
import { writeFileAtomic } from '../core/fsutil.ts';

/**
 * Keeps log.jsonl consistent with the checkpoint a run resumes from: drops the lines logged past its `step`
 * (written after it, then lost), and lines cut short by a crash; entries with no step, and events named in
 * `keepEvents` (PGGAN's 'collapse': the record of why the run went back to that step), stay. A missing file is
 * written empty. The file is replaced atomically, so a crash while trimming leaves the old one whole.
 */
export async function trimLog(file: string, step: number, keepEvents: readonly string[] = []): Promise<void> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  const kept = text.split('\n').filter((line) => {
    if (!line.trim()) return false;
    try {
      const entry = JSON.parse(line) as { step?: number; event?: string };
      return (entry.event !== undefined && keepEvents.includes(entry.event)) || entry.step === undefined || entry.step <= step;
    } catch {
      return false; // a line cut short by a crash
    }
  });
  await writeFileAtomic(file, kept.map((l) => l + '\n').join(''));
}
