/**
 * How many images of a minibatch one pass of a PGGAN step may take, so a step fits in memory. The wasm backend's
 * heap ends at 4 GB and a step's peak grows with the images in it (the gradient penalty's second-order graph
 * holds every activation twice): with `mid` widths one image adds about 320 MB at 64² and 620 MB at 128², so the
 * paper's minibatch of 16 does not fit in one pass from 64² on. With `auto`, the gradients of one image and of two
 * are computed once per resolution under tf.profile (and thrown away): the difference is what each image adds,
 * the rest what a pass costs anyway, and steps then take as many images as fit the budget (whole minibatch-stddev
 * groups where one fits). Before measuring, the previous resolution's figures (× 2.5: a doubling measured ×1.9)
 * say whether even one image can fit; if not, the run stops with a message instead of the heap aborting.
 */
import * as tf from '@tensorflow/tfjs-core';
import { RhodopsError } from '../../core/errors.ts';

/** What a step's peak may add (bytes) under the 4 GB wasm heap, leaving room for fragmentation and the data. */
export const STEP_MEMORY_BUDGET = 2.5 * 2 ** 30;
/** A resolution's figures against the one before: ×1.9 measured with `mid` widths, and a margin. */
const GROWTH = 2.5;

export type MicroBatchSetting = number | 'auto';

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GB`;

/** A pass of n images raises the peak by about fixed + n × perImage bytes. */
interface PassCost {
  fixed: number;
  perImage: number;
}

export class MicroBatchPlanner {
  private readonly costs = new Map<number, PassCost>();

  constructor(
    private readonly setting: MicroBatchSetting,
    private readonly group: number,
    private readonly budget = STEP_MEMORY_BUDGET,
  ) {}

  /**
   * The micro-batch for a step of `batch` images at `resolution`: the setting, or as many images as the budget
   * holds by `peak` (the peak bytes of a pass of n images; run for 1 and 2, once per resolution). It depends only
   * on those measures, so a resumed run splits its steps as the uninterrupted one did.
   */
  async microFor(resolution: number, batch: number, peak: (n: number) => Promise<number>): Promise<number> {
    if (this.setting !== 'auto') return this.setting;
    let cost = this.costs.get(resolution);
    if (cost === undefined) {
      this.checkFits(resolution);
      const one = await peak(1);
      const two = batch > 1 ? await peak(2) : 2 * one;
      const perImage = Math.max(1, two - one);
      cost = { fixed: Math.max(0, one - perImage), perImage };
      this.costs.set(resolution, cost);
    }
    const n = Math.max(1, Math.floor((this.budget - cost.fixed) / cost.perImage));
    return Math.min(batch, n >= this.group ? Math.floor(n / this.group) * this.group : n);
  }

  /** Refuses a resolution where, by the one before, even one image would not fit. */
  private checkFits(resolution: number): void {
    const before = this.costs.get(resolution / 2);
    if (before === undefined) return;
    const need = (before.fixed + before.perImage) * GROWTH + tf.memory().numBytes;
    if (need > this.budget * 1.4) {
      throw new RhodopsError('BAD_OPTION', `at ${resolution}² a step of one image needs about ${gib(need)}; the wasm backend's heap holds 4 GB, with room for about ${gib(this.budget * 1.4)} a step.`, {
        hint: 'Use narrower widths (--widths narrow), a smaller final --resolution, or a GPU backend (--backend gpu).',
      });
    }
  }
}
