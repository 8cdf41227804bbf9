/**
 * Progressive growing as a pure function of the schedule clock (images shown so far, as counted by the schedule):
 * 4² stabilises, then each higher resolution first fades in (a transition, alpha 0 → 1) and then stabilises.
 * Every stage's length is its level's kimg; the last stabilisation is the rest of training at full resolution.
 * The clock is in images, not steps, because the minibatch changes with the resolution.
 */
import type { Phase } from '../../core/models/arch.ts';

export interface Level {
  resolution: number;
  /** Minibatch at this resolution (its transition and its stabilisation). */
  batch: number;
  /** Adam's learning rate at this resolution. */
  lr: number;
  stabiliseKimg: number;
  /** Fade-in from the previous resolution; ignored at 4² (nothing to fade from). */
  transitionKimg: number;
}

export type StageKind = 'transition' | 'stabilise';

export interface Stage {
  /** 0 for 4², then 2 per level: transition (odd), stabilise (even). */
  index: number;
  level: number;
  resolution: number;
  kind: StageKind;
  /** Clock at the stage's start, and its length, in images. */
  start: number;
  images: number;
}

export interface SchedulePoint extends Phase {
  stage: Stage;
  /** Past the end of the schedule: training is over. */
  done: boolean;
}

/** A length in kimg as the whole number of images the schedule counts. */
export const images = (kimg: number) => Math.round(kimg * 1000);

/** Every stage in order; zero-length stages are kept (their phase is never current) so indices stay fixed. */
export function stages(levels: readonly Level[]): Stage[] {
  const out: Stage[] = [];
  let start = 0;
  levels.forEach((l, level) => {
    if (level > 0) {
      out.push({ index: out.length, level, resolution: l.resolution, kind: 'transition', start, images: images(l.transitionKimg) });
      start += images(l.transitionKimg);
    }
    out.push({ index: out.length, level, resolution: l.resolution, kind: 'stabilise', start, images: images(l.stabiliseKimg) });
    start += images(l.stabiliseKimg);
  });
  return out;
}

export function totalImages(levels: readonly Level[]): number {
  const all = stages(levels);
  const last = all[all.length - 1]!;
  return last.start + last.images;
}

/** Where the schedule is after `clock` images: resolution, fade-in alpha and stage. */
export function pointAt(levels: readonly Level[], clock: number): SchedulePoint {
  const all = stages(levels);
  const stage = all.find((s) => clock < s.start + s.images) ?? all[all.length - 1]!;
  const done = clock >= stage.start + stage.images;
  const alpha = stage.kind === 'transition' && !done ? Math.min(1, Math.max(0, (clock - stage.start) / stage.images)) : 1;
  return { resolution: stage.resolution, alpha, stage, done };
}

/**
 * The inverse: the first clock at which the schedule is at `phase`. Alpha 1 is the start of that resolution's
 * stabilisation; alpha in [0, 1) a point in its transition (rounded up to a whole image).
 */
export function clockAt(levels: readonly Level[], phase: Phase): number {
  const all = stages(levels);
  const kind: StageKind = phase.alpha >= 1 || phase.resolution === levels[0]?.resolution ? 'stabilise' : 'transition';
  const stage = all.find((s) => s.resolution === phase.resolution && s.kind === kind);
  if (!stage) throw new RangeError(`clockAt: the schedule has no ${kind} stage at ${phase.resolution}²`);
  return kind === 'stabilise' ? stage.start : stage.start + Math.ceil(phase.alpha * stage.images);
}

/**
 * Estimated seconds to the end of the schedule. `secondsPerImage(res)` is what a caller has measured, or null for
 * resolutions not trained yet; those are extrapolated from the highest measured one, scaled by `cost(res)`:
 * pixel count by default, or better, the activations a network of the run's widths holds at `res` (see
 * pgganStepCost). A rough figure, refined as each resolution is reached.
 */
export function etaSeconds(
  levels: readonly Level[],
  clock: number,
  secondsPerImage: (res: number) => number | null,
  cost: (res: number) => number = (r) => r * r,
): number | null {
  let known: { res: number; s: number } | null = null;
  for (const l of levels) {
    const s = secondsPerImage(l.resolution);
    if (s !== null) known = { res: l.resolution, s };
  }
  if (known === null) return null;
  const ref = known;
  let total = 0;
  for (const s of stages(levels)) {
    const left = Math.max(0, Math.min(s.images, s.start + s.images - clock));
    if (left === 0) continue;
    const measured = secondsPerImage(s.resolution);
    total += left * (measured ?? (ref.s * cost(s.resolution)) / cost(ref.res));
  }
  return total;
}

/**
 * Relative cost of a training image at `res` for per-level widths `widthAt`: the activation elements from 4² up
 * (Σ width × pixels). With widths halving as resolution doubles it doubles per level, as measured (16² → 32² →
 * 64² cost 2.1× and 2.1× with widths 64,64,64,32,16); with constant widths it grows with pixels.
 */
export function pgganStepCost(res: number, widthAt: (res: number) => number): number {
  let c = 0;
  for (let r = 4; r <= res; r *= 2) c += widthAt(r) * r * r;
  return c;
}
