/** Where the project keeps what it ships and what the user saves, for every command that needs the defaults. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The bundled models (the model switcher lists them). */
export const BUNDLED_MODELS_DIR = path.join(ROOT, 'presets', 'models');
/** What `npm start` plays. */
export const DEFAULT_MODEL = path.join(BUNDLED_MODELS_DIR, 'infogan-mnist');
/** The user's presets, and the mappings they refer to. */
export const DEFAULT_PRESET_DIR = path.join(ROOT, 'presets', 'user');
export const DEFAULT_MAPPING_DIR = path.join(ROOT, 'presets', 'user-mappings');
