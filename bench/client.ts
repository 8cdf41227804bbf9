/**
 * Client figures: the output page in headless Chromium (WebGL2 on SwiftShader, i.e. on this machine's CPU,
 * sharing it with the server) against servers playing random-weight PGGANs at 256² and 512² (JPEG frames),
 * blend on, with the server's default filter (bicubic) and with nearest. For each, over a window:
 * frames the server made, frames the page received, distinct pictures it drew, frames that reached the
 * screen, and capture→display delay percentiles (server and page share a clock here, so they are exact).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { saveModelCheckpoint } from '../core/checkpoint/from-model.ts';
import { generatorSpecs } from '../core/models/generator.ts';
import { initWeights } from '../core/models/params.ts';
import { pgganArch } from '../core/models/architectures.ts';
import WebSocket from 'ws';
import { Server } from '../server/server.ts';
import type { OutputStats } from '../client/src/output/hooks.ts';
import type { Browser } from 'playwright-core';
import { launchChromium, openPage } from '../test/helpers/browser.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface ClientBenchRow {
  model: string;
  size: number;
  upscale: string;
  seconds: number;
  viewport: string;
  /** The server's target and what it made (its seq over the window). */
  targetFps: number;
  serverFps: number;
  engineMs: number;
  receivedFps: number;
  /** Distinct pictures drawn per second (new frame or new blend position). */
  displayedFps: number;
  /** Received frames that reached the screen per second. */
  shownFps: number;
  droppedFrames: number;
  /** The render scale the page settled on (adaptive: below 1 when the GPU could not draw in time). */
  renderScale: number;
  /** The page's moving averages: arrival → decoded, and texture upload. */
  decodeMs: number;
  uploadMs: number;
  delayP50Ms: number;
  delayP95Ms: number;
  /** The page's playout delay (beyond the fastest transit) at the end: what its jitter estimate asked for. */
  playoutDelayMs: number;
  blend: boolean;
  pageErrors: number;
}

/** A narrow PGGAN with random weights at `size`² (speed does not depend on the weights; JPEGs of noise are large). */
async function pgganNarrow(dir: string, size: number): Promise<string> {
  const arch = pgganArch('narrow', size, { latentSize: 32 });
  const out = path.join(dir, `pggan-narrow-${size}`);
  await saveModelCheckpoint(out, arch, initWeights(generatorSpecs(arch), 3), { name: `pggan-narrow-${size}` });
  return out;
}

/** The page as the server sets it (bicubic), and with the cheapest filter: the difference is SwiftShader's fill cost. */
const CONFIGS = [
  { label: 'bicubic', query: '' },
  { label: 'nearest', query: '?upscale=nearest' },
];

async function measurePage(server: Server, browser: Browser, o: { query: string; seconds: number; warmMs: number; viewport: { width: number; height: number } }) {
  const { page, errors } = await openPage(browser, `${server.url}output${o.query}`, o.viewport);
  try {
    const stats = () => page.evaluate(() => window.rhodopsOutput!.stats());
    const start = performance.now();
    while ((await stats()).framesShown < 5) {
      if (performance.now() - start > 30000) throw new Error(`the output page showed no frames within 30 s${errors.length ? `: ${errors.join('; ')}` : ''}`);
      await sleep(100);
    }
    await sleep(o.warmMs);
    const a: OutputStats = await stats();
    const seqA = server.loop.stats().seq;
    const t0 = performance.now();
    await sleep(o.seconds * 1000);
    const b: OutputStats = await stats();
    const seqB = server.loop.stats().seq;
    const secs = (performance.now() - t0) / 1000;
    return { a, b, secs, serverFps: (seqB - seqA) / secs, errors: [...errors] };
  } finally {
    await page.close();
  }
}

export async function benchClient(opts: { quick: boolean; sizes?: number[] }, say: (m: string) => void): Promise<ClientBenchRow[]> {
  const seconds = opts.quick ? 4 : 10;
  const viewport = { width: 1280, height: 720 };
  const targetFps = 30;
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-bench-client-'));
  const browser = await launchChromium();
  const rows: ClientBenchRow[] = [];
  try {
    for (const size of opts.sizes ?? [256, 512]) {
      const model = await pgganNarrow(tmp, size);
      const server = await Server.start({ model, port: 0, fps: targetFps, presetDir: path.join(tmp, 'presets'), recordingsDir: path.join(tmp, 'rec'), mappingDir: path.join(tmp, 'mappings'), modelDirs: [], midi: 'none' });
      // The picture moves (drift), as on stage.
      const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}ws`);
      try {
        await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
        ws.send(JSON.stringify({ type: 'drift', speed: 1 }));
        for (const c of CONFIGS) {
          const m = await measurePage(server, browser, { query: c.query, seconds, warmMs: opts.quick ? 1000 : 2000, viewport });
          const { a, b, secs } = m;
          const row: ClientBenchRow = {
            model: `pggan-narrow-${size}`,
            size,
            upscale: b.settings.upscale,
            seconds: secs,
            viewport: `${viewport.width}×${viewport.height}`,
            targetFps,
            serverFps: m.serverFps,
            engineMs: server.loop.stats().engineMs,
            receivedFps: (b.framesReceived - a.framesReceived) / secs,
            displayedFps: (b.framesDisplayed - a.framesDisplayed) / secs,
            shownFps: (b.framesShown - a.framesShown) / secs,
            droppedFrames: b.framesDropped - a.framesDropped,
            renderScale: b.renderScale,
            decodeMs: b.decodeMs,
            uploadMs: b.uploadMs,
            delayP50Ms: b.delayP50Ms,
            delayP95Ms: b.delayP95Ms,
            playoutDelayMs: b.playoutDelayMs,
            blend: b.settings.blend,
            pageErrors: m.errors.length,
          };
          if (m.errors.length) say(`  page errors: ${m.errors.join('; ')}`);
          say(
            `  ${size}² ${c.label}: server ${row.serverFps.toFixed(1)} fps (engine ${row.engineMs.toFixed(0)} ms), page received ${row.receivedFps.toFixed(1)}/s (${row.droppedFrames} dropped; decode ${row.decodeMs.toFixed(1)} ms, upload ${row.uploadMs.toFixed(1)} ms), ` +
              `drew ${row.displayedFps.toFixed(1)} pictures/s, capture→display p50 ${row.delayP50Ms.toFixed(0)} ms, p95 ${row.delayP95Ms.toFixed(0)} ms (playout ${row.playoutDelayMs.toFixed(0)} ms)`,
          );
          rows.push(row);
        }
      } finally {
        ws.close();
        await server.close();
      }
    }
  } finally {
    await browser.close();
    await fs.rm(tmp, { recursive: true, force: true });
  }
  return rows;
}
