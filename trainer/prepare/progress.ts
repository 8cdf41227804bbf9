/**
 * A progress bar on stderr (images made, images/s, ETA); without a terminal to draw on (a job under nohup, a
 * log file), a line a minute instead; or nothing.
 */
import cliProgress from 'cli-progress';
import { logger } from '../../core/log.ts';
import { formatDuration } from '../report/html.ts';

/** 'bar' on a terminal, 'log' for a line a minute, 'none'. */
export type ProgressMode = 'bar' | 'log' | 'none';

/** What a command's `--progress`/`--no-progress` means where it runs. */
export const progressMode = (wanted: boolean): ProgressMode => (!wanted ? 'none' : process.stderr.isTTY ? 'bar' : 'log');

const LOG_EVERY_MS = 60_000;

export interface Bar {
  /** `n` more images done; `label` says what is being worked on. */
  advance(n: number, label?: string): void;
  /** Lowers the total when planned work goes away (a source that turned out unreadable). */
  drop(n: number): void;
  stop(): void;
}

export function progressBar(mode: ProgressMode | boolean, total: number, what: string): Bar {
  if (mode === 'log') return progressLog(total, what);
  if (mode === false || mode === 'none') return { advance: () => {}, drop: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${what} |{bar}| {value}/{total} images | {ips} img/s | ETA {eta_formatted} | {label}`,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 200,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  let done = 0;
  let max = total;
  bar.start(max, 0, { label: '', ips: '-' });
  return {
    advance(n, label) {
      done += n;
      const secs = (performance.now() - started) / 1000;
      bar.update(done, { ips: secs > 0 ? (done / secs).toFixed(1) : '-', ...(label === undefined ? {} : { label }) });
    },
    drop(n) {
      max -= n;
      bar.setTotal(max);
    },
    stop: () => bar.stop(),
  };
}

function progressLog(total: number, what: string): Bar {
  const log = logger(what);
  const started = performance.now();
  let last = started;
  let done = 0;
  let max = total;
  return {
    advance(n) {
      done += n;
      const now = performance.now();
      if (now - last < LOG_EVERY_MS && done < max) return;
      last = now;
      const secs = (now - started) / 1000;
      const left = done > 0 ? ((max - done) * secs) / done : null;
      log.info(`${done}/${max} images, ${(done / secs).toFixed(2)} img/s${left === null ? '' : `, ${formatDuration(left)} left`}`);
    },
    drop(n) {
      max -= n;
    },
    stop: () => {},
  };
}
