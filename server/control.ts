/** Applies validated control messages to the live state; the one place that knows what each message does. */
import { RhodopsError } from '../core/errors.ts';
import type { PresetStore } from '../presets/store.ts';
import { checkCompatible } from '../presets/layout.ts';
import { DEFAULT_BANK } from '../presets/schema.ts';
import type { LiveState } from './live-state.ts';
import type { AudioSourceRequest, ControlMessage, ServerMessage } from './protocol.ts';
import type { Engine } from './engine.ts';
import type { LiveInputs } from './inputs.ts';
import { loadPresetMapping, saveMappingForPreset } from './mapping-store.ts';
import type { DisplayChange } from './display-settings.ts';

export interface ControlContext {
  live: LiveState;
  presets: PresetStore;
  engine: Engine;
  inputs: LiveInputs;
  /** Where the mappings presets refer to are kept. */
  mappingDir: string;
  /** Changes the audio source a page asked for (checked, one change at a time). */
  setAudio(source: AudioSourceRequest): Promise<void>;
  /** Output pages' drawing settings: merges a change and tells every page. */
  setDisplay(change: DisplayChange): void;
  /** Tells every page the presets changed. */
  presetsChanged(): void;
}

/** Recalls a preset (with a crossfade); returns warnings for a preset made with another model of the same layout. */
export async function recallPreset(ctx: ControlContext, bank: string, name: string, crossfade: number): Promise<string[]> {
  const preset = await ctx.presets.load(bank, name);
  const compat = checkCompatible(preset, ctx.engine.model.info.latent, ctx.engine.model.info.name);
  // Load the mapping first: a preset whose mapping file is broken changes nothing.
  const mapping = preset.mapping ? await loadPresetMapping(ctx.mappingDir, preset.mapping) : null;
  ctx.live.setState(preset.state, crossfade);
  if (preset.smoothing?.timeConstant !== undefined) ctx.live.setSmoothing(preset.smoothing.timeConstant);
  if (mapping) ctx.inputs.setMapping(mapping);
  ctx.inputs.stateReplaced();
  return compat.warnings;
}

export async function savePreset(ctx: ControlContext, bank: string, name: string): Promise<void> {
  const snap = ctx.live.snapshot();
  const info = ctx.engine.model.info;
  await ctx.presets.save({
    name,
    bank,
    model: { id: info.name, kind: info.kind, latent: info.latent },
    state: snap.state,
    smoothing: { timeConstant: snap.controls.smoothing },
    mapping: await saveMappingForPreset(ctx.mappingDir, ctx.inputs.mapping),
  });
}

/** Applies one message; async ones (presets) resolve when done. Throws RhodopsError on a bad request. */
export async function applyControl(ctx: ControlContext, msg: ControlMessage, reply: (m: ServerMessage) => void): Promise<void> {
  const { live } = ctx;
  switch (msg.type) {
    case 'set':
      return live.setState(msg.state);
    case 'transition':
      return live.setState(msg.state, msg.seconds);
    case 'randomize':
      return live.randomize(msg.seed ?? Math.floor(Math.random() * 2 ** 31));
    case 'category':
      return live.setCategory(msg.code, msg.value);
    case 'crossfade':
      return live.crossfade(msg.code, msg.from, msg.to, msg.t);
    case 'continuous':
      return live.setContinuous(msg.index, msg.value);
    case 'direction':
      return live.setDirection(msg.index, msg.value);
    case 'drift':
      return live.setDrift(msg.speed);
    case 'truncation':
      return live.setTruncation(msg.psi);
    case 'smoothing':
      return live.setSmoothing(msg.timeConstant);
    case 'presetRecall': {
      const warnings = await recallPreset(ctx, msg.bank ?? DEFAULT_BANK, msg.name, msg.crossfade ?? 1);
      if (warnings.length) reply({ type: 'error', code: 'PRESET_OTHER_MODEL', message: warnings.join(' '), ...(msg.id ? { id: msg.id } : {}) });
      return;
    }
    case 'presetSave':
      await savePreset(ctx, msg.bank ?? DEFAULT_BANK, msg.name);
      return ctx.presetsChanged();
    case 'display':
      return ctx.setDisplay(msg.settings);
    case 'midi':
      throw new RhodopsError('BAD_OPTION', 'midi messages are handled by the server, not here');
    case 'learn':
      return ctx.inputs.armLearn(msg.target);
    case 'learnCancel':
      return ctx.inputs.cancelLearn();
    case 'mapping':
      ctx.inputs.setMapping(msg.mapping);
      return;
    case 'audioSource':
      return ctx.setAudio(msg.source);
    case 'ping':
      reply({ type: 'pong', ...(msg.id ? { id: msg.id } : {}), t: msg.t, serverTime: Date.now() });
      return;
    default: {
      const never: never = msg;
      throw new RhodopsError('BAD_OPTION', `unhandled message ${JSON.stringify(never)}`);
    }
  }
}
