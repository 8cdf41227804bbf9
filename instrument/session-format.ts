/**
 * Session logs: what happened during a performance, timestamped, as JSON lines, so it can be re-rendered
 * offline. Line 1 is the header (the model, the mapping, and the live state exactly as it was when the log
 * began); then one line per event:
 *   {t, op, args}   a change of the live state (LiveState's method and arguments; `t` the clock it read); `m: 1`
 *                   when the mapping made it (an exact replay applies it; a replay with another mapping skips it)
 *   {t, dt, h}      a frame: the loop asked for the latent at t with step dt; h = FNV-1a of its float32 bytes
 *   {t, in}         a mapping input (a MIDI message or an audio-feature frame), the time the engine plays it inside
 *   {t, mapping}    the mapping was replaced
 *   {t, presets}    the preset states the mapping's recalls and morphs use were replaced (version 2)
 *   {end}           written at a clean stop: counts, and events dropped when the disk could not keep up
 * Times are seconds on the server's monotonic clock. Replaying the ops and frames in order, on a LiveState
 * restored from the header, makes the same latents bit for bit.
 */
import { z } from 'zod';
import { latentSpecSchema as latentSpec } from '../core/checkpoint/manifest.ts';
import { latentStateJsonSchema } from '../core/latent/state.ts';
import { liveInternalsSchema } from './live-state.ts';

export const SESSION_FORMAT = 'rhodops-session';
/** 2: mapped operations are marked, and the preset states the mapping uses are in the header and the log. */
export const SESSION_VERSION = 2;

export const sessionHeaderSchema = z.object({
  format: z.literal(SESSION_FORMAT),
  version: z.number().int().min(1).max(SESSION_VERSION),
  startedAt: z.string(),
  /** The clock reading when the log began. */
  t0: z.number(),
  fps: z.union([z.number(), z.literal('max')]),
  model: z.object({ name: z.string(), kind: z.string(), path: z.string(), width: z.number(), height: z.number(), latent: latentSpec }),
  /** The song playing along when the log began, and where in it (a replay with --audio lines up by it). */
  audio: z.object({ file: z.string(), positionS: z.number(), loop: z.boolean() }).nullable().default(null),
  mapping: z.unknown(),
  presets: z.record(z.string(), latentStateJsonSchema).default({}),
  live: liveInternalsSchema,
});
export type SessionHeader = z.infer<typeof sessionHeaderSchema>;

export const sessionEndSchema = z.object({ frames: z.number().int(), events: z.number().int(), dropped: z.number().int(), stoppedAt: z.string() });
export type SessionEnd = z.infer<typeof sessionEndSchema>;

/** FNV-1a over a latent's float32 bytes: enough to tell a replay that drifted by one ulp. */
export function latentHash(v: Float32Array): string {
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
