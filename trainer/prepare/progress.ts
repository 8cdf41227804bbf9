/** A progress bar on stderr (images made, images/s, ETA), or nothing when there is no terminal to draw on. */
import cliProgress from 'cli-progress';

export interface Bar {
  /** `n` more images done; `label` says what is being worked on. */
  advance(n: number, label?: string): void;
  /** Lowers the total when planned work goes away (a source that turned out unreadable). */
  drop(n: number): void;
  stop(): void;
}

export function progressBar(show: boolean, total: number, what: string): Bar {
  if (!show) return { advance: () => {}, drop: () => {}, stop: () => {} };
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
