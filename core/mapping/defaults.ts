/**
 * The mapping a fresh user starts with: the music moves the picture at once, and the first knobs of any
 * controller move the eight latent directions. Routes for InfoGAN codes are included for every model; on a
 * model without those codes the engine lists them as inactive (its `warnings`) and they do nothing.
 */
import { parseMapping, type Mapping, type MappingInputJson, type RouteInput } from './schema.ts';

const knob = (cc: number, direction: number): RouteInput => ({
  name: `knob ${cc} → direction ${direction}`,
  source: { kind: 'midi cc', controller: cc },
  transform: { out: [-2, 2], attack: 0.03, release: 0.03 },
  target: { kind: 'direction', index: direction },
});

export const DEFAULT_MAPPING_JSON: MappingInputJson = {
  version: 1,
  name: 'default',
  tempo: 120,
  routes: [
    // The bass swells direction 0: quick to rise, slower to fall, so kicks read as pulses, not flicker.
    { name: 'bass', source: { kind: 'audio bass' }, transform: { in: [0.1, 1], out: [0, 1.5], attack: 0.02, release: 0.25 }, target: { kind: 'direction', index: 0 } },
    // Each onset kicks direction 1 and decays.
    { name: 'onsets', source: { kind: 'audio onset' }, transform: { out: [0, 1.2], envelope: { decay: 0.18 } }, target: { kind: 'direction', index: 1 } },
    // Brightness (spectral centroid) leans direction 2 one way or the other, slowly.
    { name: 'brightness', source: { kind: 'audio centroid' }, transform: { out: [-1, 1], attack: 0.3, release: 0.3 }, target: { kind: 'direction', index: 2 } },
    // CC 1–8 on any channel: directions 0–7 (adding to the audio on 0–2), ±2 around the knob's middle.
    ...[1, 2, 3, 4, 5, 6, 7, 8].map((cc) => knob(cc, cc - 1)),
    // InfoGAN: CC 9 sweeps categorical code 0 through its values (crossfading from one to the next),
    // CC 10 and 11 set continuous codes 0 and 1.
    { name: 'category sweep', source: { kind: 'midi cc', controller: 9 }, transform: { attack: 0.05, release: 0.05 }, target: { kind: 'category crossfade', code: 0 } },
    { name: 'code 0', source: { kind: 'midi cc', controller: 10 }, transform: { out: [-2, 2], attack: 0.03, release: 0.03 }, target: { kind: 'continuous', index: 0 } },
    { name: 'code 1', source: { kind: 'midi cc', controller: 11 }, transform: { out: [-2, 2], attack: 0.03, release: 0.03 }, target: { kind: 'continuous', index: 1 } },
  ],
};

/** DEFAULT_MAPPING_JSON validated, with every default filled in. */
export const DEFAULT_MAPPING: Mapping = parseMapping(DEFAULT_MAPPING_JSON, 'the default mapping');
