/**
 * The messages between pages and server. The types come from the server's own modules (type-only imports,
 * erased by the bundler), so a change of the protocol is a type error here, not a surprise on stage.
 */
export type { ControlMessageInput as ControlMessage, ServerMessage, LatentJson } from '../../../server/protocol.ts';
export type { DisplaySettings, DisplayChange } from '../../../server/display-settings.ts';
export type { ServerStatus } from '../../../server/server.ts';
export type { GeneratorInfo as ModelInfo } from '../../../core/runtime/types.ts';
export type { LiveControls } from '../../../server/live-state.ts';
export type { MeterFeatures, InputsStatus } from '../../../server/inputs.ts';
export type { MappingInputJson as MappingJson } from '../../../core/mapping/index.ts';
export type { PresetList, PresetSummary } from '../../../presets/store.ts';
export type { TakeStats, TakeSummary, TakeFile } from '../../../server/recorder/index.ts';
export type { ModelEntry } from '../../../server/models.ts';
export type { AudioDeviceList } from '../../../core/audio/index.ts';
