/** Timing: warm up, then repeat until both a minimum count and a minimum time are reached; report the median. */
export interface Timing {
  runs: number;
  medianMs: number;
  minMs: number;
}

export async function measure(fn: () => Promise<unknown>, opts: { minRuns: number; minTimeMs: number; warmup?: number; maxRuns?: number }): Promise<Timing> {
  for (let i = 0; i < (opts.warmup ?? 1); i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < opts.minRuns || (performance.now() - start < opts.minTimeMs && times.length < (opts.maxRuns ?? 1000))) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const medianMs = times.length % 2 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2;
  return { runs: times.length, medianMs, minMs: times[0]! };
}
