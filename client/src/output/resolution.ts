/**
 * Adaptive render resolution: when the GPU cannot draw the effects at the screen's full resolution in time
 * (an integrated GPU driving a 4K projector; software WebGL), the page draws fewer pixels and the browser
 * enlarges the canvas, rather than the picture stuttering. Pure: it watches the intervals between display
 * frames that drew something and answers with a new scale (fraction of the full resolution), or null.
 */
export interface ResolutionOptions {
  /** Never below this fraction of the full resolution. */
  min: number;
  /** Drawn frames judged at once. */
  window: number;
  /** Slower than this many display intervals (median): draw fewer pixels. */
  slow: number;
  /** Faster than this for `window` frames: try more pixels. */
  fast: number;
}

const DEFAULTS: ResolutionOptions = { min: 0.35, window: 30, slow: 1.4, fast: 1.15 };

export class AdaptiveResolution {
  scale = 1;
  private readonly o: ResolutionOptions;
  private readonly intervals: number[] = [];
  /** The shortest interval of each recent window: the display's own interval (vsync) is their minimum. */
  private readonly minima: number[] = [];

  constructor(options: Partial<ResolutionOptions> = {}) {
    this.o = { ...DEFAULTS, ...options };
  }

  /**
   * One display frame that drew, `ms` after the previous display frame. Returns the new scale when it
   * changes. After a change the window starts afresh, so one slow spell is not counted twice.
   */
  observe(ms: number): number | null {
    if (!(ms > 0) || ms > 1000) return null; // a hidden tab or a stall: not a measure of drawing
    this.intervals.push(ms);
    if (this.intervals.length < this.o.window) return null;
    this.minima.push(Math.min(...this.intervals));
    if (this.minima.length > 20) this.minima.shift();
    // No projector refreshes slower than 30 Hz: a page drawing slowly for long is still judged against that.
    const vsync = Math.min(1000 / 30, Math.max(1000 / 240, Math.min(...this.minima)));
    const sorted = [...this.intervals].sort((a, b) => a - b);
    this.intervals.length = 0;
    const median = sorted[Math.floor(sorted.length / 2)]!;
    let next = this.scale;
    if (median > this.o.slow * vsync) next = Math.max(this.o.min, this.scale * Math.max(0.5, Math.sqrt(vsync / median)));
    else if (median < this.o.fast * vsync && this.scale < 1) next = Math.min(1, this.scale * 1.15);
    next = Math.round(next * 100) / 100;
    if (next === this.scale) return null;
    this.scale = next;
    return next;
  }
}
