// The projector page for real: a server on port 0, headless Chromium (WebGL2 on SwiftShader) on /output,
// and a test client on the same server recording the frames the page was sent, to compare pixels with.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import type { OutputStats, ProbeResult } from '../client/src/output/hooks.ts';
import type { DisplaySettings } from '../client/src/lib/protocol.ts';
import { setLogLevel } from '../core/log.ts';
import { FRAME_FORMAT_JPEG, FRAME_FORMAT_RGB } from '../protocol/frames.ts';
import type { Server } from '../server/server.ts';
import { launchChromium, openPage, screenshot } from './helpers/browser.ts';
import { bigModel, sleep, startTestServer, tempRoot, TestClient, type ReceivedFrame } from './helpers/server.ts';
import { randomWeights } from './helpers/models.ts';
import { saveModelCheckpoint } from '../core/checkpoint/from-model.ts';
import { infoganArch } from '../core/models/architectures.ts';
import { cameraMatrix, type Camera } from '../core/camera.ts';
import { DEFAULT_DISPLAY } from '../protocol/display.ts';
import { Look } from '../render/look.ts';

type Rgb = [number, number, number];

/** Exactly what a projector needs to show the frames' own pixels: no blend, no filter, no effects. */
const PLAIN: Partial<DisplaySettings> = { blend: false, upscale: 'nearest', sharpen: 0, trails: 0, fit: 'stretch', brightness: 0, contrast: 1, saturation: 1, hue: 0, gamma: 1 };

const stats = (page: Page) => page.evaluate(() => window.rhodopsOutput!.stats());
const probe = (page: Page, points: [number, number][]) => page.evaluate((p) => window.rhodopsOutput!.probe(p), points);

async function waitStats(page: Page, what: string, pred: (s: OutputStats) => boolean, timeoutMs = 10000): Promise<OutputStats> {
  const start = performance.now();
  let last: OutputStats | null = null;
  for (;;) {
    last = await page.evaluate(() => window.rhodopsOutput?.stats() ?? null);
    if (last && pred(last)) return last;
    if (performance.now() - start > timeoutMs) throw new Error(`the output page: no ${what} within ${timeoutMs} ms; stats ${JSON.stringify(last)}`);
    await sleep(50);
  }
}

/** A test client's frame by sequence number (it may arrive a moment after the page's). */
async function frameBySeq(c: TestClient, seq: number): Promise<ReceivedFrame> {
  for (let i = 0; i < 100; i++) {
    const f = c.frames.find((x) => x.header.seq === seq);
    if (f) return f;
    await sleep(20);
  }
  throw new Error(`the test client never got frame ${seq} (it has ${c.frames[0]?.header.seq}…${c.frames.at(-1)?.header.seq})`);
}

/** A frame's RGB pixels, decoding JPEGs as a second decoder (sharp/libvips) would. */
async function rgbOf(f: ReceivedFrame): Promise<Uint8Array> {
  if (f.header.format === FRAME_FORMAT_RGB) return f.payload;
  assert.equal(f.header.format, FRAME_FORMAT_JPEG, `frame format ${f.header.format}`);
  const { data, info } = await sharp(f.payload).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [f.header.width, f.header.height, 3]);
  return data;
}

const pixelAt = (rgb: Uint8Array, width: number, x: number, y: number): Rgb => {
  const i = (y * width + x) * 3;
  return [rgb[i]!, rgb[i + 1]!, rgb[i + 2]!];
};

/** An n × n grid of source pixels spread over a w × h frame, and their centres in normalized canvas coords (stretch). */
function grid(w: number, h: number, n: number): { src: [number, number][]; points: [number, number][] } {
  const src: [number, number][] = [];
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) src.push([Math.floor(((i + 0.5) * w) / n), Math.floor(((j + 0.5) * h) / n)]);
  return { src, points: src.map(([x, y]) => [(x + 0.5) / w, (y + 0.5) / h]) };
}

/**
 * A 28² InfoGAN in colour with random weights (like the server tests' tiny model, which is grey): raw RGB
 * frames whose three channels differ, so colour effects and channel order show.
 */
async function colourModel(dir: string, name = 'colour', seed = 1): Promise<string> {
  const arch = infoganArch(28, { channels: 3, noise: 6, categorical: [3], continuous: 1, fcUnits: 32, widths: [16, 8] });
  const weights = randomWeights(arch, seed);
  // Larger than DCGAN's initial weights, so every latent entry (and the drift) visibly moves the picture.
  for (const [k, w] of weights) if (k.endsWith('/w')) w.data = w.data.map((v) => v * 15);
  const out = path.join(dir, name);
  await saveModelCheckpoint(out, arch, weights, { name });
  return out;
}

const maxDiff = (a: Rgb, b: Rgb) => Math.max(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]), Math.abs(a[2] - b[2]));

describe('output page', () => {
  let root: string;
  let browser: Browser;
  before(async () => {
    setLogLevel('silent');
    root = await tempRoot('rhodops-output-');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  /** A server, a recording test client and the output page on it; all closed after `body`, pass or fail. */
  async function withSetup(
    name: string,
    o: { server?: Parameters<typeof startTestServer>[1]; viewport?: { width: number; height: number }; query?: string; display?: Partial<DisplaySettings>; drift?: number },
    body: (x: { server: Server; client: TestClient; page: Page; errors: string[] }) => Promise<void>,
  ): Promise<void> {
    const dir = path.join(root, name);
    const model = o.server?.model ?? (await colourModel(path.join(dir, 'models')));
    const server = await startTestServer(dir, { ...o.server, model });
    const client = await TestClient.connect(server);
    let page: Page | null = null;
    try {
      if (o.display) client.send({ type: 'display', settings: o.display });
      if (o.drift) client.send({ type: 'drift', speed: o.drift });
      const opened = await openPage(browser, `${server.url}output${o.query ?? ''}`, o.viewport);
      page = opened.page;
      await body({ server, client, page, errors: opened.errors });
      assert.deepEqual(opened.errors, [], 'the page logged errors');
    } finally {
      await page?.close();
      client.close();
      await server.close();
    }
  }

  /** Probes source pixels of the shown frame and compares them with the frame the server sent under that seq. */
  async function comparePixels(page: Page, client: TestClient, tolerance: number, rounds: number) {
    let worst = 0;
    let sumDiff = 0;
    let n = 0;
    let differsFromNeighbour = 0;
    const seqs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const s = await stats(page);
      const g = grid(s.frameWidth, s.frameHeight, 9);
      const p = await probe(page, g.points);
      assert.equal(p.seqA, p.seqB, 'blend off shows one frame');
      assert.equal(p.t, 1);
      const f = await frameBySeq(client, p.seqA);
      const rgb = await rgbOf(f);
      const other = client.frames.find((x) => x.header.seq === p.seqA - 3);
      const otherRgb = other ? await rgbOf(other) : null;
      for (const [k, [x, y]] of g.src.entries()) {
        const want = pixelAt(rgb, f.header.width, x, y);
        const got = p.pixels[k]!;
        const d = maxDiff(got, want);
        assert.ok(d <= tolerance, `frame ${p.seqA}, source pixel (${x}, ${y}): the page shows ${got.join(',')}, the server sent ${want.join(',')}`);
        worst = Math.max(worst, d);
        sumDiff += d;
        n++;
        if (otherRgb && maxDiff(pixelAt(otherRgb, f.header.width, x, y), want) > tolerance) differsFromNeighbour++;
      }
      seqs.push(p.seqA);
      await sleep(150);
    }
    // Otherwise a page showing the wrong frame would pass: the frames must differ where probed.
    assert.ok(differsFromNeighbour > 0, 'the frames 3 apart are alike at every probed pixel: the drift did not move the picture, so the comparison proves little');
    return { worst, meanDiff: sumDiff / n, seqs };
  }

  it('shows the frames the server sent, pixel for pixel (28² raw RGB)', async () => {
    await withSetup('raw', { display: PLAIN, drift: 2 }, async ({ page, client }) => {
      const s = await waitStats(page, 'frames in plain display settings', (x) => x.framesShown > 5 && x.settings.blend === false && x.settings.upscale === 'nearest' && x.settings.fit === 'stretch');
      assert.deepEqual([s.frameWidth, s.frameHeight], [28, 28]);
      const r = await comparePixels(page, client, 2, 4);
      assert.ok(new Set(r.seqs).size > 1, `probes showed frames ${r.seqs.join(', ')}: the picture did not move`);
      await screenshot(page, 'output-plain');
      // The smooth filters pass through the source pixels at their centres (probes land within 0.02 pixel of
      // them): a half-pixel shift or a flipped axis would show on these noisy frames as large differences.
      for (const upscale of ['bilinear', 'bicubic'] as const) {
        client.send({ type: 'display', settings: { upscale } });
        await waitStats(page, upscale, (x) => x.settings.upscale === upscale);
        const f = await comparePixels(page, client, 16, 2);
        assert.ok(f.meanDiff < 4, `${upscale}: mean difference ${f.meanDiff.toFixed(2)} at the source pixels' centres`);
      }
    });
  });

  it('shows the frames the server sent (256² JPEG, decoded by the browser and by sharp)', async () => {
    const dir = path.join(root, 'jpeg-model');
    const model = await bigModel(dir);
    await withSetup('jpeg', { server: { model }, display: PLAIN, drift: 2 }, async ({ page, client }) => {
      const s = await waitStats(page, 'JPEG frames', (x) => x.framesShown > 3 && x.settings.blend === false && x.settings.fit === 'stretch', 20000);
      assert.deepEqual([s.frameWidth, s.frameHeight], [256, 256]);
      // Two JPEG decoders (Chromium's and sharp's libjpeg-turbo): identical here, but another build may round
      // the IDCT or chroma upsampling differently by a few levels.
      const r = await comparePixels(page, client, 8, 3);
      assert.ok(r.meanDiff < 2, `mean difference ${r.meanDiff.toFixed(2)} per pixel: more than decoder rounding`);
    });
  });

  it('blends: more distinct pictures than frames received, and blended pixels lie between two frames', async () => {
    const display = { ...PLAIN, blend: true };
    await withSetup('blend', { server: { fps: 6 }, display, drift: 2 }, async ({ page, client }) => {
      await waitStats(page, 'blending at 6 fps', (x) => x.framesShown > 6 && x.settings.blend);
      await sleep(2000);
      const s = await stats(page);
      assert.ok(s.receivedFps > 0, 'frames arrive');
      assert.ok(s.displayFps > 2 * s.receivedFps, `displayed ${s.displayFps.toFixed(1)} distinct pictures/s for ${s.receivedFps.toFixed(1)} received`);
      const g = grid(28, 28, 7);
      let blended = 0;
      let strictlyBetween = 0;
      let shot = false;
      for (let i = 0; i < 30 && blended < 6; i++) {
        const p: ProbeResult = await probe(page, g.points);
        if (!(p.t > 0.05 && p.t < 0.95) || p.seqA === p.seqB) {
          await sleep(37);
          continue;
        }
        blended++;
        const a = await rgbOf(await frameBySeq(client, p.seqA));
        const b = await rgbOf(await frameBySeq(client, p.seqB));
        for (const [k, [x, y]] of g.src.entries()) {
          const pa = pixelAt(a, 28, x, y);
          const pb = pixelAt(b, 28, x, y);
          const want = [0, 1, 2].map((c) => pa[c]! + p.t * (pb[c]! - pa[c]!)) as Rgb;
          const got = p.pixels[k]!;
          assert.ok(maxDiff(got, want) <= 2, `frame ${p.seqA}→${p.seqB} at t ${p.t.toFixed(3)}, pixel (${x}, ${y}): shown ${got.join(',')}, expected ${want.map((v) => v.toFixed(1)).join(',')} between ${pa.join(',')} and ${pb.join(',')}`);
          if (maxDiff(pa, pb) > 20 && maxDiff(got, pa) > 3 && maxDiff(got, pb) > 3) strictlyBetween++;
        }
        if (!shot) {
          await screenshot(page, 'output-blend');
          shot = true;
        }
        await sleep(37);
      }
      assert.ok(blended >= 3, `only ${blended} of the probes fell between two frames`);
      assert.ok(strictlyBetween > 0, 'no probed pixel was strictly between two different frames');
    });
  });

  it('follows display settings from a control message; URL parameters override them on one page', async () => {
    const viewport = { width: 800, height: 400 };
    await withSetup('settings', { viewport, display: { ...PLAIN, fit: 'fit' } }, async ({ server, client, page }) => {
      await waitStats(page, 'fit', (x) => x.framesShown > 2 && x.settings.fit === 'fit');
      // A square frame on a 2:1 screen: fit leaves bars left and right, fill crops top and bottom.
      const inside: [number, number][] = [[0.5, 0.5], [0.4, 0.3], [0.6, 0.7], [0.3, 0.9]];
      const bar: [number, number][] = [[0.03, 0.5], [0.97, 0.2]];
      client.send({ type: 'display', settings: { brightness: 1 } });
      await waitStats(page, 'brightness 1', (x) => x.settings.brightness === 1);
      let p = await probe(page, [...inside, ...bar]);
      for (const [k, px] of p.pixels.slice(0, inside.length).entries()) assert.ok(Math.min(...px) >= 250, `brightness 1: the picture at ${inside[k]!.join(',')} is ${px.join(',')}, not white`);
      for (const [k, px] of p.pixels.slice(inside.length).entries()) assert.deepEqual(px, [0, 0, 0], `fit: the bar at ${bar[k]!.join(',')} is ${px.join(',')}, not black`);
      await screenshot(page, 'output-fit-bright');

      client.send({ type: 'display', settings: { fit: 'fill' } });
      await waitStats(page, 'fill', (x) => x.settings.fit === 'fill');
      p = await probe(page, bar);
      for (const [k, px] of p.pixels.entries()) assert.ok(Math.min(...px) >= 250, `fill: ${bar[k]!.join(',')} is ${px.join(',')}: still a bar`);

      // Saturation 0: every pixel the Rec. 709 luma of the frame's (the colour stage's matrix, exactly).
      client.send({ type: 'display', settings: { brightness: 0, fit: 'stretch', saturation: 0 } });
      await waitStats(page, 'saturation 0', (x) => x.settings.saturation === 0 && x.settings.fit === 'stretch' && x.settings.brightness === 0);
      const g = grid(28, 28, 6);
      p = await probe(page, g.points);
      const rgb = await rgbOf(await frameBySeq(client, p.seqB));
      let coloured = 0;
      for (const [k, [x, y]] of g.src.entries()) {
        const [r, gr, b] = pixelAt(rgb, 28, x, y);
        const luma = 0.2126 * r + 0.7152 * gr + 0.0722 * b;
        const got = p.pixels[k]!;
        assert.ok(maxDiff(got, [luma, luma, luma]) <= 2, `saturation 0 at (${x}, ${y}): ${got.join(',')} for ${r},${gr},${b} (luma ${luma.toFixed(1)})`);
        if (maxDiff([r, gr, b], [luma, luma, luma]) > 10) coloured++;
      }
      assert.ok(coloured > 0, 'the probed pixels were grey already: the check proves nothing');

      // The status overlay on a key, with the server's figures.
      await page.keyboard.press('s');
      await sleep(1300);
      const text = await page.locator('#status').innerText();
      assert.match(text, /connected/);
      assert.match(text, /colour \(infogan, 28×28/);
      assert.match(text, /server +\d+\.\d fps/, `no server figures in the overlay:\n${text}`);
      await screenshot(page, 'output-status');
      await page.keyboard.press('s');
      assert.equal(await page.locator('#status').isVisible(), false, 's again hides the overlay');

      // Another page with a URL override: its own brightness, while the server's stays 1.
      const other = await openPage(browser, `${server.url}output?brightness=-1&fit=stretch`, viewport);
      try {
        const s = await waitStats(other.page, 'frames on the overriding page', (x) => x.framesShown > 2 && x.settings.brightness === -1);
        assert.equal(s.settings.fit, 'stretch');
        const q = await probe(other.page, inside);
        for (const px of q.pixels) assert.deepEqual(px, [0, 0, 0], 'brightness -1 (URL) makes black');
        assert.deepEqual(other.errors, []);
      } finally {
        await other.page.close();
      }
    });
  });

  it('draws the camera moves each frame carries as render/look.ts draws them: zoom, turn, flash, punch', async () => {
    // LFOs move all four at once, at unrelated rates; each frame's header says where they were.
    const lfo = (rate: number, move: string, out: [number, number]) => ({ source: { kind: 'lfo', rate }, transform: { out }, target: { kind: 'camera', move } });
    const mapping = { version: 1, name: 'camera', routes: [lfo(0.37, 'zoom', [0, 1]), lfo(0.23, 'rotate', [-1, 1]), lfo(0.5, 'flash', [0, 0.6]), lfo(0.29, 'contrast', [0, 1])] };
    const side = 280;
    await withSetup('camera', { display: PLAIN, drift: 2, query: '?scale=1', viewport: { width: side, height: side } }, async ({ page, client }) => {
      client.send({ type: 'mapping', mapping });
      await waitStats(page, 'frames in plain settings', (x) => x.framesShown > 5 && x.settings.upscale === 'nearest' && x.settings.fit === 'stretch' && x.settings.blend === false);
      const look = new Look(DEFAULT_DISPLAY, 30);
      const n = 9;
      const points: [number, number][] = [];
      for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) points.push([(i + 0.5) / n, (j + 0.5) / n]);
      let compared = 0;
      let moved = 0;
      const cameras: Camera[] = [];
      for (let round = 0; round < 6; round++) {
        const p = await probe(page, points);
        const f = await frameBySeq(client, p.seqB);
        const rgb = await rgbOf(f);
        const { width: w, height: h, camera } = f.header;
        cameras.push(camera);
        const m: number[] = [];
        cameraMatrix(camera, w / h, m);
        const mirror = (u: number) => 1 - Math.abs((((u % 2) + 2) % 2) - 1);
        for (const [k, [sx, sy]] of points.entries()) {
          // Screen point → frame point (stretch, y down) → where the camera samples → the nearest texel(s).
          const u = mirror(m[0]! * (sx - 0.5) + m[1]! * (sy - 0.5) + 0.5) * w;
          const v = mirror(m[2]! * (sx - 0.5) + m[3]! * (sy - 0.5) + 0.5) * h;
          const near = (c: number, size: number) => [...new Set([Math.floor(c - 0.15), Math.floor(c + 0.15)].map((t) => Math.min(size - 1, Math.max(0, t))))];
          const wants = near(u, w).flatMap((x) => near(v, h).map((y) => pixelAt(rgb, w, x, y)).map((px) => {
            const one = Uint8Array.from(px);
            look.colour(one, camera);
            return [one[0]!, one[1]!, one[2]!] as Rgb;
          }));
          const got = p.pixels[k]!;
          const best = Math.min(...wants.map((want) => maxDiff(got, want)));
          assert.ok(best <= 3, `frame ${p.seqB} with camera ${JSON.stringify(camera)}, screen point (${sx.toFixed(3)}, ${sy.toFixed(3)}): the page shows ${got.join(',')}, render/look.ts makes ${wants.map((x) => x.join(',')).join(' or ')}`);
          compared++;
          const unmoved = pixelAt(rgb, w, Math.floor(sx * w), Math.floor(sy * h));
          if (maxDiff(got, unmoved) > 20) moved++;
        }
        await sleep(200);
      }
      assert.ok(compared >= 5 * n * n);
      // Otherwise a page that ignored the camera (or a still one) would pass.
      // Each move is exercised by some compared frame (the LFOs are out of phase, so not all in one frame; on a
      // loaded machine the frames compared fall wherever they fall).
      assert.ok(cameras.some((c) => Math.abs(c.rotate) > 0.2) && cameras.some((c) => c.zoom > 0.1) && cameras.some((c) => c.flash > 0.1), `the camera barely moved: ${JSON.stringify(cameras)}`);
      assert.ok(moved > compared / 4, `only ${moved} of ${compared} probed pixels differ from the frame without the camera`);
      await screenshot(page, 'output-camera');
    });
  });

  it('draws the effects (bicubic, sharpen, trails, colour) without errors; saves the screenshots', async () => {
    // A smaller window: SwiftShader draws on this machine's CPU, and these shaders do the most per pixel.
    await withSetup('effects', { drift: 2, viewport: { width: 640, height: 480 } }, async ({ client, page }) => {
      const s = await waitStats(page, 'frames with the server’s default settings', (x) => x.framesShown > 10);
      assert.equal(s.settings.upscale, 'bicubic', 'the server’s default settings apply');
      await sleep(500);
      await screenshot(page, 'output');
      const before = await probe(page, [[0.5, 0.5]]);
      client.send({ type: 'display', settings: { sharpen: 1.5, trails: 0.9, hue: 120, saturation: 1.6, contrast: 1.2, gamma: 1.3 } });
      await waitStats(page, 'effects', (x) => x.settings.trails === 0.9 && x.settings.hue === 120);
      const on = await stats(page);
      const after = await waitStats(page, 'new pictures with the effects on', (x) => x.framesShown > on.framesShown + 5);
      const p = await probe(page, [[0.5, 0.5]]);
      assert.ok(p.seqB > before.seqB, 'the picture moves on');
      await screenshot(page, 'output-effects');
      // Trails are feedback: the frames held and the textures idle stay bounded however long it runs.
      assert.ok(after.textures.live <= 4 && after.textures.idle <= 2, `textures ${JSON.stringify(after.textures)}`);
    });
  });

  it('reconnects by itself when the server restarts on the same port, and shows the new server’s frames', async () => {
    const dir = path.join(root, 'restart');
    let server: Server | null = await startTestServer(dir);
    const port = Number(new URL(server.url).port);
    let client = await TestClient.connect(server);
    client.send({ type: 'display', settings: PLAIN });
    const { page, errors } = await openPage(browser, `${server.url}output`);
    try {
      await waitStats(page, 'frames from the first server', (x) => x.framesShown > 10 && x.settings.blend === false);
      const first = await stats(page);
      const pts = grid(28, 28, 5).points;
      const last = await probe(page, pts);
      client.close();
      const stopped = server;
      server = null;
      await stopped.close();
      await sleep(2600);
      const away = await stats(page);
      assert.equal(away.connected, false);
      assert.equal(await page.locator('#note').isVisible(), true, 'a “reconnecting” note after 2 s away');
      const kept = await probe(page, pts);
      assert.deepEqual(kept.pixels, last.pixels, 'the last picture stays while the server is away');

      // Another model on the new server: its frames look different, so the page must be showing them.
      const model = await colourModel(path.join(dir, 'models'), 'other', 9);
      server = await startTestServer(dir, { port, model });
      client = await TestClient.connect(server);
      client.send({ type: 'display', settings: PLAIN });
      const s = await waitStats(page, 'frames from the restarted server', (x) => x.connects >= 2 && x.framesShown > first.framesShown + 5 && x.settings.blend === false, 15000);
      assert.ok(s.connected);
      assert.equal(await page.locator('#note').isVisible(), false, 'the note goes once reconnected');
      const p = await probe(page, pts);
      const f = await frameBySeq(client, p.seqA);
      for (const [k, got] of p.pixels.entries()) {
        const [x, y] = [Math.floor(pts[k]![0] * 28), Math.floor(pts[k]![1] * 28)];
        const want = pixelAt(f.payload, 28, x, y);
        assert.ok(maxDiff(got, want) <= 2, `after the restart, pixel (${x}, ${y}) shows ${got.join(',')}; the new server sent ${want.join(',')}`);
      }
      // The browser reports refused connections while the server is down: the only errors allowed here.
      const unexpected = errors.filter((e) => !/WebSocket connection to .* failed/.test(e));
      assert.deepEqual(unexpected, [], 'the page logged errors');
    } finally {
      await page.close();
      client.close();
      await server?.close();
    }
  });
});
