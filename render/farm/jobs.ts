/**
 * What travels through the farm's queue, checked with zod at both ends: a job is everything a worker needs to
 * render one segment (the model by content hash, the segment's latents and camera moves, the render options);
 * a result says where the segment's bytes are and their hash. Both come from the network, so every field is
 * bounded, names are patterns that cannot climb out of a folder, and numbers are integers in ranges.
 */
import { z } from 'zod';
import { RhodopsError } from '../../core/errors.ts';
import { describeZodError } from '../../core/checkpoint/manifest.ts';
import { displayChangeSchema } from '../../protocol/display.ts';
import { FPS_RANGE } from '../../core/video.ts';
import { PRECISIONS } from '../../core/runtime/ort.ts';

/** The BullMQ queue every coordinator publishes to and every worker takes from, and the Redis key prefix. */
export const QUEUE_NAME = 'render';
export const KEY_PREFIX = 'rhodops';

/** Caps. A job's JSON (latents are most of it); a segment's bytes through Redis; a model file through Redis. */
export const MAX_JOB_BYTES = 16 * 2 ** 20;
export const MAX_SEGMENT_BYTES = 256 * 2 ** 20;
export const MAX_MODEL_FILE_BYTES = 512 * 2 ** 20;
const MAX_MODEL_FILES = 16;
const MAX_SEGMENT_FRAMES = 120 * 3600;

/** Lowercase hex SHA-256: the only way a job names a model file, a segment or a render. */
export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256');

/**
 * A model file's name inside the model's folder: at most one sub-folder (`tfjs/weights.bin`), each part starting
 * with a letter, digit or underscore (so never `..` or a hidden file), no other separators.
 */
export const modelFileName = z.string().max(128).regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/, 'a plain file name (one sub-folder at most)');

export const modelFileSchema = z.object({ name: modelFileName, sha256: sha256Hex, bytes: z.number().int().min(0).max(MAX_MODEL_FILE_BYTES) }).strict();

/** A model by content: a checkpoint folder (its manifest.json and the files it lists) or one .onnx file. */
export const modelRefSchema = z
  .object({
    id: sha256Hex,
    kind: z.enum(['checkpoint', 'onnx']),
    files: z.array(modelFileSchema).min(1).max(MAX_MODEL_FILES),
  })
  .strict()
  .refine((m) => new Set(m.files.map((f) => f.name)).size === m.files.length, 'file names repeat')
  .refine((m) => (m.kind === 'checkpoint' ? m.files.some((f) => f.name === 'manifest.json') : m.files.length === 1 && m.files[0]!.name.endsWith('.onnx') && !m.files[0]!.name.includes('/')), 'a checkpoint needs manifest.json; an onnx model is one .onnx file');
export type ModelRef = z.infer<typeof modelRefSchema>;

/** Text a worker reports that ends up in the coordinator's log: printable ASCII only (no terminal escapes). */
const printable = (max: number) => z.string().max(max).regex(/^[\x20-\x7e]*$/, 'printable ASCII');

/** Any text from the network made fit for a log line: control and non-ASCII characters as '?', and clipped. */
export function asPrintable(text: string, max: number): string {
  const t = text.replace(/[^\x20-\x7e]/g, '?');
  return t.length <= max ? t : `${t.slice(0, max - 1)}…`;
}

const base64 = (maxBytes: number) => z.string().max(Math.ceil(maxBytes / 3) * 4).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');

export const segmentJobSchema = z
  .object({
    v: z.literal(1),
    /** The render's plan hash (render.ts): what decides its frames. */
    plan: sha256Hex,
    segment: z.number().int().min(0).max(1_000_000),
    frames: z.number().int().min(1).max(MAX_SEGMENT_FRAMES),
    model: modelRefSchema,
    precision: z.enum(PRECISIONS),
    latentSize: z.number().int().min(1).max(65536),
    /** frames × latentSize float32, little-endian. */
    latents: base64(MAX_JOB_BYTES),
    /** 4 bytes a frame: the camera moves as a frame header carries them (core/camera.ts). */
    cameras: base64(4 * MAX_SEGMENT_FRAMES),
    width: z.number().int().min(16).max(4096),
    height: z.number().int().min(1).max(4096),
    fps: z.number().int().min(FPS_RANGE.min).max(FPS_RANGE.max),
    batch: z.number().int().min(1).max(64),
    upscale: z.union([z.literal(2), z.literal(4), z.null()]),
    look: displayChangeSchema.nullable(),
    /** Where the coordinator takes the segment from: its shared folder, or Redis (the side channel). */
    returnVia: z.enum(['dir', 'redis']),
  })
  .strict();
export type SegmentJob = z.infer<typeof segmentJobSchema>;

export const segmentResultSchema = z
  .object({
    v: z.literal(1),
    plan: sha256Hex,
    segment: z.number().int().min(0).max(1_000_000),
    frames: z.number().int().min(1).max(MAX_SEGMENT_FRAMES),
    bytes: z.number().int().min(1).max(MAX_SEGMENT_BYTES),
    sha256: sha256Hex,
    via: z.enum(['dir', 'redis']),
    worker: printable(120),
    engine: printable(200),
  })
  .strict();
export type SegmentResult = z.infer<typeof segmentResultSchema>;

/** Checks a job from the queue: the schema, then the sizes the fields imply. */
export function parseSegmentJob(data: unknown): SegmentJob {
  const r = segmentJobSchema.safeParse(data);
  if (!r.success) throw new RhodopsError('FARM_JOB_INVALID', `a farm job was refused: ${describeZodError(r.error)}`, { hint: 'the coordinator and this worker may run different rhodops versions; update both' });
  const job = r.data;
  const latentBytes = Buffer.byteLength(job.latents, 'base64');
  if (latentBytes !== job.frames * job.latentSize * 4) {
    throw new RhodopsError('FARM_JOB_INVALID', `a farm job was refused: its latents hold ${latentBytes} bytes, not ${job.frames} frames × ${job.latentSize} floats`, { hint: 'the job was damaged or forged; the coordinator publishes it again if rerun' });
  }
  if (Buffer.byteLength(job.cameras, 'base64') !== job.frames * 4) {
    throw new RhodopsError('FARM_JOB_INVALID', `a farm job was refused: its camera moves are not 4 bytes for each of its ${job.frames} frames`, { hint: 'the job was damaged or forged; the coordinator publishes it again if rerun' });
  }
  return job;
}

/** The latents of a job as floats; a value that is not finite refuses the job. */
export function jobLatents(job: SegmentJob): Float32Array {
  const bytes = Buffer.from(job.latents, 'base64');
  const out = new Float32Array(job.frames * job.latentSize);
  new Uint8Array(out.buffer).set(bytes);
  if (!out.every(Number.isFinite)) throw new RhodopsError('FARM_JOB_INVALID', `a farm job was refused: segment ${job.segment}'s latents hold a value that is not a finite number`, { hint: 'the job was damaged or forged' });
  return out;
}

export function encodeLatents(latents: Float32Array): string {
  return Buffer.from(latents.buffer, latents.byteOffset, latents.byteLength).toString('base64');
}

/** A job's id in the queue: the render's plan and the segment, so publishing it again is a no-op. */
export const jobId = (plan: string, segment: number) => `${plan}-${segment}`;
