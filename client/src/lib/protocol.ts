/**
 * The messages between pages and server, from the project's protocol module (type-only imports, erased by the
 * bundler), so a change of the protocol is a type error here, not a surprise on stage.
 */
export type { ControlMessageInput as ControlMessage, ServerMessage, LatentJson } from '../../../protocol/messages.ts';
export type { DisplaySettings, DisplayChange } from '../../../protocol/display.ts';
export type { GeneratorInfo as ModelInfo } from '../../../core/runtime/types.ts';
export type { LiveControls } from '../../../instrument/live-state.ts';
export type { MappingInputJson as MappingJson } from '../../../core/mapping/index.ts';
export type { PresetList, PresetSummary } from '../../../presets/store.ts';
export type { ServerStatus, InputsStatus, MeterFeatures, TakeStats, TakeSummary, TakeFile, ModelEntry } from '../../../protocol/status.ts';
export type { AudioDeviceList } from '../../../core/audio/index.ts';
