/**
 * The output pages' default drawing, apart from its zod schema (display-settings.ts) so the pages' bundle can
 * import it without zod.
 */
import type { DisplaySettings } from './display.ts';

export const DEFAULT_DISPLAY: DisplaySettings = {
  blend: true,
  upscale: 'bicubic',
  sharpen: 0,
  trails: 0,
  brightness: 0,
  contrast: 1,
  saturation: 1,
  hue: 0,
  gamma: 1,
  fit: 'fit',
};
