/** Applies validated control messages to the live state; the one place that knows what each message does. */
import { RhodopsError } from '../core/errors.ts';
import type { PresetStore } from '../presets/store.ts';
import { checkCompatible } from '../presets/layout.ts';
import { DEFAULT_BANK } from '../presets/schema.ts';
import type { LiveState } from './live-state.ts';
import type { ControlMessage, ServerMessage } from './protocol.ts';
import type { Engine } from './engine.ts';

export interface ControlContext {
  live: LiveState;
  presets: PresetStore;
  engine: Engine;
}

/** Recalls a preset (with a crossfade); returns warnings for a preset made with another model of the same layout. */
export async function recallPreset(ctx: ControlContext, bank: string, name: string, crossfade: number): Promise<string[]> {
  const preset = await ctx.presets.load(bank, name);
  const compat = checkCompatible(preset, ctx.engine.model.info.latent, ctx.engine.model.info.name);
  ctx.live.setState(preset.state, crossfade);
  if (preset.smoothing?.timeConstant !== undefined) ctx.live.setSmoothing(preset.smoothing.timeConstant);
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
      return savePreset(ctx, msg.bank ?? DEFAULT_BANK, msg.name);
    case 'ping':
      reply({ type: 'pong', ...(msg.id ? { id: msg.id } : {}), t: msg.t, serverTime: Date.now() });
      return;
    default: {
      const never: never = msg;
      throw new RhodopsError('BAD_OPTION', `unhandled message ${JSON.stringify(never)}`);
    }
  }
}
