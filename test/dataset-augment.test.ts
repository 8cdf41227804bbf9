// `rhodops dataset augment`: the tile plan for the reference geometry, the interior rule for 45° turns,
// output geometry checked against an analytic gradient, determinism, resuming, corrupt inputs, and the
// lanczos / none / ESRGAN upscaling steps. Real sharp, real files in a temporary folder.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { rejectsWith, throwsWith } from './helpers/assert.ts';
import { setLogLevel } from '../core/log.ts';
import { openUpscaler } from '../core/upscale/esrgan.ts';
import { augment, OPTIONS_FILE, SUMMARY_FILE, type AugmentResult } from '../trainer/prepare/augment.ts';
import { rotateCrop } from '../trainer/prepare/rotate.ts';
import { DEFAULT_SCALES, DIAGONAL_SLACK, parseScales, planSource, type SourcePlan, type Tile } from '../trainer/prepare/tiles.ts';
import { openUpscaleStep, toRgb, upscaleTiled, openImage } from '../trainer/prepare/upscale.ts';

let root: string;
const tmp = (...parts: string[]) => path.join(root, ...parts);

before(async () => {
  setLogLevel('silent');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-augment-'));
});
after(() => fs.rm(root, { recursive: true, force: true }));

/** Collects what the logger writes to stderr at `warn` while fn runs. */
async function captureWarnings<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  setLogLevel('warn');
  process.stderr.write = ((chunk: string | Uint8Array) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    return { result: await fn(), lines };
  } finally {
    process.stderr.write = write;
    setLogLevel('silent');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A synthetic source whose colour says where a pixel came from: red grows left to right, green top to bottom,
// never below 64 — so a black corner (nothing sampled there) stands out, and a pixel's expected colour is known.

const LOW = 64;
const SPAN = 160;

function gradient(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      rgb[o] = LOW + Math.round((SPAN * x) / (width - 1));
      rgb[o + 1] = LOW + Math.round((SPAN * y) / (height - 1));
      rgb[o + 2] = 128;
    }
  }
  return rgb;
}

async function writeGradient(file: string, width: number, height: number): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await sharp(gradient(width, height), { raw: { width, height, channels: 3 } }).png().toFile(file);
}

/** The red and green the gradient has at continuous source position (x, y), in pixel-index coordinates. */
const expectedAt = (x: number, y: number, width: number, height: number) => [LOW + (SPAN * x) / (width - 1), LOW + (SPAN * y) / (height - 1)];

/**
 * Where output pixel (u, v) of an n × n output of `tile` turned `rotation`° clockwise shows, in the source
 * (before ×`factor` upscaling), as pixel-index coordinates.
 */
function sourcePoint(tile: Tile, rotation: number, n: number, u: number, v: number, factor: number): [number, number] {
  const px = ((u + 0.5) / n - 0.5) * tile.size;
  const py = ((v + 0.5) / n - 0.5) * tile.size;
  const t = (rotation * Math.PI) / 180;
  const X = tile.x + tile.size / 2 + px * Math.cos(t) + py * Math.sin(t);
  const Y = tile.y + tile.size / 2 - px * Math.sin(t) + py * Math.cos(t);
  return [X / factor - 0.5, Y / factor - 0.5];
}

async function readRgb(file: string): Promise<{ data: Uint8Array; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

const NAME = /^(.+)__s(\d+)_r(\d+)c(\d+)_rot(\d{3})\.png$/;

function tileOf(plan: SourcePlan, name: string): { tile: Tile; rotation: number } {
  const m = NAME.exec(name);
  assert.ok(m, `output name ${name} has the form SOURCE__sSIZE_rRcC_rotDDD.png`);
  const tile = plan.tiles.find((t) => t.size === Number(m[2]) && t.row === Number(m[3]) && t.col === Number(m[4]));
  assert.ok(tile, `${name} names a tile of the plan`);
  return { tile, rotation: Number(m[5]) };
}

const pngs = async (dir: string) => (await fs.readdir(dir)).filter((f) => f.endsWith('.png')).sort();

// ---------------------------------------------------------------------------------------------------------------

describe('tile plan', () => {
  it('reads SIZE:N lists (pixels or fractions of the short side) and refuses malformed ones', () => {
    assert.deepEqual(parseScales('1448:3, 1024:4'), [
      { size: 1448, grid: 3 },
      { size: 1024, grid: 4 },
    ]);
    assert.deepEqual(parseScales(DEFAULT_SCALES), [
      { size: 0.7071, grid: 3 },
      { size: 0.5, grid: 4 },
    ]);
    for (const bad of ['', '1448', '1448:0', '1448:x', '1.5:3', '4:2', '0:3', '1448:3,,1024:4']) throwsWith(() => parseScales(bad), 'BAD_OPTION');
  });

  it('the reference geometry: a 2048² image gives 9 tiles of 1448² and 16 of 1024², 5 interior, 115 outputs', () => {
    for (const scales of ['1448:3,1024:4', DEFAULT_SCALES]) {
      const plan = planSource('img', 2048, 2048, { scales: parseScales(scales) });
      const big = plan.tiles.filter((t) => t.size === 1448);
      const small = plan.tiles.filter((t) => t.size === 1024);
      assert.equal(big.length, 9, `${scales}: 3 × 3 tiles of 1448² (got ${big.length})`);
      assert.equal(small.length, 16, `${scales}: 4 × 4 tiles of 1024² (got ${small.length})`);
      assert.deepEqual([...new Set(big.map((t) => t.x))], [0, 300, 600], 'the 1448² grid is spread evenly from edge to edge');
      assert.deepEqual([...new Set(small.map((t) => t.y))], [0, 341, 683, 1024], 'the 1024² grid is spread evenly from edge to edge');
      assert.equal(big.filter((t) => !t.edge).length, 1, 'the middle 1448² tile is the only interior one');
      assert.equal(small.filter((t) => !t.edge).length, 4, 'the middle 2 × 2 of the 1024² grid are interior');
      assert.equal(plan.tiles.filter((t) => t.diagonal).length, 5, 'every interior tile of the reference geometry gets 45° turns');
      assert.equal(plan.outputs.length, 25 * 4 + 5 * 3, '25 tiles × 4 right-angle turns + 5 interior × 3 diagonal turns');
      assert.equal(new Set(plan.outputs.map((o) => o.name)).size, plan.outputs.length, 'output names are unique');
      for (const o of plan.outputs) assert.match(o.name, NAME);
      assert.ok(plan.outputs.some((o) => o.name === 'img__s1448_r1c1_rot045.png'), 'the middle tile turned 45° is named for its scale, cell and angle');
      assert.deepEqual(plan.notes, []);
    }
  });

  it('edge tiles never get 45° turns; interior ones do exactly when their √2 region fits inside the image', () => {
    const geometries: [number, number, string][] = [
      [2048, 2048, '1448:3,1024:4'],
      [3000, 2000, '1000:3,0.3:5'],
      [1000, 1000, '0.9:3,0.25:6,0.5:2'],
      [777, 1301, '300:4,0.6:3'],
      [640, 480, '0.707:3,0.5:4'],
    ];
    let interiorWithout = 0;
    for (const [w, h, scales] of geometries) {
      const plan = planSource('g', w, h, { scales: parseScales(scales) });
      for (const t of plan.tiles) {
        const where = `${w}×${h} ${scales}: tile ${t.size} at (${t.x}, ${t.y})`;
        assert.ok(t.x >= 0 && t.y >= 0 && t.x + t.size <= w && t.y + t.size <= h, `${where} lies inside the image`);
        const touches = t.x === 0 || t.y === 0 || t.x + t.size === w || t.y + t.size === h;
        assert.equal(t.edge, touches, `${where}: edge flag`);
        const turns = plan.outputs.filter((o) => o.tile === t).map((o) => o.rotation);
        if (t.edge) assert.deepEqual(turns, [0, 90, 180, 270], `${where} touches the edge: right angles only`);
        // The tile turned 45° reaches its half-diagonal from its centre along each axis.
        const reach = t.size / Math.SQRT2;
        const [cx, cy] = [t.x + t.size / 2, t.y + t.size / 2];
        const fits = [cx - reach, cy - reach].every((v) => v >= -DIAGONAL_SLACK) && cx + reach <= w + DIAGONAL_SLACK && cy + reach <= h + DIAGONAL_SLACK;
        const r = t.diagonal;
        if (r) {
          assert.deepEqual(turns, [0, 90, 180, 270, 45, 135, 225], `${where}: right angles and 45/135/225`);
          assert.ok(fits, `${where}: turned 45° it lies inside the image`);
          assert.ok(r.x >= 0 && r.y >= 0 && r.x + r.width <= w && r.y + r.height <= h, `${where}: the region lies inside the image`);
          for (const [lo, hi, c, size] of [[r.x, r.x + r.width, cx, w], [r.y, r.y + r.height, cy, h]] as const) {
            assert.ok(lo <= Math.max(0, c - reach) && hi >= Math.min(size, c + reach), `${where}: the region [${lo}, ${hi}] covers the turned tile [${(c - reach).toFixed(1)}, ${(c + reach).toFixed(1)}]`);
          }
        } else if (!t.edge) {
          interiorWithout++;
          assert.ok(!fits, `${where} is interior and fits turned 45°, so it should get 45° turns`);
        }
      }
      // Grids overlap: neighbouring tiles of a scale share pixels.
      for (const size of new Set(plan.tiles.map((t) => t.size))) {
        const xs = [...new Set(plan.tiles.filter((t) => t.size === size).map((t) => t.x))].sort((a, b) => a - b);
        for (let i = 1; i < xs.length; i++) assert.ok(xs[i]! - xs[i - 1]! <= size, `${w}×${h}: ${size} px tiles leave no gap across`);
      }
    }
    assert.ok(interiorWithout > 0, 'some geometry here has an interior tile without room for 45° turns (the rule is exercised)');
    const tight = planSource('t', 1000, 1000, { scales: parseScales('0.9:3') });
    assert.ok(tight.notes.some((n) => n.includes('without 45°')), `the summary says why an interior tile got no 45° turns: ${tight.notes.join('; ')}`);
    const none = planSource('n', 2048, 2048, { scales: parseScales('1448:3'), diagonal: false });
    assert.equal(none.outputs.length, 36, '--no-diagonal: right angles only');
  });

  it('non-square images keep the short side\u2019s spacing across the long side; scales that do not fit are noted', () => {
    const plan = planSource('w', 3000, 2000, { scales: parseScales('1000:3') });
    assert.deepEqual([...new Set(plan.tiles.map((t) => t.y))], [0, 500, 1000]);
    assert.deepEqual([...new Set(plan.tiles.map((t) => t.x))], [0, 500, 1000, 1500, 2000]);
    const small = planSource('s', 600, 600, { scales: parseScales('1448:3,0.5:2') });
    assert.equal(small.tiles.length, 4, 'only the scale that fits');
    assert.ok(small.notes.some((n) => n.includes('1448') && n.includes('larger than')), `the summary says why: ${small.notes.join('; ')}`);
  });
});

describe('45° turns', () => {
  it('turn clockwise, as sharp does for right angles', async () => {
    const side = 12;
    const src = Uint8Array.from({ length: side * side * 3 }, (_, i) => (i * 53 + 7) % 256);
    const ours = rotateCrop(src, side, side, 90, side, side, { cx: side / 2, cy: side / 2, scaleX: 1, scaleY: 1 });
    const theirs = await sharp(src, { raw: { width: side, height: side, channels: 3 } }).rotate(90).raw().toBuffer();
    assert.deepEqual(ours, new Uint8Array(theirs), 'a 90° turn is sharp\u2019s rotate(90) exactly');
  });

  it('take every pixel from where the geometry says, and leave corners black when the region is too small', () => {
    const side = 91;
    const src = gradient(side, side);
    const tile = 64; // 64·√2 = 90.5 < 91: the region just covers the turned tile
    const centred = { cx: side / 2, cy: side / 2, scaleX: 1, scaleY: 1 };
    const out = rotateCrop(src, side, side, 45, tile, tile, centred);
    let worst = 0;
    for (let v = 0; v < tile; v++) {
      for (let u = 0; u < tile; u++) {
        const [sx, sy] = sourcePoint({ x: (side - tile) / 2, y: (side - tile) / 2, size: tile } as Tile, 45, tile, u, v, 1);
        const [r, g] = expectedAt(sx, sy, side, side);
        worst = Math.max(worst, Math.abs(out[(v * tile + u) * 3]! - r!), Math.abs(out[(v * tile + u) * 3 + 1]! - g!));
      }
    }
    assert.ok(worst <= 1.5, `every pixel of the 45° turn is the source at the rotated position (worst |Δ| ${worst.toFixed(2)})`);
    // The check below would catch a region without the √2 margin: its corners come out black.
    const cramped = rotateCrop(src, side, side, 45, side, side, centred);
    assert.equal(cornerDarkness(cramped, side), 0, 'a 45° turn of the tile itself (no wider region) has black corners');
  });
});

/** How bright the darkest corner pixel is (sum of its channels). */
function cornerDarkness(rgb: Uint8Array, side: number): number {
  const corners = [0, side - 1, (side - 1) * side, side * side - 1];
  return Math.min(...corners.map((p) => rgb[p * 3]! + rgb[p * 3 + 1]! + rgb[p * 3 + 2]!));
}

// ---------------------------------------------------------------------------------------------------------------

describe('augment', () => {
  const SIZE = 32;
  const sources: Record<string, [number, number]> = { 'sq.png': [128, 128], 'wide/photo.png': [96, 64] };
  let first: AugmentResult;

  before(async () => {
    for (const [rel, [w, h]] of Object.entries(sources)) await writeGradient(tmp('in', rel), w, h);
    await fs.writeFile(tmp('in', 'README.txt'), 'not an image');
    first = await augment({ input: tmp('in'), output: tmp('a'), upscale: 'lanczos', size: SIZE });
  });

  it('makes 25 tiles × 4 + 5 interior × 3 images of a square source, every one the right size and place', async () => {
    const plan = planSource('sq', 256, 256, { scales: parseScales(DEFAULT_SCALES) });
    const summary = first.sources.find((s) => s.source === 'sq.png');
    assert.ok(summary, 'the summary has a row for sq.png');
    assert.equal(summary.outputs, 115, 'sq.png (256² after ×2) gives the reference 115 images');
    assert.equal(summary.tiles, 25);
    assert.equal(summary.interior, 5);
    const names = (await pngs(tmp('a'))).filter((n) => n.startsWith('sq__'));
    assert.deepEqual(names, plan.outputs.map((o) => o.name).sort(), 'the files are exactly the planned outputs');
    let worst = 0;
    let worstAt = '';
    for (const name of names) {
      const img = await readRgb(tmp('a', name));
      assert.equal(img.width, SIZE, `${name} is ${SIZE} wide`);
      assert.equal(img.height, SIZE, `${name} is ${SIZE} high`);
      assert.equal(img.channels, 3, `${name} is RGB`);
      const { tile, rotation } = tileOf(plan, name);
      if (rotation % 90 !== 0) {
        assert.ok(!tile.edge, `${name}: only interior tiles are turned 45°`);
        assert.ok(cornerDarkness(img.data, SIZE) > 3 * (LOW - 20), `${name} has no empty (black) corner`);
      }
      // Corners and centre show the source where the tile and its turn put them (the gradient is linear).
      for (const [u, v] of [[0, 0], [SIZE - 1, 0], [0, SIZE - 1], [SIZE - 1, SIZE - 1], [SIZE / 2, SIZE / 2]] as const) {
        const [sx, sy] = sourcePoint(tile, rotation, SIZE, u, v, 2);
        const [r, g] = expectedAt(sx, sy, 128, 128);
        const o = (v * SIZE + u) * 3;
        const d = Math.max(Math.abs(img.data[o]! - r!), Math.abs(img.data[o + 1]! - g!));
        if (d > worst) [worst, worstAt] = [d, `${name} (${u}, ${v})`];
      }
    }
    assert.ok(worst <= 8, `every output pixel checked is the source at the planned, turned position (worst |Δ| ${worst.toFixed(1)} at ${worstAt})`);
  });

  it('names sources in folders by their path, writes augment.json and summary.json, and ignores non-images', async () => {
    const wide = first.sources.find((s) => s.source === 'wide/photo.png');
    assert.ok(wide && wide.stem === 'wide-photo', `a source in a folder is named by its path: ${JSON.stringify(wide)}`);
    assert.equal(wide.width, 192);
    assert.equal(wide.height, 128);
    const files = await pngs(tmp('a'));
    assert.equal(files.filter((n) => n.startsWith('wide-photo__')).length, wide.outputs);
    assert.equal(files.length, first.totals.outputs, 'every output is counted once');
    const summary = JSON.parse(await fs.readFile(tmp('a', SUMMARY_FILE), 'utf8')) as AugmentResult;
    assert.deepEqual(summary.totals, first.totals, 'summary.json holds the totals returned');
    assert.equal(summary.totals.ignoredFiles, 1, 'README.txt is ignored, not reported as a bad image');
    assert.equal(summary.totals.skipped, 0);
    assert.ok(await fs.stat(tmp('a', OPTIONS_FILE)), 'augment.json records the options');
  });

  it('is deterministic: a second run elsewhere writes the same files, byte for byte', async () => {
    await augment({ input: tmp('in'), output: tmp('b'), upscale: 'lanczos', size: SIZE });
    const a = await fs.readdir(tmp('a'));
    assert.deepEqual(a.sort(), (await fs.readdir(tmp('b'))).sort(), 'the same file names');
    for (const name of a) assert.ok((await fs.readFile(tmp('a', name))).equals(await fs.readFile(tmp('b', name))), `${name} is identical in both runs`);
  });

  it('resumes: a re-run makes nothing; a deleted, a truncated output and a stale temporary file are dealt with', async () => {
    const again = await augment({ input: tmp('in'), output: tmp('a'), upscale: 'lanczos', size: SIZE });
    assert.equal(again.totals.written, 0, 'nothing is remade');
    assert.equal(again.totals.existing, first.totals.outputs, 'every output is found complete');
    const names = await pngs(tmp('a'));
    const gone = names[3]!;
    const cut = names[40]!;
    await fs.rm(tmp('a', gone));
    const bytes = await fs.readFile(tmp('a', cut));
    await fs.writeFile(tmp('a', cut), bytes.subarray(0, bytes.length >> 1)); // as if a copy or power cut stopped halfway
    await fs.writeFile(tmp('a', `${names[0]}.tmp-123-0badf00d`), 'half an image');
    const third = await augment({ input: tmp('in'), output: tmp('a'), upscale: 'lanczos', size: SIZE });
    assert.equal(third.totals.written, 2, 'only the deleted and the truncated outputs are made again');
    for (const name of [gone, cut]) assert.ok((await fs.readFile(tmp('a', name))).equals(await fs.readFile(tmp('b', name))), `${name} is remade identically`);
    assert.ok(!(await fs.readdir(tmp('a'))).some((n) => n.includes('.tmp-')), 'stale temporary files are removed');
  });

  it('--upscale auto: ESRGAN for a source whose tiles are enlarged, lanczos (byte for byte) for one whose tiles shrink', async () => {
    // Smallest tiles: 0.5 × the short side. 40² → 20 px < 32 (enlarged); 128² → 64 px ≥ 32 (shrunk).
    await writeGradient(tmp('mixed', 'small.png'), 40, 40);
    await writeGradient(tmp('mixed', 'sq.png'), 128, 128);
    const r = await augment({ input: tmp('mixed'), output: tmp('auto'), upscale: 'auto', size: SIZE });
    assert.deepEqual(Object.fromEntries(r.sources.map((x) => [x.source, x.upscale])), { 'small.png': 'esrgan', 'sq.png': 'lanczos' });
    const names = (await fs.readdir(tmp('auto'))).filter((n) => n.startsWith('sq__'));
    assert.ok(names.length > 0);
    for (const n of names) assert.ok((await fs.readFile(tmp('auto', n))).equals(await fs.readFile(tmp('a', n))), `${n}: the lanczos run's own`);
  });

  it('--no-turns keeps every tile upright; a transparent source is noted and its flat margins are left out', async () => {
    const up = await augment({ input: tmp('in'), output: tmp('upright'), upscale: 'lanczos', size: SIZE, turns: false });
    const names = await pngs(tmp('upright'));
    assert.ok(names.length > 0 && names.every((n) => n.endsWith('_rot000.png')), 'no turned tiles');
    assert.equal(up.sources.find((x) => x.source === 'sq.png')!.outputs, 25, 'one image per tile of 25');
    // A logo: a small opaque square in the top left corner of a transparent canvas.
    const canvas = Buffer.alloc(128 * 128 * 4);
    for (let y = 4; y < 24; y++) for (let x = 4; x < 24; x++) canvas.set([200, (x * 7) % 256, (y * 5) % 256, 255], (y * 128 + x) * 4);
    await fs.mkdir(tmp('logo'), { recursive: true });
    await sharp(canvas, { raw: { width: 128, height: 128, channels: 4 } }).png().toFile(tmp('logo', 'logo.png'));
    const r = await augment({ input: tmp('logo'), output: tmp('logo-out'), upscale: 'lanczos', size: SIZE });
    const logo = r.sources[0]!;
    assert.equal(logo.transparent, true);
    assert.ok((logo.flat ?? 0) > 0 && logo.written > 0, `flat ${logo.flat}, written ${logo.written}`);
    assert.equal(logo.written + (logo.flat ?? 0), 115, 'every planned output either written or left out as flat');
  });

  it('refuses to resume a folder made with other options', async () => {
    await rejectsWith(augment({ input: tmp('in'), output: tmp('a'), upscale: 'lanczos', size: 64 }), 'BAD_OPTION', tmp('a'), 'size 32 then, 64 now');
    await rejectsWith(augment({ input: tmp('in'), output: tmp('c'), upscale: 'lanczos', size: 3 }), 'BAD_OPTION', '--size');
    await rejectsWith(augment({ input: tmp('nowhere'), output: tmp('c'), upscale: 'lanczos' }), 'DATASET_INVALID', 'nowhere');
  });

  it('leaves an output folder inside the input folder out of the sources', async () => {
    await writeGradient(tmp('nest', 'only.png'), 32, 32);
    await augment({ input: tmp('nest'), output: tmp('nest', 'out'), upscale: 'none', size: 8 });
    const again = await augment({ input: tmp('nest'), output: tmp('nest', 'out'), upscale: 'none', size: 8 });
    assert.deepEqual(again.sources.map((s) => s.source), ['only.png'], 'its own outputs are not augmented again');
    assert.equal(again.totals.written, 0);
  });

  it('reports corrupt, truncated and unreadable-format files by name, skips them, and carries on', async () => {
    await writeGradient(tmp('bad', 'good.png'), 64, 64);
    await fs.writeFile(tmp('bad', 'garbage.png'), 'this is not a PNG at all');
    const whole = await sharp(gradient(64, 64), { raw: { width: 64, height: 64, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
    await fs.writeFile(tmp('bad', 'truncated.png'), whole.subarray(0, whole.length >> 1)); // a header that reads, pixels that do not
    await fs.writeFile(tmp('bad', 'scan.bmp'), 'BM');
    const { result, lines } = await captureWarnings(() => augment({ input: tmp('bad'), output: tmp('bad-out'), upscale: 'none', size: 16 }));
    const skipped = Object.fromEntries(result.sources.filter((s) => s.skipped).map((s) => [s.source, s.skipped!]));
    assert.deepEqual(Object.keys(skipped).sort(), ['garbage.png', 'scan.bmp', 'truncated.png'], `the three bad files are skipped: ${JSON.stringify(skipped)}`);
    assert.match(skipped['scan.bmp']!, /BMP/, 'the BMP is skipped for its format');
    for (const name of Object.keys(skipped)) assert.ok(lines.some((l) => l.includes(name)), `a warning names ${name}: ${lines.join('')}`);
    const good = result.sources.find((s) => s.source === 'good.png');
    assert.equal(good?.outputs, 115, 'the good file is augmented in full');
    assert.equal((await pngs(tmp('bad-out'))).length, 115, 'only the good file\u2019s images are written');
  });
});

describe('upscaling', () => {
  it('lanczos doubles with sharp\u2019s lanczos3; none keeps the size; the plans follow', async () => {
    const file = tmp('up', 'g.png');
    await writeGradient(file, 64, 48);
    const plain = await toRgb(openImage(file));
    const none = await openUpscaleStep('none');
    const lanczos = await openUpscaleStep('lanczos');
    const kept = await none.load(file, { width: 64, height: 48 });
    assert.deepEqual([kept.width, kept.height], [64, 48]);
    assert.deepEqual(kept.data, plain.data, 'none: the decoded pixels');
    const doubled = await lanczos.load(file, { width: 64, height: 48 });
    assert.deepEqual([doubled.width, doubled.height], [128, 96]);
    const reference = await sharp(plain.data, { raw: { width: 64, height: 48, channels: 3 } }).resize(128, 96, { kernel: 'lanczos3' }).raw().toBuffer();
    assert.deepEqual(new Uint8Array(doubled.data), new Uint8Array(reference), 'lanczos: sharp\u2019s lanczos3 ×2');
    const a = await augment({ input: tmp('up'), output: tmp('up-none'), upscale: 'none', size: 8 });
    const b = await augment({ input: tmp('up'), output: tmp('up-lanczos'), upscale: 'lanczos', size: 8 });
    assert.deepEqual([a.sources[0]!.width, a.sources[0]!.height], [64, 48], 'none tiles the image as it is');
    assert.deepEqual([b.sources[0]!.width, b.sources[0]!.height], [128, 96], 'lanczos tiles the doubled image');
    assert.ok((await pngs(tmp('up-none'))).some((n) => n.includes('__s24_')), 'tiles of 0.5 × 48 px without upscaling');
    assert.ok((await pngs(tmp('up-lanczos'))).some((n) => n.includes('__s48_')), 'tiles of 0.5 × 96 px after lanczos');
  });

  it('ESRGAN in patches: 96² → 192², the same as one pass within stitching noise, and close to lanczos', async () => {
    const size = 96;
    const svg = `<svg width="${size}" height="${size}"><rect width="${size}" height="${size}" fill="#203050"/><circle cx="48" cy="48" r="32" fill="#e83"/><rect x="6" y="60" width="30" height="20" fill="#fff"/></svg>`;
    const file = tmp('esr', 'pic.png');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await sharp(Buffer.from(svg)).removeAlpha().png().toFile(file);
    const img = await toRgb(openImage(file));
    const up = await openUpscaler(2, { engine: 'ort', ort: { intraOpNumThreads: 2 } });
    let whole;
    let tiled;
    try {
      whole = await upscaleTiled(up, img, { patch: 96, margin: 0 });
      let patches = 0;
      tiled = await upscaleTiled(up, img, { patch: 40, margin: 12 }, () => patches++);
      assert.equal(patches, 9, '96 px in patches of at most 40: 3 × 3');
    } finally {
      await up.dispose();
    }
    assert.deepEqual([tiled.width, tiled.height], [192, 192]);
    const mad = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;
    const seams = mad(tiled.data, whole.data);
    assert.ok(seams < 1, `patches stitched with a 12 px margin match one pass over the image (mean |Δ| ${seams.toFixed(2)} of 255)`);
    const lanczos = await sharp(img.data, { raw: { width: size, height: size, channels: 3 } }).resize(192, 192, { kernel: 'lanczos3' }).raw().toBuffer();
    const off = mad(tiled.data, lanczos);
    assert.ok(off < 6, `ESRGAN's picture is lanczos's picture, sharper (mean |Δ| ${off.toFixed(2)} of 255)`);
    const r = await augment({ input: tmp('esr'), output: tmp('esr-out'), upscale: 'esrgan', patch: { patch: 64, margin: 8 }, size: 16 });
    assert.equal(r.sources[0]!.width, 192, 'augment --upscale esrgan tiles the 192² result');
    assert.equal(r.totals.outputs, 115);
  });
});
