/**
 * The built-in mappings: reactions an artist would choose, as mapping data, each with a strength. Amounts are
 * in calibrated units (instrument/calibration.ts): on any model, one unit along a direction changes the picture
 * by about 10/255 on average, and a drift speed of 1 moves it by about 40/255 a second.
 * - pulse: each percussive hit pushes the picture out along direction 0 and it snaps back (an onset envelope),
 *   and the percussive energy leans on direction 1; neither is smoothed by the latent springs, so the push
 *   lands on the frame of the hit;
 * - motion: the harmonic energy (and less, the percussive) sets the speed of a walk through latent space, so the
 *   picture keeps moving with the music's density and rests in silence;
 * - harmony: the root of the harmony (the pitch class that dominated the last half second) picks which of 12
 *   walks the motion follows, so a chord change turns it, and the 12 chroma bins lean on 12 directions of their own;
 * - sections: when the music turns to a new section (the novelty curve rises through 0.5), the picture glides to a
 *   new region of latent space over two seconds;
 * - brightness: a bright sound (a high spectral centroid) leans on direction 2; silence and dark sounds leave it;
 * - camera (off in the default mapping; `--mapping camera`): each hit zooms in a little and flashes, the percussive
 *   energy punches the contrast, and each beat gives the picture a small turn that swings back; all of them rest
 *   in silence;
 * - knobs: CC 1–8 move directions 0–7 (adding to the music on 0–2); CC 9 sweeps InfoGAN category 0, CC 10/11
 *   set its continuous codes. On a model without those codes the engine lists those routes as inactive.
 */
import { chromaRoutes, KNOB_DIRECTIONS } from './directions.ts';
import { mappingToJson, parseMapping, type Mapping, type MappingInputJson, type RouteInput } from './schema.ts';

export interface ReactionStrengths {
  pulse: number;
  motion: number;
  harmony: number;
  /** 0: off; otherwise the glide to a new region takes 2 s ÷ this. */
  sections: number;
  brightness: number;
  /** The picture's own moves on the beat: zoom, flash, contrast, a turn (core/camera.ts). */
  camera: number;
  /** Include the MIDI knob routes. */
  knobs: boolean;
}

export const DEFAULT_STRENGTHS: ReactionStrengths = { pulse: 1, motion: 1, harmony: 1, sections: 1, brightness: 1, camera: 0, knobs: true };

const knob = (cc: number, direction: number): RouteInput => ({
  name: `knob ${cc} → direction ${direction}`,
  source: { kind: 'midi cc', controller: cc },
  transform: { out: [-2, 2], attack: 0.03, release: 0.03 },
  target: { kind: 'direction', index: direction },
});

/** A mapping of the reactions above at these strengths (0 leaves a reaction out). */
export function reactiveMappingJson(strengths: Partial<ReactionStrengths> = {}, name = 'default'): MappingInputJson {
  const s = { ...DEFAULT_STRENGTHS, ...strengths };
  const routes: RouteInput[] = [];
  if (s.pulse > 0) {
    routes.push(
      { name: 'pulse: hits', source: { kind: 'audio onset' }, transform: { out: [0, 1.6 * s.pulse], envelope: { decay: 0.12 } }, target: { kind: 'direction', index: 0, smoothing: 0 } },
      { name: 'pulse: percussive energy', source: { kind: 'audio percussive' }, transform: { in: [0.15, 1], out: [0, 0.9 * s.pulse], attack: 0, release: 0.08 }, target: { kind: 'direction', index: 1, smoothing: 0 } },
    );
  }
  if (s.motion > 0) {
    routes.push(
      { name: 'motion: harmonic energy', source: { kind: 'audio harmonic' }, transform: { in: [0.05, 1], out: [0, 0.8 * s.motion], attack: 0.25, release: 0.8 }, target: { kind: 'drift speed' } },
      { name: 'motion: percussive energy', source: { kind: 'audio percussive' }, transform: { in: [0.1, 1], out: [0, 0.35 * s.motion], attack: 0.1, release: 0.8 }, target: { kind: 'drift speed' } },
    );
  }
  if (s.sections > 0) {
    routes.push({ name: 'sections: a new section, a new region', source: { kind: 'audio novelty' }, transform: { threshold: 0.5 }, target: { kind: 'reseed', crossfade: 2 / s.sections } });
  }
  if (s.brightness > 0) {
    routes.push({ name: 'brightness', source: { kind: 'audio centroid' }, transform: { in: [0.5, 1], out: [0, 1 * s.brightness], attack: 0.3, release: 0.3 }, target: { kind: 'direction', index: 2 } });
  }
  if (s.camera > 0) {
    routes.push(
      { name: 'camera: hits zoom in', source: { kind: 'audio onset' }, transform: { out: [0, 0.3 * s.camera], envelope: { decay: 0.18 } }, target: { kind: 'camera', move: 'zoom' } },
      { name: 'camera: hits flash', source: { kind: 'audio onset' }, transform: { out: [0, 0.3 * s.camera], envelope: { decay: 0.08 } }, target: { kind: 'camera', move: 'flash' } },
      { name: 'camera: percussive punch', source: { kind: 'audio percussive' }, transform: { in: [0.3, 1], out: [0, 0.6 * s.camera], attack: 0, release: 0.1 }, target: { kind: 'camera', move: 'contrast' } },
      { name: 'camera: a turn on the beat', source: { kind: 'beat' }, transform: { out: [0, 0.25 * s.camera], envelope: { decay: 0.3 } }, target: { kind: 'camera', move: 'rotate' } },
    );
  }
  if (s.knobs) {
    routes.push(
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((cc) => knob(cc, cc - 1)),
      { name: 'category sweep', source: { kind: 'midi cc', controller: 9 }, transform: { attack: 0.05, release: 0.05 }, target: { kind: 'category crossfade', code: 0 } },
      { name: 'code 0', source: { kind: 'midi cc', controller: 10 }, transform: { out: [-2, 2], attack: 0.03, release: 0.03 }, target: { kind: 'continuous', index: 0 } },
      { name: 'code 1', source: { kind: 'midi cc', controller: 11 }, transform: { out: [-2, 2], attack: 0.03, release: 0.03 }, target: { kind: 'continuous', index: 1 } },
    );
  }
  const json: MappingInputJson = { version: 1, name, tempo: 120, routes };
  if (s.harmony > 0) {
    const harmony = mappingToJson({ ...parseMapping(json), routes: chromaRoutes({ firstDirection: KNOB_DIRECTIONS, amount: 2 * s.harmony, floor: 0.35, attack: 0.25, release: 0.8 }) });
    const root: RouteInput = { name: 'harmony: root turns the walk', source: { kind: 'audio pitch' }, target: { kind: 'drift heading' } };
    json.routes = [...routes, root, ...harmony.routes.map((r) => ({ ...r, name: `harmony: ${r.name}` }))];
  }
  return json;
}

export const DEFAULT_MAPPING_JSON: MappingInputJson = reactiveMappingJson();

/** DEFAULT_MAPPING_JSON validated, with every default filled in. */
export const DEFAULT_MAPPING: Mapping = parseMapping(DEFAULT_MAPPING_JSON, 'the default mapping');

/** Mappings named on the command line (`--mapping pulse`): one reaction alone, or all of them. */
export const BUILT_IN_MAPPINGS: Record<string, () => Mapping> = {
  default: () => DEFAULT_MAPPING,
  pulse: () => parseMapping(reactiveMappingJson({ motion: 0, harmony: 0, sections: 0, brightness: 0 }, 'pulse')),
  motion: () => parseMapping(reactiveMappingJson({ pulse: 0, harmony: 0, sections: 0, brightness: 0 }, 'motion')),
  harmony: () => parseMapping(reactiveMappingJson({ pulse: 0, sections: 0, brightness: 0 }, 'harmony')),
  sections: () => parseMapping(reactiveMappingJson({ pulse: 0, harmony: 0, brightness: 0 }, 'sections')),
  knobs: () => parseMapping(reactiveMappingJson({ pulse: 0, motion: 0, harmony: 0, sections: 0, brightness: 0 }, 'knobs')),
  camera: () => parseMapping(reactiveMappingJson({ camera: 1 }, 'camera')),
};
