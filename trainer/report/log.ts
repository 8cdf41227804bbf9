/**
 * A PGGAN run's log.jsonl read back for the report: step lines and events, each line validated on its own so a
 * line cut short by a crash (or written by an older version) costs that line only. After a guard rollback the
 * run repeats steps it had already logged; the report shows the timeline that stands, so a step line at or
 * before the last one drops what was logged from that step on (the collapse events, which say why, stay).
 */
import { z } from 'zod';

/** NaN and Infinity reach JSON as null: a diverged step is a gap in the curve, not a reason to drop the line. */
const loss = z.number().nullable().optional().transform((v) => v ?? null);
const kind = z.enum(['transition', 'stabilise']);

/** Where in the run a line was written: every line has both. */
const at = { step: z.number().int(), kimg: z.number() };

const stepSchema = z.object({
  ...at,
  res: z.number().int().positive(),
  alpha: z.number(),
  d: loss,
  g: loss,
  wdist: loss,
  gp: loss,
  drift: loss,
  /** Milliseconds the step took. */
  ms: z.number().nonnegative(),
  /** Images per pass when the step ran in micro-batches (absent: one pass of the whole minibatch). */
  micro: z.number().int().positive().optional(),
});
export type StepEntry = z.infer<typeof stepSchema>;

const phaseSchema = z.object({
  event: z.literal('phase'),
  ...at,
  ended: z.object({ res: z.number().int().positive(), kind }),
  now: z.union([z.literal('done'), z.object({ res: z.number().int().positive(), kind })]),
});
export type PhaseEvent = z.infer<typeof phaseSchema>;

const metricsSchema = z.object({
  event: z.literal('metrics'),
  ...at,
  res: z.number().int().positive(),
  /** SWD ×1000 per Laplacian-pyramid level, finest (the image's own size) first, down to 16². */
  swd: z.array(z.number()),
  swdMean: z.number(),
  msssim: z.number().nullable(),
  msssimReal: z.number().nullable(),
});
export type MetricsEvent = z.infer<typeof metricsSchema>;

const guardSchema = z.object({
  event: z.literal('guard'),
  ...at,
  res: z.number().int().positive(),
  ratio: z.number(),
  verdict: z.string(),
});
export type GuardEvent = z.infer<typeof guardSchema>;

const pair = z.tuple([z.number(), z.number()]);
const collapseSchema = z.object({
  event: z.literal('collapse'),
  /** The step training went on from: the healthy checkpoint's, or the detecting one's when there was none. */
  ...at,
  detectedAt: z.number().int(),
  ratio: z.number(),
  rolledBackTo: z.number().int().nullable(),
  remedy: z.object({ lr: pair, lambdaGp: pair, transitionKimg: pair.nullable().optional() }).nullable(),
  gaveUp: z.boolean(),
  rollbacks: z.number().int().optional(),
});
export type CollapseEvent = z.infer<typeof collapseSchema>;

const doneSchema = z.object({ event: z.literal('done'), ...at });

const eventSchema = z.discriminatedUnion('event', [phaseSchema, metricsSchema, guardSchema, collapseSchema, doneSchema]);
const EVENTS: ReadonlySet<string> = new Set(eventSchema.options.map((o) => o.shape.event.value));

export interface TrainingLog {
  steps: StepEntry[];
  phases: PhaseEvent[];
  metrics: MetricsEvent[];
  guards: GuardEvent[];
  collapses: CollapseEvent[];
  /** A `done` line: training reached the end of its schedule. */
  done: boolean;
  /** Lines that were not JSON, or a step or known event without the fields it must have. */
  skipped: number;
}

export function emptyLog(): TrainingLog {
  return { steps: [], phases: [], metrics: [], guards: [], collapses: [], done: false, skipped: 0 };
}

export function parseTrainingLog(text: string): TrainingLog {
  const log = emptyLog();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      log.skipped++;
      continue;
    }
    const event = typeof json === 'object' && json !== null && 'event' in json ? (json as { event: unknown }).event : undefined;
    if (event === undefined) {
      const step = stepSchema.safeParse(json);
      if (!step.success) {
        log.skipped++;
        continue;
      }
      const last = log.steps[log.steps.length - 1];
      if (last !== undefined && step.data.step <= last.step) dropFrom(log, step.data.step);
      log.steps.push(step.data);
      continue;
    }
    // Events a later version adds are not damage: they are left out quietly.
    if (typeof event !== 'string' || !EVENTS.has(event)) continue;
    const parsed = eventSchema.safeParse(json);
    if (!parsed.success) {
      log.skipped++;
      continue;
    }
    const entry = parsed.data;
    switch (entry.event) {
      case 'phase':
        log.phases.push(entry);
        break;
      case 'metrics':
        log.metrics.push(entry);
        break;
      case 'guard':
        log.guards.push(entry);
        break;
      case 'collapse':
        log.collapses.push(entry);
        break;
      case 'done':
        log.done = true;
        break;
      default: {
        const unknown: never = entry;
        throw new Error(`parseTrainingLog: unhandled event ${String(unknown)}`);
      }
    }
  }
  return log;
}

/** Forgets what a rollback undid: entries logged at `step` or later, which the run is about to log again. */
function dropFrom(log: TrainingLog, step: number): void {
  const keep = <T extends { step: number }>(list: T[]) => list.filter((e) => e.step < step);
  log.steps = keep(log.steps);
  log.phases = keep(log.phases);
  log.metrics = keep(log.metrics);
  log.guards = keep(log.guards);
  log.done = false;
}
