/**
 * Runs tasks one at a time, in order; a task asked for while others wait makes those moot, so only the newest
 * waiting one runs. For changes where only the last request matters (an audio source, a model's gains, the preset
 * states a mapping needs): however many overlap, the work is one run at a time, and the result is the last asked.
 */
export class LatestOnly {
  private chain: Promise<void> = Promise.resolve();
  private generation = 0;

  /** Resolves when `task` has run, or at once (after the one before) when a newer task replaced it. */
  run(task: () => Promise<void>): Promise<void> {
    const mine = ++this.generation;
    const go = () => (mine === this.generation ? task() : undefined);
    const done = this.chain.then(go, go);
    this.chain = done.catch(() => undefined);
    return done;
  }

  /** Resolves once everything asked for so far has run (or been replaced). */
  settled(): Promise<void> {
    return this.chain;
  }
}
