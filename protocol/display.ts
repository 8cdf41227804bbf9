/**
 * How output pages draw the frames: pixel-space blending between received frames, the upscaling filter, post
 * effects (sharpening, feedback trails, colour) and how the picture fits the screen. Held by the server so the
 * performer sets them from the control page and every projector follows; validated here, applied in shaders.
 */
import { z } from 'zod';

export const displaySettingsSchema = z.object({
  /** Blend between the last frames received, by their capture times, at the display's rate. */
  blend: z.boolean(),
  /** How frames smaller than the screen are enlarged. */
  upscale: z.enum(['nearest', 'bilinear', 'bicubic']),
  /** Unsharp-mask amount (0 = off). */
  sharpen: z.number().min(0).max(3),
  /** Fraction of the previous output kept each display frame (0 = off): feedback trails. */
  trails: z.number().min(0).max(0.98),
  brightness: z.number().min(-1).max(1),
  contrast: z.number().min(0).max(3),
  saturation: z.number().min(0).max(3),
  /** Hue rotation in degrees. */
  hue: z.number().min(-180).max(180),
  gamma: z.number().min(0.2).max(5),
  /** `fit`: all of the frame, bars where the aspect differs; `fill`: the screen, cropping; `stretch`: both. */
  fit: z.enum(['fit', 'fill', 'stretch']),
});
export type DisplaySettings = z.infer<typeof displaySettingsSchema>;

export { DEFAULT_DISPLAY } from './display-defaults.ts';

/** A change from a control page: any subset of the settings. */
export const displayChangeSchema = displaySettingsSchema.partial().strict();
export type DisplayChange = z.infer<typeof displayChangeSchema>;
