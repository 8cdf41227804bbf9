/** Applies validated control messages to the instrument; the one place that knows what each message does. */
import { RhodopsError } from '../core/errors.ts';
import type { PresetStore } from '../presets/store.ts';
import { checkCompatible } from '../presets/layout.ts';
import { DEFAULT_BANK } from '../presets/schema.ts';
import type { Instrument } from '../instrument/instrument.ts';
import type { AudioSourceRequest, ControlMessage, ServerMessage } from '../protocol/messages.ts';
import type { Engine } from './engine.ts';
import { loadPresetMapping, saveMappingForPreset } from '../instrument/mapping-files.ts';
import type { DisplayChange } from '../protocol/display.ts';

export interface ControlContext {
  instrument: Instrument;
  presets: PresetStore;
  engine: Engine;
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
  const { instrument } = ctx;
  instrument.apply({ op: 'setState', args: [preset.state, crossfade] });
  // A recall without a crossfade is a cut: the next frame shows the preset.
  if (crossfade === 0) instrument.cut();
  if (preset.smoothing?.timeConstant !== undefined) instrument.apply({ op: 'setSmoothing', args: [preset.smoothing.timeConstant] });
  if (mapping) instrument.setMapping(mapping);
  return compat.warnings;
}

export async function savePreset(ctx: ControlContext, bank: string, name: string): Promise<void> {
  const snap = ctx.instrument.snapshot();
  const info = ctx.engine.model.info;
  await ctx.presets.save({
    name,
    bank,
    model: { id: info.name, kind: info.kind, latent: info.latent },
    state: snap.state,
    smoothing: { timeConstant: snap.controls.smoothing },
    mapping: await saveMappingForPreset(ctx.mappingDir, ctx.instrument.mapping),
  });
}

/** Applies one message; async ones (presets) resolve when done. Throws RhodopsError on a bad request. */
export async function applyControl(ctx: ControlContext, msg: ControlMessage, reply: (m: ServerMessage) => void): Promise<void> {
  const { instrument } = ctx;
  switch (msg.type) {
    case 'set':
      return instrument.apply({ op: 'setState', args: [msg.state, 0] });
    case 'transition':
      return instrument.apply({ op: 'setState', args: [msg.state, msg.seconds] });
    case 'randomize':
      return instrument.apply({ op: 'randomize', args: [msg.seed ?? Math.floor(Math.random() * 2 ** 31)] });
    case 'category':
      return instrument.apply({ op: 'setCategory', args: [msg.code, msg.value] });
    case 'crossfade':
      return instrument.apply({ op: 'crossfade', args: [msg.code, msg.from, msg.to, msg.t] });
    case 'continuous':
      return instrument.apply({ op: 'setContinuous', args: [msg.index, msg.value] });
    case 'direction':
      return instrument.apply({ op: 'setDirection', args: [msg.index, msg.value] });
    case 'drift':
      return instrument.apply({ op: 'setDrift', args: [msg.speed] });
    case 'truncation':
      return instrument.apply({ op: 'setTruncation', args: [msg.psi] });
    case 'smoothing':
      return instrument.apply({ op: 'setSmoothing', args: [msg.timeConstant] });
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
      return instrument.armLearn(msg.target);
    case 'learnCancel':
      return instrument.cancelLearn();
    case 'mapping':
      instrument.setMapping(msg.mapping);
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
