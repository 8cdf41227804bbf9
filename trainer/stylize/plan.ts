/**
 * The seed's style-transfer workflow as a plan: which content and which styles make each pastiche, phase by
 * phase. Pure data from a seed, so a rerun plans the same images and continues where it stopped.
 *
 * - collect: 1–5 styles at a time, drawn until every style has been used (the coupon collector), then extra
 *   draws for the styles used least;
 * - feedback: a pastiche of the collect phase as content, styled with 2–3 images from the originals or the
 *   pastiches made so far;
 * - dark / light: the styles split at their median luminance, content and styles drawn within one half;
 * - round robin: three originals, each the content with the other two as style.
 *
 * Each phase draws from its own random stream, and each job from the stream's next draws: asking for more
 * pastiches in a phase appends to that phase and changes nothing already planned.
 */
import { hash32, rng } from '../../core/random.ts';

export const PHASES = ['collect', 'feedback', 'dark-light', 'round-robin'] as const;
export type Phase = (typeof PHASES)[number];

/** An input of a pastiche: an original style image, a separate content image, or an earlier pastiche. */
export type Ref = { kind: 'style'; index: number } | { kind: 'content'; index: number } | { kind: 'made'; id: string };

export interface Job {
  /** The output's name without extension, e.g. `collect-0007`: stable across reruns. */
  id: string;
  phase: Phase;
  content: Ref;
  /** Weights sum to 1. */
  styles: { ref: Ref; weight: number }[];
  /** The side the transfer starts at (smaller: more style, less content). */
  startSize: number;
  /** The job's own seed (noise, patch draws). */
  seed: number;
}

export interface PlanOptions {
  seed: number;
  /** Pastiches in the feedback phase. */
  feedback: number;
  /** Pastiches in the dark/light phase (alternately dark and light). */
  darkLight: number;
  /** Triples in the round-robin phase (three pastiches each). */
  roundRobin: number;
  /** Styles per pastiche in the collect phase, at most. */
  maxStyles: number;
  /** The range the start size is drawn from, in pixels. */
  startSizes: [number, number];
}

export interface PlanInput {
  /** The style images' mean luminance (0..1), in the folder's order: the dark/light split. */
  styleLuminance: readonly number[];
  /** Separate content images, or 0 to use the style images as content (as the seed did). */
  contentCount: number;
}

/** Defaults for n style images: about 7 pastiches per style in all, as the seed's ~70 styles made ~700 images. */
export function defaultPlanOptions(n: number, seed = 1): PlanOptions {
  return { seed, feedback: 3 * n, darkLight: 2 * n, roundRobin: Math.ceil(n / 3), maxStyles: 5, startSizes: [64, 256] };
}

const styleRef = (index: number): Ref => ({ kind: 'style', index });
const pad = (i: number) => String(i).padStart(4, '0');

/** k distinct items of `pool`, uniformly. */
function drawDistinct<T>(pool: readonly T[], k: number, r: () => number): T[] {
  const copy = [...pool];
  const out: T[] = [];
  for (let i = 0; i < k && copy.length > 0; i++) out.push(copy.splice(Math.floor(r() * copy.length), 1)[0]!);
  return out;
}

/** Random blend weights that sum to 1, none tiny (a style at 2 % would not show). */
function blendWeights(k: number, r: () => number): number[] {
  const raw = Array.from({ length: k }, () => 0.5 + r());
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => w / sum);
}

const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

export function planJobs(input: PlanInput, o: PlanOptions): Job[] {
  const n = input.styleLuminance.length;
  if (n < 1) throw new RangeError('planJobs: no style images');
  let r = rng(0);
  let phaseIndex = 0;
  const phase = (p: Phase) => {
    phaseIndex = PHASES.indexOf(p);
    r = rng(hash32(o.seed, 0x5717e, phaseIndex));
  };
  const jobs: Job[] = [];
  const styles = Array.from({ length: n }, (_, i) => i);
  const contentOf = (avoid: readonly number[], pool: readonly number[] = styles): Ref => {
    if (input.contentCount > 0) return { kind: 'content', index: Math.floor(r() * input.contentCount) };
    // The style set is the content: a content image among the pastiche's own styles would only copy itself.
    const free = pool.filter((i) => !avoid.includes(i));
    const from = free.length > 0 ? free : pool;
    return styleRef(from[Math.floor(r() * from.length)]!);
  };
  const add = (phase: Phase, index: number, content: Ref, refs: Ref[]) => {
    const weights = blendWeights(refs.length, r);
    jobs.push({
      id: `${phase}-${pad(index)}`,
      phase,
      content,
      styles: refs.map((ref, i) => ({ ref, weight: weights[i]! })),
      startSize: int(r, o.startSizes[0], o.startSizes[1]),
      seed: hash32(o.seed, phaseIndex, index),
    });
  };

  // collect: until every style has been drawn, then the least-used styles once more each.
  phase('collect');
  const uses = new Array<number>(n).fill(0);
  let collected = 0;
  while (uses.some((u) => u === 0)) {
    const picked = drawDistinct(styles, int(r, 1, Math.min(o.maxStyles, n)), r);
    for (const i of picked) uses[i]!++;
    add('collect', collected++, contentOf(picked), picked.map(styleRef));
  }
  const mean = uses.reduce((a, b) => a + b, 0) / n;
  for (const i of styles.filter((s) => uses[s]! < mean / 2)) {
    const others = drawDistinct(styles.filter((s) => s !== i), int(r, 0, Math.min(o.maxStyles, n) - 1), r);
    const picked = [i, ...others];
    for (const s of picked) uses[s]!++;
    add('collect', collected++, contentOf(picked), picked.map(styleRef));
  }
  const made = jobs.map((j) => j.id);

  // feedback: a pastiche as content, 2–3 styles from the originals and the pastiches so far.
  phase('feedback');
  for (let i = 0; i < o.feedback; i++) {
    const contentId = made[Math.floor(r() * made.length)]!;
    const pool: Ref[] = [...styles.map(styleRef), ...jobs.filter((j) => j.id !== contentId).map((j): Ref => ({ kind: 'made', id: j.id }))];
    add('feedback', i, { kind: 'made', id: contentId }, drawDistinct(pool, int(r, 2, 3), r));
  }

  // dark / light: each half of the styles by luminance on its own, alternately, so a longer phase only appends.
  phase('dark-light');
  const byLuminance = [...styles].sort((a, b) => input.styleLuminance[a]! - input.styleLuminance[b]! || a - b);
  const half = Math.ceil(n / 2);
  const dark = byLuminance.slice(0, half);
  const light = n > 1 ? byLuminance.slice(half) : dark;
  for (let i = 0; i < o.darkLight; i++) {
    const set = i % 2 === 0 ? dark : light;
    const picked = drawDistinct(set, int(r, 1, Math.min(3, set.length)), r);
    add('dark-light', i, contentOf(picked, set), picked.map(styleRef));
  }

  // round robin: three originals, each the content with the other two as style.
  phase('round-robin');
  if (n >= 3) {
    for (let t = 0; t < o.roundRobin; t++) {
      const trio = drawDistinct(styles, 3, r);
      trio.forEach((c, k) => add('round-robin', 3 * t + k, styleRef(c), trio.filter((s) => s !== c).map(styleRef)));
    }
  }
  return jobs;
}

/** How often each style image is used directly, in a plan: the manifest's coverage. */
export function styleUses(jobs: readonly Job[], n: number): number[] {
  const uses = new Array<number>(n).fill(0);
  for (const j of jobs) for (const s of j.styles) if (s.ref.kind === 'style') uses[s.ref.index]!++;
  return uses;
}
