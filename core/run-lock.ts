/**
 * One writer per training run: a lock file in the run's folder, made with O_EXCL, holding the writer's pid and
 * host. Two runs on one `--out` would each save over the other's checkpoints and both say "done". A lock whose
 * process is gone (a crash, a kill -9) is taken over with a line saying so; one on another host is refused, since
 * whether its process lives cannot be told from here.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RhodopsError } from './errors.ts';
import { logger } from './log.ts';

const log = logger('train');
const LOCK = '.rhodops-lock';

interface LockInfo {
  pid: number;
  host: string;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the run folder `dir` (made if missing) for this process; the returned function lets it go. */
export async function lockRun(dir: string): Promise<() => Promise<void>> {
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, LOCK);
  const mine: LockInfo = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fs.writeFile(file, JSON.stringify(mine), { flag: 'wx' });
      return async () => {
        const now = await fs.readFile(file, 'utf8').catch(() => '');
        if (now === JSON.stringify(mine)) await fs.rm(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let held: LockInfo | null = null;
    try {
      held = JSON.parse(await fs.readFile(file, 'utf8')) as LockInfo;
    } catch {
      // Unreadable or half-written: nobody can be shown to hold it.
    }
    if (held && typeof held.pid === 'number' && (held.host !== mine.host || alive(held.pid))) {
      throw new RhodopsError('RUN_IN_USE', `${dir} is being trained by process ${held.pid}${held.host !== mine.host ? ` on ${held.host}` : ''} (since ${held.since}).`, {
        hint: `Wait for it to finish or stop it, or choose another --out. If no such process runs any more, delete ${file}.`,
      });
    }
    log.warn(`${dir}: taking over the lock of process ${held?.pid ?? '?'}, which is gone`);
    await fs.rm(file, { force: true });
  }
  throw new RhodopsError('RUN_IN_USE', `${dir}: could not take the run's lock.`, { hint: `Delete ${file} if no training process uses ${dir}.` });
}
