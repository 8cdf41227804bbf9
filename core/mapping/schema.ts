/**
 * The mapping file format (version 1): routes from a source, through a transform, to a target, as JSON.
 *
 *   { "version": 1, "name": "club", "tempo": 120, "routes": [
 *       { "name": "bass kick", "source": { "kind": "audio bass" },
 *         "transform": { "out": [0, 1.5], "attack": 0.02, "release": 0.25 },
 *         "target": { "kind": "direction", "index": 0 } } ] }
 *
 * Every read is validated route by route, so an error names the route (its index from 0, as in the file's
 * array, and its name) and the field: "route 3 'bass kick': source.kind 'audio loudnes' is not one of …".
 * Unknown fields are errors too (a typo such as "chanel" would otherwise be silently ignored).
 */
import { z } from 'zod';
import { RhodopsError, messageOf } from '../errors.ts';
import { AUDIO_FEATURES, CHROMA_BINS } from './inputs.ts';
import { CAMERA_MOVES } from '../camera.ts';

export const MAPPING_VERSION = 1;
/**
 * Far more routes than a controller has knobs (the built-in mapping and the chroma routes make 27); a cap so a
 * broken or hostile mapping cannot make every tick slow (checking 512 routes took 15 ms).
 */
export const MAX_ROUTES = 128;
/** Time constants are seconds; longer than this is almost surely a unit mistake (ms for s). */
export const MAX_MAPPING_TIME_CONSTANT = 60;
/** Output ranges and summed direction/continuous values are kept within ±this (the control protocol's bound). */
export const MAX_AMOUNT = 10;
/** The highest drift speed a mapping can set (rad/s), the control protocol's bound. */
export const MAX_MAPPED_DRIFT = 10;

// ─── Field helpers: ranges with messages that say the range ───────────────────────────────────────────────

const int = (min: number, max: number) =>
  z
    .number(`must be an integer from ${min} to ${max}`)
    .int(`must be an integer from ${min} to ${max}`)
    .min(min, `must be an integer from ${min} to ${max}`)
    .max(max, `must be an integer from ${min} to ${max}`);
const num = (min: number, max: number, unit = '') =>
  z
    .number(`must be a number from ${min} to ${max}${unit}`)
    .min(min, `must be a number from ${min} to ${max}${unit}`)
    .max(max, `must be a number from ${min} to ${max}${unit}`);
const seconds = num(0, MAX_MAPPING_TIME_CONSTANT, ' s');
const pair = (min: number, max: number) => z.tuple([num(min, max), num(min, max)], `must be a pair [from, to] of numbers from ${min} to ${max}`);

// ─── Sources ──────────────────────────────────────────────────────────────────────────────────────────────

/** 1..16 as printed on controllers, or 'any'. */
const channel = z.union([z.literal('any'), int(1, 16)], "must be 'any' or an integer from 1 to 16").default('any');

const midiCc = z
  .strictObject({
    kind: z.literal('midi cc'),
    channel,
    controller: int(0, 127),
    /** 14 takes only 14-bit pairs (controller 0..31 with its LSB at +32); 7 takes any value of that controller. */
    bits: z.union([z.literal(7), z.literal(14)], 'must be 7 or 14').default(7),
  })
  .refine((s) => s.bits === 7 || s.controller < 32, { path: ['controller'], message: 'must be 0..31 for a 14-bit controller (its LSB is controller + 32)' });

export const NOTE_MODES = ['gate', 'velocity', 'trigger', 'pitch'] as const;
const midiNote = z
  .strictObject({
    kind: z.literal('midi note'),
    channel,
    /** One note… */
    note: int(0, 127).optional(),
    /** …or an inclusive range [low, high]; neither means every note. */
    range: z.tuple([int(0, 127), int(0, 127)], 'must be a pair [low, high] of notes 0..127').optional(),
    /**
     * gate: 1 while a note is held; velocity: its velocity while held; trigger: an envelope from its velocity
     * at each note-on; pitch: where the last note lies in the range, 0..1 (the keys as a slider), held.
     */
    mode: z.enum(NOTE_MODES, `must be one of ${NOTE_MODES.join(', ')}`).default('velocity'),
  })
  .refine((s) => s.note === undefined || s.range === undefined, { path: ['range'], message: 'give a note or a range, not both' })
  .refine((s) => s.range === undefined || s.range[0] <= s.range[1], { path: ['range'], message: 'must be [low, high] with low ≤ high' });

const midiPitchbend = z.strictObject({ kind: z.literal('midi pitchbend'), channel });

const audioFeature = <K extends string>(kind: K) => z.strictObject({ kind: z.literal(kind) });
const audioChroma = z.strictObject({ kind: z.literal('audio chroma'), bin: int(0, CHROMA_BINS - 1) });
const audioOnset = z.strictObject({ kind: z.literal('audio onset') });

export const LFO_SHAPES = ['sine', 'triangle', 'saw', 'square'] as const;
const lfo = z
  .strictObject({
    kind: z.literal('lfo'),
    shape: z.enum(LFO_SHAPES, `must be one of ${LFO_SHAPES.join(', ')}`).default('sine'),
    /** Cycles per second… */
    rate: num(0.0001, 100, ' Hz').optional(),
    /** …or the length of a cycle in beats (follows the tempo). */
    beats: num(1 / 64, 1024).optional(),
    /** Where in the cycle it starts, 0..1 of a cycle. */
    phase: num(0, 1).default(0),
  })
  .refine((s) => (s.rate === undefined) !== (s.beats === undefined), { path: ['rate'], message: 'give either rate (Hz) or beats (cycle length), exactly one' });

export const BEAT_FROM = ['any', 'audio', 'midi'] as const;
const beat = z.strictObject({
  kind: z.literal('beat'),
  /** any: MIDI clock beats while a clock runs, else detected audio beats. */
  from: z.enum(BEAT_FROM, `must be one of ${BEAT_FROM.join(', ')}`).default('any'),
  /** Every Nth beat (4 = once a bar in 4/4). */
  every: int(1, 64).default(1),
});

const sourceSchemas = {
  'midi cc': midiCc,
  'midi note': midiNote,
  'midi pitchbend': midiPitchbend,
  'audio rms': audioFeature('audio rms'),
  'audio loudness': audioFeature('audio loudness'),
  'audio centroid': audioFeature('audio centroid'),
  'audio flux': audioFeature('audio flux'),
  'audio bass': audioFeature('audio bass'),
  'audio mid': audioFeature('audio mid'),
  'audio treble': audioFeature('audio treble'),
  /** The percussive part's energy (kicks, snares, hats), on the frame they hit. */
  'audio percussive': audioFeature('audio percussive'),
  /** The harmonic part's energy (chords, pads, voices): how much is sounding, not how it starts. */
  'audio harmonic': audioFeature('audio harmonic'),
  /** The pitch class that dominates the harmony (C = 0 … B = 1, in twelfths), held through silence. */
  'audio pitch': audioFeature('audio pitch'),
  /** How unlike the last 2 s are to the 4 s before: high when a new section begins. */
  'audio novelty': audioFeature('audio novelty'),
  'audio chroma': audioChroma,
  'audio onset': audioOnset,
  lfo,
  beat,
} as const;
export type SourceKind = keyof typeof sourceSchemas;
export const SOURCE_KINDS = Object.keys(sourceSchemas) as SourceKind[];
// Keep the feature list and the source kinds in step (a feature added to one and not the other fails here).
for (const f of AUDIO_FEATURES) if (!(`audio ${f}` in sourceSchemas)) throw new Error(`mapping schema lacks source 'audio ${f}'`);

export const sourceSchema = z.union(Object.values(sourceSchemas) as [(typeof sourceSchemas)[SourceKind], ...(typeof sourceSchemas)[SourceKind][]]);
export type Source = z.output<typeof sourceSchema>;

/** Sources that are only ever events: their value is an envelope (TRIGGER_ENVELOPE unless one is given). */
export function isTriggerSource(s: Source): boolean {
  return s.kind === 'audio onset' || s.kind === 'beat' || (s.kind === 'midi note' && s.mode === 'trigger');
}

// ─── Transform ────────────────────────────────────────────────────────────────────────────────────────────

export const CURVES = ['linear', 'exp', 'log', 's-curve'] as const;
export const DEAD_ZONE_AT = ['start', 'center'] as const;

const envelope = z.strictObject({
  /** Rise time to the peak (linear), seconds. */
  attack: seconds.default(0),
  /** Exponential decay time constant after the peak: down to 37% after `decay` seconds. */
  decay: num(0.001, MAX_MAPPING_TIME_CONSTANT, ' s'),
});
export type Envelope = z.output<typeof envelope>;
/** The envelope of a trigger source (onset, beat, note trigger) that names none. */
export const TRIGGER_ENVELOPE: Envelope = { attack: 0, decay: 0.15 };

/**
 * Applied in this order: source value → input range (to 0..1, clamped) → dead zone → attack/release
 * smoothing → curve → invert → quantize → output range. Smoothing works on the signal's 0..1 value, so
 * `attack` is always "getting stronger" whatever the curve, the inversion or the output range; quantize comes
 * after it, so a quantized output only ever takes its steps.
 */
export const transformSchema = z
  .strictObject({
    /** The part of the source's 0..1 range that is used: [0.2, 0.8] reaches full scale at 0.8. May be reversed. */
    in: pair(-1, 2).default([0, 1]),
    /** What 0 and 1 become at the target. May be reversed. */
    out: pair(-MAX_AMOUNT * 10, MAX_AMOUNT * 10).default([0, 1]),
    /** exp: slow start, fast end; log: the opposite; s-curve: slow at both ends. */
    curve: z.enum(CURVES, `must be one of ${CURVES.join(', ')}`).default('linear'),
    /** How strong the curve is (exp/log: e^amount spread; s-curve: exponent 1 + amount). */
    curveAmount: num(0.01, 20).default(2),
    invert: z.boolean('must be true or false').default(false),
    /** The fraction of the range ignored: at the start (below it: 0), or around the center (there: 0.5). */
    deadZone: num(0, 0.49).default(0),
    deadZoneAt: z.enum(DEAD_ZONE_AT, `must be one of ${DEAD_ZONE_AT.join(', ')}`).default('start'),
    /** Time constants of a one-pole smoother (63% of a step after one time constant), rising and falling. */
    attack: seconds.default(0),
    release: seconds.default(0),
    /** A triggered envelope: the value jumps (or rises over `attack`) to the trigger's strength, then decays. */
    envelope: envelope.optional(),
    /** Where a continuous source counts as a trigger (rising through it), for envelopes and preset recall/reseed. */
    threshold: num(0.001, 1).default(0.5),
    /** Output steps (2 = on/off); 0 = continuous. */
    quantize: z.union([z.literal(0), int(2, 1024)], 'must be 0 (off) or an integer from 2 to 1024').default(0),
  })
  .refine((t) => t.in[0] !== t.in[1], { path: ['in'], message: 'must span a range (from ≠ to)' });
export type Transform = z.output<typeof transformSchema>;
export type TransformInput = z.input<typeof transformSchema>;
export const TRANSFORM_DEFAULTS: Transform = transformSchema.parse({});

// ─── Targets ──────────────────────────────────────────────────────────────────────────────────────────────

const presetRef = z.strictObject({ bank: z.string().min(1).max(128).optional(), name: z.string().min(1).max(128) });
export type PresetRef = z.output<typeof presetRef>;
const categoryValues = z.array(int(0, 1023), 'must be a list of category values').min(2, 'must list at least 2 values').max(1024).optional();

const targetSchemas = {
  /** Amount along latent direction `index` (the server's direction knobs, then chroma directions). */
  direction: z.strictObject({
    kind: z.literal('direction'),
    index: int(0, 255),
    /**
     * The latent smoothing of this direction, in seconds, in place of the live one (0: none, so a pulse lands on
     * the frame of its hit). Routes to one direction add up; the smallest smoothing any of them gives applies.
     */
    smoothing: seconds.optional(),
  }),
  /** 0..1 picks one of the code's values (or of `values`), in equal slices. */
  'category select': z.strictObject({ kind: z.literal('category select'), code: int(0, 63), values: categoryValues }),
  /** 0..1 crossfades through the code's values (or `values`) in order: [3, 8] is a plain crossfade from 3 to 8. */
  'category crossfade': z.strictObject({ kind: z.literal('category crossfade'), code: int(0, 63), values: categoryValues }),
  continuous: z.strictObject({ kind: z.literal('continuous'), index: int(0, 255) }),
  /** ψ, 0..1 (clamped). */
  truncation: z.strictObject({ kind: z.literal('truncation') }),
  /** Which of 12 walks the drift follows (0..1 in twelfths): a new heading turns the walk from where it is. */
  'drift heading': z.strictObject({ kind: z.literal('drift heading') }),
  /** rad/s, 0..MAX_MAPPED_DRIFT (clamped). */
  'drift speed': z.strictObject({ kind: z.literal('drift speed') }),
  /** 0..1 between two presets (clamped). */
  morph: z.strictObject({ kind: z.literal('morph'), from: presetRef, to: presetRef }),
  /** On each trigger: recall a preset with a crossfade (seconds). */
  'preset recall': z.strictObject({
    kind: z.literal('preset recall'),
    bank: z.string().min(1).max(128).optional(),
    name: z.string().min(1).max(128),
    crossfade: num(0, 600, ' s').default(1),
  }),
  /** On each trigger: new noise (seeded from the mapping's seed and a count, so replays agree). */
  reseed: z.strictObject({ kind: z.literal('reseed'), crossfade: num(0, 600, ' s').default(0) }),
  /**
   * A move of the picture itself, drawn by the output pages and `render` (core/camera.ts): flash, contrast
   * and zoom 0..1, rotate -1..1 (clamped). No latent smoothing: the route's own envelope shapes it.
   */
  camera: z.strictObject({ kind: z.literal('camera'), move: z.enum(CAMERA_MOVES, `must be one of ${CAMERA_MOVES.join(', ')}`) }),
} as const;
export type TargetKind = keyof typeof targetSchemas;
export const TARGET_KINDS = Object.keys(targetSchemas) as TargetKind[];
export const targetSchema = z.union(Object.values(targetSchemas) as [(typeof targetSchemas)[TargetKind], ...(typeof targetSchemas)[TargetKind][]]);
export type Target = z.output<typeof targetSchema>;
export type TargetInput = z.input<typeof targetSchema>;

/** Targets that act once per trigger rather than take a value. */
export function isDiscreteTarget(t: Target): t is Extract<Target, { kind: 'preset recall' | 'reseed' }> {
  return t.kind === 'preset recall' || t.kind === 'reseed';
}

/**
 * What a target drives, coarsely: routes with the same key drive the same thing (both category modes of one
 * code share a key). MIDI learn replaces routes by this key; the engine reports keys driven in two ways.
 */
export function targetKey(t: Target): string {
  switch (t.kind) {
    case 'direction':
    case 'continuous':
      return `${t.kind} ${t.index}`;
    case 'category select':
    case 'category crossfade':
      return `category ${t.code}`;
    case 'preset recall':
      return `preset recall ${t.bank ?? ''}/${t.name}`;
    case 'camera':
      return `camera ${t.move}`;
    default:
      return t.kind;
  }
}

/** "direction 3", "category crossfade of code 0", "preset recall 'dawn'": for messages and learned names. */
export function describeTarget(t: Target): string {
  switch (t.kind) {
    case 'direction':
    case 'continuous':
      return `${t.kind} ${t.index}`;
    case 'category select':
    case 'category crossfade':
      return `${t.kind} of code ${t.code}`;
    case 'morph':
      return `morph '${t.from.name}' → '${t.to.name}'`;
    case 'preset recall':
      return `preset recall '${t.name}'`;
    case 'camera':
      return `camera ${t.move}`;
    default:
      return t.kind;
  }
}

// ─── Routes and the mapping ───────────────────────────────────────────────────────────────────────────────

export const routeSchema = z.strictObject({
  name: z.string().min(1).max(128).optional(),
  /** A disabled route is kept in the file and does nothing. */
  enabled: z.boolean('must be true or false').default(true),
  source: sourceSchema,
  transform: transformSchema.default(TRANSFORM_DEFAULTS),
  target: targetSchema,
});
export type Route = z.output<typeof routeSchema>;
export type RouteInput = z.input<typeof routeSchema>;

const mappingHeader = z.strictObject({
  version: z.literal(MAPPING_VERSION, `must be ${MAPPING_VERSION}`),
  name: z.string('must be a string').min(1, 'must not be empty').max(128),
  /** The tempo (BPM) used for beat-synced LFOs until a MIDI clock or the audio gives one. */
  tempo: num(20, 400, ' BPM').default(120),
  /** Seeds reseed actions (so a replay reseeds the same way). */
  seed: int(0, 2 ** 32 - 1).default(0),
  routes: z.array(z.unknown(), 'must be a list of routes').max(MAX_ROUTES, `must hold at most ${MAX_ROUTES} routes`),
});

export const mappingSchema = mappingHeader.extend({ routes: z.array(routeSchema).max(MAX_ROUTES) });
export type Mapping = z.output<typeof mappingSchema>;
export type MappingInputJson = z.input<typeof mappingSchema>;

// ─── Parsing with messages that name the route and the field ──────────────────────────────────────────────

const HINT = 'fix the named field; the format is in core/mapping/schema.ts';

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function describeIssues(error: z.ZodError, input: unknown, prefix: readonly PropertyKey[] = []): string[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    const where = path.length > 0 ? path.map(String).join('.') : '(top level)';
    const got = valueAt(input, issue.path);
    const shown = got === undefined || typeof got === 'object' ? '' : ` (got ${JSON.stringify(got)})`;
    return `${where}: ${issue.message}${shown}`;
  });
}

/** Edit distance, for "did you mean": kinds are short, so the plain quadratic table is fine. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length] as number;
}

function kindProblem(field: string, kind: unknown, valid: readonly string[]): string | undefined {
  if (typeof kind === 'string' && valid.includes(kind)) return undefined;
  const list = valid.map((k) => `'${k}'`).join(', ');
  if (typeof kind !== 'string') return `${field}.kind is missing or not a string; it must be one of ${list}`;
  const best = [...valid].sort((a, b) => distance(kind, a) - distance(kind, b))[0] as string;
  const guess = distance(kind, best) <= Math.max(2, Math.floor(best.length / 3)) ? ` (did you mean '${best}'?)` : '';
  return `${field}.kind '${kind}' is not one of ${list}${guess}`;
}

/** "route 3 'bass kick'" (routes count from 0, as in the file's array). */
export function routeLabel(index: number, name: unknown): string {
  return typeof name === 'string' && name.length > 0 ? `route ${index} '${name}'` : `route ${index}`;
}

/** The problems of one route, each a full phrase naming the route and the field; empty when it is valid. */
function routeProblems(raw: unknown, index: number): { route?: Route; problems: string[] } {
  const label = routeLabel(index, valueAt(raw, ['name']));
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { problems: [`${label}: must be an object { source, transform, target }`] };
  const r = raw as Record<string, unknown>;
  const kinds = [
    r['source'] === undefined ? 'source is missing' : kindProblem('source', valueAt(r, ['source', 'kind']), SOURCE_KINDS),
    r['target'] === undefined ? 'target is missing' : kindProblem('target', valueAt(r, ['target', 'kind']), TARGET_KINDS),
  ].filter((p): p is string => p !== undefined);
  if (kinds.length > 0) return { problems: kinds.map((p) => `${label}: ${p}`) };
  const parsed = routeSchema.safeParse(raw);
  if (!parsed.success) return { problems: describeIssues(parsed.error, raw).map((p) => `${label}: ${p}`) };
  return { route: parsed.data, problems: [] };
}

/** Validates one route (for MIDI learn and UIs that build routes); MAPPING_INVALID naming the field otherwise. */
export function parseRoute(raw: unknown, index = 0): Route {
  const { route, problems } = routeProblems(raw, index);
  if (route === undefined) throw new RhodopsError('MAPPING_INVALID', `${problems.join('; ')}.`, { hint: HINT });
  return route;
}

/**
 * Validates parsed JSON as a mapping, with every default filled in. `source` names where it came from
 * ("mappings/club.json"). All problems are reported at once (the first 20), each naming its route and field.
 */
export function parseMapping(json: unknown, source = 'the mapping'): Mapping {
  const version = valueAt(json, ['version']);
  if (typeof version === 'number' && version > MAPPING_VERSION) {
    throw new RhodopsError('MAPPING_INVALID', `${source} is a version ${version} mapping; this rhodops reads version ${MAPPING_VERSION}.`, {
      hint: 'update rhodops to use it',
    });
  }
  const header = mappingHeader.safeParse(json);
  const problems: string[] = header.success ? [] : describeIssues(header.error, json);
  const routes: Route[] = [];
  const rawRoutes = valueAt(json, ['routes']);
  if (Array.isArray(rawRoutes)) {
    rawRoutes.slice(0, MAX_ROUTES).forEach((raw, i) => {
      const r = routeProblems(raw, i);
      if (r.route) routes.push(r.route);
      problems.push(...r.problems);
    });
  }
  if (problems.length > 0 || !header.success) {
    const shown = problems.slice(0, 20);
    const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : '';
    throw new RhodopsError('MAPPING_INVALID', `${source}: ${shown.join('; ')}${more}.`, { hint: HINT });
  }
  return { ...header.data, routes };
}

/** Parses a mapping file's text; text that is not JSON names the file. */
export function parseMappingText(text: string, source: string): Mapping {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RhodopsError('MAPPING_INVALID', `${source} is not valid JSON: ${messageOf(e)}.`, { hint: 'the file was truncated or edited by hand; fix it or remove it' });
  }
  return parseMapping(json, source);
}

/**
 * `value` without the fields that `schema` would fill in with the same values when they are absent
 * (defaults), so saved files hold only what the user chose.
 */
function withoutDefaults<T extends object>(value: T, schema: z.ZodType): Partial<T> {
  const full = JSON.stringify(value);
  let out = Object.entries(value);
  for (const [key] of Object.entries(value)) {
    if (key === 'kind') continue;
    const rest = out.filter(([k]) => k !== key);
    const parsed = schema.safeParse(Object.fromEntries(rest));
    if (parsed.success && JSON.stringify(parsed.data) === full) out = rest;
  }
  return Object.fromEntries(out) as Partial<T>;
}

/**
 * The mapping as compact JSON for saving: fields at their defaults (transform, source and target fields,
 * `enabled: true`) left out. parseMapping(mappingToJson(m)) deep-equals m.
 */
export function mappingToJson(m: Mapping): MappingInputJson {
  return {
    ...m,
    routes: m.routes.map((r) => {
      const transform = withoutDefaults(r.transform, transformSchema);
      return {
        ...(r.name !== undefined ? { name: r.name } : {}),
        ...(r.enabled ? {} : { enabled: false }),
        source: withoutDefaults(r.source, sourceSchema) as RouteInput['source'],
        ...(Object.keys(transform).length > 0 ? { transform } : {}),
        target: withoutDefaults(r.target, targetSchema) as RouteInput['target'],
      };
    }),
  };
}
