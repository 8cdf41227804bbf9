// Mapping files: validation that names the route and the field, defaults, compact JSON round trips, and the
// default mapping.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_MAPPING,
  MappingEngine,
  mappingToJson,
  parseMapping,
  parseMappingText,
  SOURCE_KINDS,
  TARGET_KINDS,
  TRANSFORM_DEFAULTS,
} from '../core/mapping/index.ts';
import { throwsWith } from './helpers/assert.ts';

const route = (extra: Record<string, unknown> = {}) => ({ source: { kind: 'midi cc', controller: 1 }, target: { kind: 'direction', index: 0 }, ...extra });
const mapping = (routes: unknown[]) => ({ version: 1, name: 'test', routes });

describe('mapping schema', () => {
  it('accepts every source and target kind, filling defaults', () => {
    const sources = [
      { kind: 'midi cc', controller: 7, channel: 2, bits: 14 },
      { kind: 'midi note', range: [36, 48], mode: 'pitch' },
      { kind: 'midi note', note: 60 },
      { kind: 'midi pitchbend', channel: 16 },
      { kind: 'audio rms' },
      { kind: 'audio loudness' },
      { kind: 'audio centroid' },
      { kind: 'audio flux' },
      { kind: 'audio bass' },
      { kind: 'audio mid' },
      { kind: 'audio treble' },
      { kind: 'audio percussive' },
      { kind: 'audio harmonic' },
      { kind: 'audio pitch' },
      { kind: 'audio novelty' },
      { kind: 'audio chroma', bin: 11 },
      { kind: 'audio onset' },
      { kind: 'lfo', rate: 0.5, shape: 'square' },
      { kind: 'lfo', beats: 4 },
      { kind: 'beat', every: 4, from: 'midi' },
    ];
    const targets = [
      { kind: 'direction', index: 7 },
      { kind: 'direction', index: 6, smoothing: 0 },
      { kind: 'category select', code: 0 },
      { kind: 'category crossfade', code: 0, values: [3, 8] },
      { kind: 'continuous', index: 1 },
      { kind: 'truncation' },
      { kind: 'drift speed' },
      { kind: 'drift heading' },
      { kind: 'morph', from: { name: 'a' }, to: { bank: 'live', name: 'b' } },
      { kind: 'preset recall', name: 'dawn' },
      { kind: 'reseed' },
      { kind: 'camera', move: 'zoom' },
    ];
    const covered = new Set([...sources.map((s) => s.kind), ...targets.map((t) => t.kind)]);
    for (const k of [...SOURCE_KINDS, ...TARGET_KINDS]) assert.ok(covered.has(k), `the test covers ${k}`);
    const m = parseMapping(mapping([...sources.map((source) => ({ source, target: { kind: 'direction', index: 0 } })), ...targets.map((target) => route({ target }))]));
    assert.equal(m.routes.length, sources.length + targets.length, 'every route kept');
    assert.deepEqual(m.routes[0]?.transform, TRANSFORM_DEFAULTS, 'transform defaults filled in');
    assert.equal(m.routes[2]?.source.kind === 'midi note' && m.routes[2].source.mode, 'velocity', 'note mode defaults to velocity');
    assert.equal(m.routes[4]?.enabled, true, 'routes are enabled by default');
    assert.equal(m.tempo, 120, 'tempo defaults to 120 BPM');
    const recall = m.routes.find((r) => r.target.kind === 'preset recall');
    assert.equal(recall?.target.kind === 'preset recall' && recall.target.crossfade, 1, 'recall crossfades 1 s by default');
  });

  it('rejects an unknown source kind naming the route by index and name, with a guess', () => {
    const bad = mapping([route(), route(), route(), { name: 'bass kick', source: { kind: 'audio loudnes' }, target: { kind: 'direction', index: 0 } }]);
    throwsWith(() => parseMapping(bad, 'club.json'), 'MAPPING_INVALID', 'club.json', "route 3 'bass kick': source.kind 'audio loudnes' is not one of", "'midi cc'", "did you mean 'audio loudness'");
  });

  it('rejects an unknown target kind naming the route', () => {
    throwsWith(() => parseMapping(mapping([route({ target: { kind: 'directions', index: 0 } })])), 'MAPPING_INVALID', "route 0: target.kind 'directions' is not one of", "'direction'");
    throwsWith(() => parseMapping(mapping([{ name: 'x', source: { kind: 'beat' } }])), 'MAPPING_INVALID', "route 0 'x': target is missing");
  });

  it('rejects out-of-range values and unknown keys, naming the field and the value', () => {
    throwsWith(() => parseMapping(mapping([route({ source: { kind: 'midi cc', controller: 128 } })])), 'MAPPING_INVALID', 'route 0: source.controller', '0 to 127', 'got 128');
    throwsWith(() => parseMapping(mapping([route({ source: { kind: 'midi cc', controller: 1, channel: 0 } })])), 'MAPPING_INVALID', 'source.channel', 'got 0');
    throwsWith(() => parseMapping(mapping([route({ source: { kind: 'midi cc', controller: 40, bits: 14 } })])), 'MAPPING_INVALID', 'source.controller', '14-bit');
    throwsWith(() => parseMapping(mapping([route({ source: { kind: 'lfo' } })])), 'MAPPING_INVALID', 'source.rate', 'exactly one');
    throwsWith(() => parseMapping(mapping([route({ transform: { attack: 500 } })])), 'MAPPING_INVALID', 'transform.attack', 'got 500');
    throwsWith(() => parseMapping(mapping([route({ transform: { curve: 'cubic' } })])), 'MAPPING_INVALID', 'transform.curve', 'linear, exp, log, s-curve');
    throwsWith(() => parseMapping(mapping([route({ transform: { quantize: 1 } })])), 'MAPPING_INVALID', 'transform.quantize');
    throwsWith(() => parseMapping(mapping([route({ transform: { in: [0.5, 0.5] } })])), 'MAPPING_INVALID', 'transform.in', 'from ≠ to');
    throwsWith(() => parseMapping(mapping([route({ transform: { atack: 0.1 } })])), 'MAPPING_INVALID', 'transform', 'atack');
    throwsWith(() => parseMapping(mapping([route({ target: { kind: 'direction', index: -1 } })])), 'MAPPING_INVALID', 'target.index', 'got -1');
  });

  it('reports every bad route at once, and file-level problems', () => {
    throwsWith(
      () => parseMapping(mapping([route({ source: { kind: 'nope' } }), route(), route({ target: { kind: 'nada' } })])),
      'MAPPING_INVALID',
      "route 0: source.kind 'nope'",
      "route 2: target.kind 'nada'",
    );
    throwsWith(() => parseMapping({ version: 1, routes: [] }, 'm.json'), 'MAPPING_INVALID', 'm.json', 'name');
    throwsWith(() => parseMapping({ version: 2, name: 'x', routes: [] }, 'm.json'), 'MAPPING_INVALID', 'version 2 mapping');
    throwsWith(() => parseMappingText('{"version": 1,', 'm.json'), 'MAPPING_INVALID', 'm.json is not valid JSON');
  });

  it('saves compactly and reads back the same mapping', () => {
    const m = parseMapping(mapping([route({ name: 'k', transform: { out: [-2, 2], attack: 0.1 } }), route({ enabled: false })]));
    const json = mappingToJson(m);
    assert.deepEqual(json.routes[0], { name: 'k', source: { kind: 'midi cc', controller: 1 }, transform: { out: [-2, 2], attack: 0.1 }, target: { kind: 'direction', index: 0 } }, 'defaults left out');
    assert.deepEqual(parseMapping(JSON.parse(JSON.stringify(json))), m, 'round trip through text');
  });

  it('ships a valid default mapping: pulse, motion, harmony, brightness and knobs', () => {
    assert.ok(DEFAULT_MAPPING.routes.length >= 27, 'the reactions, 12 chroma bins and 11 controls');
    const kinds = new Set(DEFAULT_MAPPING.routes.map((r) => r.source.kind));
    for (const k of ['audio onset', 'audio percussive', 'audio harmonic', 'audio pitch', 'audio chroma', 'audio centroid', 'midi cc']) assert.ok(kinds.has(k as never), `the default mapping uses ${k}`);
    const targets = new Set(DEFAULT_MAPPING.routes.map((r) => r.target.kind));
    for (const k of ['direction', 'drift speed', 'drift heading']) assert.ok(targets.has(k as never), `the default mapping drives ${k}`);
    const pulse = DEFAULT_MAPPING.routes.find((r) => r.source.kind === 'audio onset')!;
    assert.deepEqual(pulse.target, { kind: 'direction', index: 0, smoothing: 0 }, 'the pulse skips the latent smoothing');
    const infogan = new MappingEngine(DEFAULT_MAPPING, { layout: { noise: 62, categorical: [10], continuous: 2 }, directions: 20 });
    assert.deepEqual(infogan.warnings, [], 'every route acts on the InfoGAN demo model');
    const pggan = new MappingEngine(DEFAULT_MAPPING, { layout: { noise: 512, categorical: [], continuous: 0 }, directions: 20 });
    assert.equal(pggan.warnings.length, 3, `the code routes are inactive on a noise-only model: ${pggan.warnings.join(' | ')}`);
    assert.ok(pggan.warnings.every((w) => w.includes('inactive')), 'each says so');
  });
});
