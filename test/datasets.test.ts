// Datasets: real-format files (IDX, MAT v5, image folders) written here or committed as tiny fixtures,
// the mnist package, the prepared-dataset cache, and the batch streamer.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { rejectsWith } from './helpers/assert.ts';
import { setLogLevel } from '../core/log.ts';
import { batchAt, epochOrder, loadDataset, stepsPerEpoch, type ImageDataset } from '../trainer/datasets/index.ts';
import { convertChannels, resizeSquares } from '../trainer/datasets/convert.ts';
import { parseMat5 } from '../trainer/datasets/mat5.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'datasets');
let root: string;
let cacheDir: string;
const tmp = (...parts: string[]) => path.join(root, ...parts);

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
// IDX: a tiny writer for the format (big-endian header, unsigned bytes).

function idxFile(dims: number[], data: Uint8Array): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

const IDX_COUNT = 7;
const IDX_SIDE = 6;
const idxPixels = Uint8Array.from({ length: IDX_COUNT * IDX_SIDE * IDX_SIDE }, (_, i) => (i * 37 + 11) % 256);
const idxLabels = Uint8Array.from({ length: IDX_COUNT }, (_, i) => (i * 3) % 10);

async function writeIdxPair(dir: string, gzip: boolean, suffix = gzip ? '.gz' : ''): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const pack = (b: Uint8Array) => (gzip ? zlib.gzipSync(b) : b);
  const images = path.join(dir, `train-images-idx3-ubyte${suffix}`);
  await fs.writeFile(images, pack(idxFile([IDX_COUNT, IDX_SIDE, IDX_SIDE], idxPixels)));
  await fs.writeFile(path.join(dir, `train-labels-idx1-ubyte${suffix}`), pack(idxFile([IDX_COUNT], idxLabels)));
  return images;
}

describe('datasets', () => {
  before(async () => {
    setLogLevel('silent');
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-datasets-'));
    cacheDir = tmp('cache');
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  describe('spec and options', () => {
    it('an unknown spec lists the valid forms; bad sizes and channels name the value', async () => {
      await rejectsWith(loadDataset('cifar10', { size: 32, cacheDir }), 'BAD_OPTION', "'cifar10'");
      await assert.rejects(loadDataset('cifar10', { size: 32, cacheDir }), (e: Error & { hint?: string }) => {
        for (const form of ['mnist', 'idx:PATH', 'svhn:PATH', 'folder:PATH']) assert.ok(e.hint?.includes(form), e.hint);
        return true;
      });
      await rejectsWith(loadDataset('folder:', { size: 32, cacheDir }), 'BAD_OPTION', 'no path');
      await rejectsWith(loadDataset('mnist', { size: 31.5, cacheDir }), 'BAD_OPTION', '31.5');
      await rejectsWith(loadDataset('mnist', { size: 32, channels: 2 as 1, cacheDir }), 'BAD_OPTION', 'got 2');
      await rejectsWith(loadDataset(`folder:${tmp('nowhere')}`, { size: 32, cacheDir }), 'DATASET_INVALID', tmp('nowhere'), 'does not exist');
    });
  });

  describe('idx', () => {
    it('reads images and labels, plain and gzipped, from a folder or a file', async () => {
      const plainDir = tmp('idx-plain');
      await writeIdxPair(plainDir, false);
      const gzImages = await writeIdxPair(tmp('idx-gz'), true);
      const noExt = await writeIdxPair(tmp('idx-gz-no-ext'), true, ''); // gzipped, named without .gz: told by magic bytes
      for (const spec of [`idx:${plainDir}`, `idx:${gzImages}`, `idx:${noExt}`]) {
        const ds = await loadDataset(spec, { size: IDX_SIDE, cacheDir });
        assert.equal(ds.count, IDX_COUNT, spec);
        assert.equal(ds.channels, 1);
        assert.deepEqual(Array.from(ds.pixels), Array.from(idxPixels), spec);
        assert.deepEqual(Array.from(ds.labels!), Array.from(idxLabels), spec);
        assert.match(ds.source, /^idx .*train-images-idx3-ubyte.* \(7 images, labels from train-labels-idx1-ubyte/);
      }
      const rgb = await loadDataset(`idx:${plainDir}`, { size: 12, channels: 3, cacheDir });
      assert.equal(rgb.pixels.length, IDX_COUNT * 12 * 12 * 3);
    });

    it('without a labels file beside it, loads unlabelled', async () => {
      const dir = tmp('idx-nolabels');
      await fs.mkdir(dir);
      await fs.writeFile(path.join(dir, 't10k-images-idx3-ubyte'), idxFile([IDX_COUNT, IDX_SIDE, IDX_SIDE], idxPixels));
      const ds = await loadDataset(`idx:${dir}`, { size: IDX_SIDE, cacheDir });
      assert.equal(ds.labels, undefined);
      assert.match(ds.source, /no labels/);
    });

    it('a truncated file, a wrong magic, a labels file given as images and broken gzip are named with the problem', async () => {
      const dir = tmp('idx-bad');
      await fs.mkdir(dir);
      const truncated = path.join(dir, 'short-images-idx3-ubyte');
      await fs.writeFile(truncated, idxFile([IDX_COUNT, IDX_SIDE, IDX_SIDE], idxPixels).subarray(0, 16 + 5 * 36));
      await rejectsWith(loadDataset(`idx:${truncated}`, { size: 8, cacheDir }), 'DATASET_INVALID', truncated, 'truncated', '7 images of 6×6', '268');

      const junk = path.join(dir, 'junk-images-idx3-ubyte');
      await fs.writeFile(junk, Buffer.from('PK\x03\x04 this is a zip file, not IDX'));
      await rejectsWith(loadDataset(`idx:${junk}`, { size: 8, cacheDir }), 'DATASET_INVALID', junk, 'not an IDX images file', '0x00000803');

      const labels = path.join(dir, 'lbl-labels-idx1-ubyte');
      await fs.writeFile(labels, idxFile([IDX_COUNT], idxLabels));
      await rejectsWith(loadDataset(`idx:${labels}`, { size: 8, cacheDir }), 'DATASET_INVALID', labels, 'is an IDX labels file');

      const gz = path.join(dir, 'cut-images-idx3-ubyte.gz');
      const whole = zlib.gzipSync(idxFile([IDX_COUNT, IDX_SIDE, IDX_SIDE], idxPixels));
      await fs.writeFile(gz, whole.subarray(0, whole.length - 12));
      await rejectsWith(loadDataset(`idx:${gz}`, { size: 8, cacheDir }), 'DATASET_INVALID', gz, 'gzip');

      const mismatch = tmp('idx-mismatch');
      await writeIdxPair(mismatch, false);
      await fs.writeFile(path.join(mismatch, 'train-labels-idx1-ubyte'), idxFile([3], idxLabels.subarray(0, 3)));
      await rejectsWith(loadDataset(`idx:${mismatch}`, { size: 8, cacheDir }), 'DATASET_INVALID', 'holds 3 labels for the 7 images');

      await rejectsWith(loadDataset(`idx:${tmp('idx-empty')}`, { size: 8, cacheDir }), 'DATASET_INVALID', 'does not exist');
    });
  });

  describe('mat5 (SVHN)', () => {
    // The fixtures were written by scipy.io.savemat (see make_svhn_fixtures.py): X(r,c,ch,n) = (7r + 3c + 50ch + 31n) mod 256.
    const x = (r: number, c: number, ch: number, n: number) => (7 * r + 3 * c + 50 * ch + 31 * n) % 256;

    for (const name of ['svhn_tiny.mat', 'svhn_tiny_compressed.mat']) {
      it(`parses ${name}: header, small and normal tags${name.includes('compressed') ? ', miCOMPRESSED' : ''}, classes, dims`, async () => {
        const mat = await parseMat5(await fs.readFile(path.join(FIXTURES, name)), name);
        assert.ok(mat.littleEndian);
        assert.match(mat.description, /^MATLAB 5\.0 MAT-file/);
        assert.deepEqual(mat.variables.map((v) => v.name), ['X', 'y', 'note']);
        const [X, y, note] = mat.variables as [(typeof mat.variables)[0], (typeof mat.variables)[0], (typeof mat.variables)[0]];
        assert.equal(X.class, 'uint8');
        assert.deepEqual(X.dims, [32, 32, 3, 5]);
        assert.ok(X.data instanceof Uint8Array);
        for (const [r, c, ch, n] of [[0, 0, 0, 0], [1, 2, 1, 3], [31, 30, 2, 4], [17, 5, 0, 2]] as const) {
          assert.equal(X.data[r + 32 * (c + 32 * (ch + 3 * n))], x(r, c, ch, n)); // column-major, as MATLAB stores it
        }
        assert.equal(y.class, 'double');
        assert.deepEqual(y.dims, [5, 1]);
        assert.deepEqual(Array.from(y.data!), [1, 2, 10, 5, 10]);
        assert.equal(note.class, 'char');
        assert.equal(note.text, 'rhodops fixture');
      });

      it(`loads svhn:${name} as HWC images with labels 10 → 0`, async () => {
        const ds = await loadDataset(`svhn:${path.join(FIXTURES, name)}`, { size: 32, cacheDir });
        assert.equal(ds.count, 5);
        assert.equal(ds.channels, 3);
        assert.deepEqual(Array.from(ds.labels!), [1, 2, 0, 5, 0]);
        for (const [r, c, ch, n] of [[0, 0, 0, 0], [1, 2, 1, 3], [31, 30, 2, 4], [17, 5, 0, 2]] as const) {
          assert.equal(ds.pixels[((n * 32 + r) * 32 + c) * 3 + ch], x(r, c, ch, n), `X(${r},${c},${ch},${n})`);
        }
        const gray = await loadDataset(`svhn:${path.join(FIXTURES, name)}`, { size: 16, channels: 1, cacheDir });
        assert.equal(gray.pixels.length, 5 * 16 * 16);
      });
    }

    it('reads a big-endian file whose double labels MATLAB stored as uint8, in small elements', async () => {
      const file = tmp('svhn-be.mat');
      const X = Uint8Array.from({ length: 4 * 4 * 3 * 2 }, (_, i) => i * 2);
      await fs.writeFile(
        file,
        matFile(false, [
          matMatrix(false, 'X', 9, [4, 4, 3, 2], element(false, 2, X)),
          matMatrix(false, 'y', 6, [2, 1], element(false, 2, Uint8Array.of(10, 3))), // 2 bytes: a small element
          matMatrix(false, 'z', 10, [1, 3], element(false, 3, int16be([-2, 300, 7]))),
        ]),
      );
      const mat = await parseMat5(await fs.readFile(file), file);
      assert.equal(mat.littleEndian, false);
      const z = mat.variables.find((v) => v.name === 'z')!;
      assert.ok(z.data instanceof Int16Array);
      assert.deepEqual(Array.from(z.data), [-2, 300, 7]);
      const y = mat.variables.find((v) => v.name === 'y')!;
      assert.ok(y.data instanceof Float64Array);
      const ds = await loadDataset(`svhn:${file}`, { size: 4, cacheDir });
      assert.deepEqual(Array.from(ds.labels!), [0, 3]);
      // X(r=1, c=2, ch=2, n=1) sits at column-major index 1 + 4·2 + 16·2 + 48·1.
      assert.equal(ds.pixels[((1 * 4 + 1) * 4 + 2) * 3 + 2], X[1 + 4 * 2 + 16 * 2 + 48]);
    });

    it('a truncated file, compressed or not, and files that are not MAT v5 fail naming the file', async () => {
      for (const [name, keep] of [['svhn_tiny.mat', 1000], ['svhn_tiny_compressed.mat', 700], ['svhn_tiny.mat', 100]] as const) {
        const cut = tmp(`cut-${keep}-${name}`);
        await fs.writeFile(cut, (await fs.readFile(path.join(FIXTURES, name))).subarray(0, keep));
        await rejectsWith(loadDataset(`svhn:${cut}`, { size: 32, cacheDir }), 'DATASET_INVALID', cut, 'truncated');
      }
      const v73 = tmp('v73.mat');
      const header = Buffer.alloc(128, 0x20);
      header.write('MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00');
      await fs.writeFile(v73, header);
      await rejectsWith(loadDataset(`svhn:${v73}`, { size: 32, cacheDir }), 'DATASET_INVALID', v73, '7.3');
      const junk = tmp('junk.mat');
      await fs.writeFile(junk, randomBytes(300));
      await rejectsWith(loadDataset(`svhn:${junk}`, { size: 32, cacheDir }), 'DATASET_INVALID', junk, 'endian indicator');
    });
  });

  describe('folder', () => {
    let dir: string;
    before(async () => {
      dir = tmp('paintings');
      await fs.mkdir(path.join(dir, 'a'), { recursive: true });
      await fs.mkdir(path.join(dir, 'b'), { recursive: true });
      // 300×100: red, green and blue thirds. Short side → 16 makes it 48×16; the centre crop is the green third.
      const wide = Buffer.alloc(300 * 100 * 3);
      for (let y = 0; y < 100; y++) for (let x = 0; x < 300; x++) wide[(y * 300 + x) * 3 + Math.floor(x / 100)] = 255;
      await sharp(wide, { raw: { width: 300, height: 100, channels: 3 } }).png().toFile(path.join(dir, 'a', 'wide.png'));
      await sharp({ create: { width: 20, height: 50, channels: 3, background: { r: 200, g: 100, b: 50 } } })
        .jpeg({ quality: 95 })
        .toFile(path.join(dir, 'b', 'tall.jpg'));
      // Gray + alpha, 40×40: opaque white on the right half, transparent white on the left (→ black).
      const ga = Buffer.alloc(40 * 40 * 2);
      for (let i = 0; i < 40 * 40; i++) (ga[i * 2] = 255), (ga[i * 2 + 1] = i % 40 >= 20 ? 255 : 0);
      await sharp(ga, { raw: { width: 40, height: 40, channels: 2 } }).webp({ lossless: true }).toFile(path.join(dir, 'gray-alpha.webp'));
      await fs.writeFile(path.join(dir, 'broken.jpg'), randomBytes(2000));
      await fs.writeFile(path.join(dir, 'notes.txt'), 'not an image');
      await fs.writeFile(path.join(dir, '.DS_Store'), randomBytes(100));
    });

    it('decodes every readable image in path order, crops the centre, flattens alpha onto black, skips a corrupt file by name', async () => {
      const progress: number[] = [];
      const { result: ds, lines } = await captureWarnings(() =>
        loadDataset(`folder:${dir}`, { size: 16, cacheDir, onProgress: (done, total) => progress.push(done / total) }),
      );
      assert.equal(ds.count, 3);
      assert.equal(ds.channels, 3);
      assert.equal(ds.pixels.length, 3 * 16 * 16 * 3);
      assert.equal(ds.labels, undefined);
      assert.equal(ds.source, `folder ${dir} (3 images, 1 skipped)`);
      assert.equal(ds.skipped?.length, 1);
      assert.match(ds.skipped![0]!, /^broken\.jpg: /);
      const warned = lines.filter((l) => l.includes('broken.jpg'));
      assert.equal(warned.length, 1, lines.join(''));
      assert.ok(!lines.some((l) => l.includes('notes.txt') || l.includes('DS_Store')), lines.join(''));
      assert.equal(progress.at(-1), 1);

      const px = (n: number, y: number, x: number) => Array.from(ds.pixels.subarray(((n * 16 + y) * 16 + x) * 3, ((n * 16 + y) * 16 + x) * 3 + 3));
      // Image 0 is a/wide.png: green away from the crop's edges (lanczos mixes in a little red/blue there).
      for (let y = 0; y < 16; y++) {
        for (let x = 4; x < 12; x++) {
          const [r, g, b] = px(0, y, x) as [number, number, number];
          assert.ok(g >= 250 && r <= 5 && b <= 5, `wide.png (${x},${y}) = ${r},${g},${b}`);
        }
        assert.ok(px(0, y, 0)[1]! > 128 && px(0, y, 15)[1]! > 128, 'the crop edges are mostly green too');
      }
      // Image 1 is b/tall.jpg, a flat colour.
      const [r, g, b] = px(1, 8, 8) as [number, number, number];
      assert.ok(Math.abs(r - 200) < 6 && Math.abs(g - 100) < 6 && Math.abs(b - 50) < 6, `tall.jpg = ${r},${g},${b}`);
      // Image 2 is gray-alpha.webp: black where transparent, white where opaque, replicated to RGB.
      assert.deepEqual(px(2, 8, 2), [0, 0, 0]);
      assert.deepEqual(px(2, 8, 13), [255, 255, 255]);

      const gray = await loadDataset(`folder:${dir}`, { size: 16, channels: 1, cacheDir });
      assert.equal(gray.pixels.length, 3 * 16 * 16);
      assert.equal(gray.pixels[(1 * 16 + 8) * 16 + 8], Math.round(0.299 * r + 0.587 * g + 0.114 * b));
    });

    it('an empty folder, or one without a readable image, is an error', async () => {
      const empty = tmp('empty');
      await fs.mkdir(empty);
      await fs.writeFile(path.join(empty, 'readme.txt'), 'no images here');
      await rejectsWith(loadDataset(`folder:${empty}`, { size: 16, cacheDir }), 'DATASET_INVALID', empty, 'no image files');
      const broken = tmp('all-broken');
      await fs.mkdir(broken);
      await fs.writeFile(path.join(broken, 'x.png'), randomBytes(500));
      await fs.writeFile(path.join(broken, 'y.bmp'), randomBytes(500));
      await rejectsWith(loadDataset(`folder:${broken}`, { size: 16, cacheDir }), 'DATASET_INVALID', 'None of the 2 image files', 'x.png');
    });
  });

  describe('mnist', () => {
    it('all 10,000 digits at 28×28×1 with labels 0..9; at 32×32×3 the shape follows', async () => {
      const ds = await loadDataset('mnist', { size: 28, cacheDir, cache: false });
      assert.equal(ds.count, 10_000);
      assert.equal(ds.size, 28);
      assert.equal(ds.channels, 1);
      assert.equal(ds.pixels.length, 10_000 * 28 * 28);
      assert.equal(ds.source, 'mnist (10,000 test digits)');
      const seen = new Set(ds.labels);
      assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.ok(Math.max(...ds.pixels.subarray(0, 784)) >= 250, 'strokes are near white');

      const rgb = await loadDataset('mnist', { size: 32, channels: 3, cacheDir, cache: false });
      assert.equal(rgb.count, 10_000);
      assert.equal(rgb.pixels.length, 10_000 * 32 * 32 * 3);
      for (const i of [0, 5000 * 1024 + 517, 10_000 * 1024 - 1]) {
        assert.equal(rgb.pixels[i * 3], rgb.pixels[i * 3 + 1]);
        assert.equal(rgb.pixels[i * 3], rgb.pixels[i * 3 + 2]);
      }
      assert.deepEqual(Array.from(rgb.labels!), Array.from(ds.labels!));
    });
  });

  describe('conversion', () => {
    it('resizing many images at once equals resizing each with sharp', async () => {
      for (const [side, size, channels] of [[28, 32, 1], [28, 64, 3], [32, 20, 3], [28, 9, 1]] as const) {
        const count = 4;
        const pixels = Uint8Array.from({ length: count * side * side * channels }, (_, i) => (i * 7919) % 251);
        const together = await resizeSquares(pixels, count, side, channels, size);
        for (let n = 0; n < count; n++) {
          const one = pixels.subarray(n * side * side * channels, (n + 1) * side * side * channels);
          let p = sharp(one, { raw: { width: side, height: side, channels } }).resize(size, size, { kernel: 'lanczos3', fit: 'fill' });
          if (channels === 1) p = p.toColourspace('b-w');
          const alone = await p.raw().toBuffer();
          const mine = together.subarray(n * size * size * channels, (n + 1) * size * size * channels);
          assert.ok(Buffer.from(mine).equals(alone), `${side}→${size}×${channels}, image ${n}`);
        }
      }
    });

    it('gray → RGB replicates, RGB → gray is luminance', () => {
      assert.deepEqual(Array.from(convertChannels(Uint8Array.of(7, 200), 2, 1, 3)), [7, 7, 7, 200, 200, 200]);
      assert.deepEqual(Array.from(convertChannels(Uint8Array.of(255, 0, 0, 0, 255, 0, 10, 20, 30), 3, 3, 1)), [76, 150, 18]);
    });
  });

  describe('cache', () => {
    it('a second load reads the cache; a changed source or a corrupt cache file is prepared again', async () => {
      const dir = tmp('cached');
      const images = await writeIdxPair(dir, true);
      const dsCache = tmp('cache-test');
      const first = await loadDataset(`idx:${dir}`, { size: 10, channels: 3, cacheDir: dsCache });
      assert.equal(first.fromCache, false);
      const second = await loadDataset(`idx:${dir}`, { size: 10, channels: 3, cacheDir: dsCache });
      assert.equal(second.fromCache, true);
      assert.deepEqual(second, { ...first, fromCache: true });
      const files = await fs.readdir(dsCache);
      assert.equal(files.length, 1);
      const cacheFile = path.join(dsCache, files[0]!);

      // Flip one pixel byte: the checksum catches it, a warning says so, the dataset is rebuilt.
      const bytes = await fs.readFile(cacheFile);
      bytes[bytes.length - IDX_COUNT * 4 - 1]! ^= 0xff;
      await fs.writeFile(cacheFile, bytes);
      const { result: rebuilt, lines } = await captureWarnings(() => loadDataset(`idx:${dir}`, { size: 10, channels: 3, cacheDir: dsCache }));
      assert.equal(rebuilt.fromCache, false);
      assert.deepEqual(rebuilt.pixels, first.pixels);
      assert.ok(lines.some((l) => l.includes('ignoring the dataset cache') && l.includes(cacheFile)), lines.join(''));
      assert.equal((await loadDataset(`idx:${dir}`, { size: 10, channels: 3, cacheDir: dsCache })).fromCache, true);

      // Truncated cache file: rebuilt too.
      await fs.truncate(cacheFile, 100);
      assert.equal((await loadDataset(`idx:${dir}`, { size: 10, channels: 3, cacheDir: dsCache })).fromCache, false);

      // The source changes (new mtime and content): prepared again, and the stale cache file is removed.
      const changed = Uint8Array.from(idxPixels, (v) => 255 - v);
      await fs.writeFile(images, zlib.gzipSync(idxFile([IDX_COUNT, IDX_SIDE, IDX_SIDE], changed)));
      await fs.utimes(images, new Date(), new Date(Date.now() + 5000));
      const fresh = await loadDataset(`idx:${dir}`, { size: 10, channels: 3, cacheDir: dsCache });
      assert.equal(fresh.fromCache, false);
      assert.notDeepEqual(fresh.pixels, first.pixels);
      assert.equal((await fs.readdir(dsCache)).length, 1);

      // Another size is another cache file.
      await loadDataset(`idx:${dir}`, { size: 8, cacheDir: dsCache });
      assert.equal((await fs.readdir(dsCache)).length, 2);
    });
  });

  describe('batches', () => {
    const ds: ImageDataset = {
      count: 10,
      size: 3,
      channels: 3,
      pixels: Uint8Array.from({ length: 10 * 27 }, (_, i) => (i * 13) % 256),
      labels: Int32Array.from({ length: 10 }, (_, i) => 100 + i),
      source: 'test',
    };

    it('epochOrder is a permutation, the same for the same (seed, epoch), different across epochs and seeds', () => {
      const a = epochOrder(1000, 42, 3);
      assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
      assert.deepEqual(epochOrder(1000, 42, 3), a);
      assert.notDeepEqual(epochOrder(1000, 42, 4), a);
      assert.notDeepEqual(epochOrder(1000, 43, 3), a);
      assert.equal(epochOrder(0, 1, 1).length, 0);
    });

    it('batchAt gives float32 NHWC in [-1, 1] matching the pixels, and the labels', () => {
      const order = epochOrder(ds.count, 7, 0);
      const { images, labels } = batchAt(ds, order, 4, 3);
      assert.equal(images.length, 3 * 27);
      for (let b = 0; b < 3; b++) {
        const idx = order[4 + b]!;
        assert.equal(labels![b], 100 + idx);
        for (let j = 0; j < 27; j++) {
          const v = images[b * 27 + j]!;
          assert.ok(v >= -1 && v <= 1);
          assert.ok(Math.abs(v - (ds.pixels[idx * 27 + j]! / 127.5 - 1)) < 1e-6);
        }
      }
      assert.throws(() => batchAt(ds, order, 8, 3), RangeError);
      const unlabelled = batchAt({ ...ds, labels: undefined }, order, 0, 2);
      assert.equal(unlabelled.labels, undefined);
    });

    it('mirror and invert are deterministic per (seed, position) and do what they say', () => {
      const order = epochOrder(ds.count, 1, 0);
      const plain = batchAt(ds, order, 0, 10).images;
      const aug = batchAt(ds, order, 0, 10, { mirror: true, invert: true, seed: 5 }).images;
      assert.deepEqual(batchAt(ds, order, 0, 10, { mirror: true, invert: true, seed: 5 }).images, aug);
      // Each image is one of the four variants of the plain one, and over 10 images both choices happen.
      let mirrored = 0;
      let inverted = 0;
      for (let b = 0; b < 10; b++) {
        const p = plain.subarray(b * 27, (b + 1) * 27);
        const a = aug.subarray(b * 27, (b + 1) * 27);
        const flip = (img: Float32Array) => img.map((_, j) => img[Math.floor(j / 9) * 9 + (2 - (Math.floor(j / 3) % 3)) * 3 + (j % 3)]!);
        const candidates = [
          [p, false, false],
          [flip(p), true, false],
          [p.map((v) => -v), false, true],
          [flip(p).map((v) => -v), true, true],
        ] as const;
        const match = candidates.find(([c]) => c.every((v, j) => Math.abs(v - a[j]!) < 1e-6));
        assert.ok(match, `image ${b} is a mirror/invert of the original`);
        if (match[1]) mirrored++;
        if (match[2]) inverted++;
      }
      assert.ok(mirrored > 0 && mirrored < 10 && inverted > 0 && inverted < 10, `mirrored ${mirrored}, inverted ${inverted}`);
      // A batch taken from the middle makes the same choices as the same positions in a whole-epoch batch.
      assert.deepEqual(batchAt(ds, order, 4, 3, { mirror: true, invert: true, seed: 5 }).images, aug.subarray(4 * 27, 7 * 27));
      assert.notDeepEqual(batchAt(ds, order, 0, 10, { mirror: true, invert: true, seed: 6 }).images, aug);
    });

    it('stepsPerEpoch drops the last partial batch and refuses a batch larger than the dataset', async () => {
      assert.equal(stepsPerEpoch(ds, 3), 3);
      assert.equal(stepsPerEpoch(ds, 10), 1);
      assert.throws(() => stepsPerEpoch(ds, 11), /larger than the dataset/);
      assert.throws(() => stepsPerEpoch(ds, 0), /positive integer/);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// A tiny MAT v5 writer for the cases scipy does not write (big-endian, double data stored as uint8).

function element(le: boolean, type: number, data: Uint8Array): Uint8Array {
  if (data.length <= 4) {
    const out = Buffer.alloc(8);
    if (le) out.writeUInt32LE(((data.length << 16) | type) >>> 0, 0);
    else out.writeUInt32BE(((data.length << 16) | type) >>> 0, 0);
    out.set(data, 4);
    return out;
  }
  const out = Buffer.alloc(8 + Math.ceil(data.length / 8) * 8);
  if (le) (out.writeUInt32LE(type, 0), out.writeUInt32LE(data.length, 4));
  else (out.writeUInt32BE(type, 0), out.writeUInt32BE(data.length, 4));
  out.set(data, 8);
  return out;
}

function uint32s(le: boolean, values: number[], signed = false): Uint8Array {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => (signed ? (le ? out.writeInt32LE(v, i * 4) : out.writeInt32BE(v, i * 4)) : le ? out.writeUInt32LE(v, i * 4) : out.writeUInt32BE(v, i * 4)));
  return out;
}

function int16be(values: number[]): Uint8Array {
  const out = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => out.writeInt16BE(v, i * 2));
  return out;
}

function matMatrix(le: boolean, name: string, classNumber: number, dims: number[], real: Uint8Array): Uint8Array {
  const body = Buffer.concat([
    element(le, 6, uint32s(le, [classNumber, 0])),
    element(le, 5, uint32s(le, dims, true)),
    element(le, 1, Buffer.from(name, 'latin1')),
    real,
  ]);
  return element(le, 14, body);
}

function matFile(le: boolean, elements: Uint8Array[]): Uint8Array {
  const header = Buffer.alloc(128, 0x20);
  header.write('MATLAB 5.0 MAT-file, written by the rhodops tests');
  header.fill(0, 116, 124);
  if (le) header.writeUInt16LE(0x0100, 124);
  else header.writeUInt16BE(0x0100, 124);
  header.write(le ? 'IM' : 'MI', 126, 'latin1');
  return Buffer.concat([header, ...elements]);
}
