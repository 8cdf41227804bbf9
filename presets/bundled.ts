/** Where the project keeps what it ships and what the user saves, for every command that needs the defaults. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The bundled models (the model switcher lists them). */
export const BUNDLED_MODELS_DIR = path.join(ROOT, 'presets', 'models');
/** The InfoGAN on MNIST digits: the interpretable-codes demo (a category per digit, slant and width). */
export const DEMO_INFOGAN = path.join(BUNDLED_MODELS_DIR, 'infogan-mnist');
/** The PGGAN trained on style-transfer pastiches of Debian's wallpapers (its card: README.md beside it). */
export const BUNDLED_PGGAN = path.join(BUNDLED_MODELS_DIR, 'pggan-wallpapers');
/** What `npm start` plays. */
export const DEFAULT_MODEL = BUNDLED_PGGAN;
/** The user's presets, and the mappings they refer to. */
export const DEFAULT_PRESET_DIR = path.join(ROOT, 'presets', 'user');
export const DEFAULT_MAPPING_DIR = path.join(ROOT, 'presets', 'user-mappings');
