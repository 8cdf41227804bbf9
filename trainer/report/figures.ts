/**
 * The figures a report's header states, worked out from the run state and the log: where the schedule is, how
 * fast the latest steps ran, and how long the rest should take. Pure.
 */
import { etaSeconds, pgganStepCost, pointAt, totalImages, type Level, type SchedulePoint } from '../pggan/schedule.ts';
import type { StepEntry, TrainingLog } from './log.ts';

/** Recent speed is the median of this many steps: one slow step (a checkpoint, a metrics pass) does not move it. */
export const SPEED_WINDOW = 50;

export interface RunFigures {
  /** Schedule clock: images shown so far, as the schedule counts them. */
  clock: number;
  /** Images in the whole schedule, when the run state is known. */
  total: number | null;
  point: SchedulePoint | null;
  finished: boolean;
  /** Median images per second of the last steps at the latest resolution. */
  imagesPerSecond: number | null;
  etaSeconds: number | null;
}

export interface FigureInputs {
  log: TrainingLog;
  /** The schedule in force (the run state's levels, remedies applied), or null when the manifest lacks it. */
  levels: readonly Level[] | null;
  /** Feature maps per level (4² first), to extrapolate speed to resolutions not reached yet. */
  widths: readonly number[] | null;
  /** The manifest's training clock; the log may be ahead of the last checkpoint. */
  imagesSeen: number | null;
}

export function runFigures({ log, levels, widths, imagesSeen }: FigureInputs): RunFigures {
  const last = log.steps[log.steps.length - 1];
  const clock = Math.max(imagesSeen ?? 0, last ? Math.round(last.kimg * 1000) : 0);
  const total = levels ? totalImages(levels) : null;
  const point = levels ? pointAt(levels, clock) : null;
  const finished = log.done || log.phases[log.phases.length - 1]?.now === 'done' || (point?.done ?? false);
  const perImage = (res: number) => medianSecondsPerImage(log.steps, levels, res);
  const speedRes = last?.res ?? null;
  const latest = speedRes === null ? null : perImage(speedRes);
  let eta: number | null = null;
  if (finished) eta = 0;
  else if (levels) {
    const widthAt = (res: number) => widths?.[Math.log2(res) - 2] ?? widths?.[widths.length - 1] ?? 1;
    eta = etaSeconds(levels, clock, perImage, (res) => pgganStepCost(res, widthAt));
  }
  return { clock, total, point, finished, imagesPerSecond: latest && latest > 0 ? 1 / latest : null, etaSeconds: eta };
}

/** The minibatch at `res`: the run's level for it, else the largest one below (a resolution the state lacks). */
export function batchAt(levels: readonly Level[] | null, res: number): number | null {
  if (!levels) return null;
  const exact = levels.find((l) => l.resolution === res);
  return exact?.batch ?? [...levels].reverse().find((l) => l.resolution <= res)?.batch ?? null;
}

/** Images per second of one step, or null when its batch or duration is unknown. */
export function stepImagesPerSecond(step: StepEntry, levels: readonly Level[] | null): number | null {
  const batch = batchAt(levels, step.res);
  return batch === null || step.ms <= 0 ? null : (batch * 1000) / step.ms;
}

function medianSecondsPerImage(steps: readonly StepEntry[], levels: readonly Level[] | null, res: number): number | null {
  const recent: number[] = [];
  for (let i = steps.length - 1; i >= 0 && recent.length < SPEED_WINDOW; i--) {
    const s = steps[i]!;
    if (s.res !== res) continue;
    const ips = stepImagesPerSecond(s, levels);
    if (ips !== null) recent.push(1 / ips);
  }
  return recent.length > 0 ? median(recent) : null;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
