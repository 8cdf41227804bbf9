/**
 * The control protocol: JSON messages with a `type`, validated at the boundary. A message may carry an
 * `id`; the server answers {type: 'applied', id, seq} when the first frame that reflects it is sent,
 * so control pages (and the latency bench) know which frame showed their change.
 */
import { z } from 'zod';
import { latentStateJsonSchema } from '../core/latent/state.ts';
import { numberList } from '../core/number-list.ts';
import { targetSchema } from '../core/mapping/index.ts';
import type { MappingInputJson } from '../core/mapping/index.ts';
import type { GeneratorInfo } from '../core/runtime/types.ts';
import { displayChangeSchema, type DisplaySettings } from './display.ts';
import type { LiveControls } from '../instrument/live-state.ts';
import type { InputsStatus, MeterFeatures, ServerStatus } from './status.ts';

const latentJson = latentStateJsonSchema;

const finite = z.number().finite();
const id = z.string().max(64).optional();
const index = z.number().int().min(0).max(4095);

/** Audio files are named relative to the server's audio folders (never an arbitrary path from the network). */
export const audioSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }),
  z.object({ kind: z.literal('file'), file: z.string().min(1).max(1000), loop: z.boolean().default(true) }),
  z.object({ kind: z.literal('capture'), device: z.string().max(500).default('') }),
  z.object({ kind: z.literal('browser') }),
]);
export type AudioSourceRequest = z.infer<typeof audioSourceSchema>;

export const controlMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('set'), id, state: latentJson }),
  z.object({ type: z.literal('randomize'), id, seed: z.number().int().min(0).max(2 ** 32 - 1).optional() }),
  z.object({ type: z.literal('category'), id, code: index, value: index }),
  z.object({ type: z.literal('crossfade'), id, code: index, from: index, to: index, t: z.number().min(0).max(1) }),
  z.object({ type: z.literal('continuous'), id, index, value: finite.min(-10).max(10) }),
  z.object({ type: z.literal('direction'), id, index, value: finite.min(-10).max(10) }),
  z.object({ type: z.literal('drift'), id, speed: finite.min(0).max(10) }),
  z.object({ type: z.literal('truncation'), id, psi: z.number().min(0).max(1) }),
  z.object({ type: z.literal('smoothing'), id, timeConstant: finite.min(0).max(30) }),
  z.object({ type: z.literal('transition'), id, state: latentJson, seconds: finite.min(0).max(600) }),
  z.object({ type: z.literal('presetRecall'), id, bank: z.string().max(128).optional(), name: z.string().min(1).max(128), crossfade: finite.min(0).max(600).optional() }),
  z.object({ type: z.literal('presetSave'), id, bank: z.string().max(128).optional(), name: z.string().min(1).max(128) }),
  z.object({ type: z.literal('ping'), id, t: finite }),
  /** Raw MIDI bytes from the browser's Web MIDI devices (parsed like a hardware port's). */
  z.object({ type: z.literal('midi'), id, bytes: numberList({ min: 1, max: 4096, lo: 0, hi: 255, integer: true }) }),
  /** MIDI learn: the next control moved is routed to `target`. */
  z.object({ type: z.literal('learn'), id, target: targetSchema }),
  z.object({ type: z.literal('learnCancel'), id }),
  /** Replace the mapping (checked whole; a bad route is named and nothing changes). */
  z.object({ type: z.literal('mapping'), id, mapping: z.unknown() }),
  z.object({ type: z.literal('audioSource'), id, source: audioSourceSchema }),
  /** Output pages' drawing (blend, upscaling, post effects, fit): merged into the server's and sent to every page. */
  z.object({ type: z.literal('display'), id, settings: displayChangeSchema }),
]);
export type ControlMessage = z.infer<typeof controlMessageSchema>;
/** What a page may send (fields with defaults may be left out). */
export type ControlMessageInput = z.input<typeof controlMessageSchema>;
export type LatentJson = z.infer<typeof latentJson>;

export type ServerMessage =
  | { type: 'welcome'; server: string; model: GeneratorInfo; fps: number | 'max'; state: LatentJson; controls: LiveControls; display: DisplaySettings; mapping: MappingInputJson }
  | { type: 'state'; model: string; state: LatentJson; controls: LiveControls }
  /** Another model took over (its info: latent layout, size, engine); a state message follows. */
  | { type: 'model'; model: GeneratorInfo }
  | { type: 'display'; settings: DisplaySettings }
  /** The mapping changed (a page, the REST API, learn or a preset recall). */
  | { type: 'mapping'; mapping: MappingInputJson }
  /** Presets were saved, renamed or deleted: pages listing them fetch again. */
  | { type: 'presets' }
  /** Audio meters, about 15 a second while an audio source plays. */
  | { type: 'meters'; features: MeterFeatures; audio: InputsStatus['audio'] }
  | { type: 'applied'; id: string; seq: number; latencyMs: number }
  | { type: 'error'; code: string; message: string; hint?: string; id?: string }
  | { type: 'pong'; id?: string; t: number; serverTime: number }
  | { type: 'status'; status: ServerStatus }
  | { type: 'learned'; route: number; mapping: MappingInputJson };
