/** Real servers on port 0 and real WebSocket clients for the server tests. */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { saveModelCheckpoint } from '../../core/checkpoint/from-model.ts';
import { infoganArch, pgganArch } from '../../core/models/architectures.ts';
import { generatorSpecs } from '../../core/models/generator.ts';
import { initWeights } from '../../core/models/params.ts';
import { decodeFrameMessage, type FrameHeader } from '../../protocol/frames.ts';
import { Server, type ServeOptions } from '../../server/server.ts';
import { randomWeights } from './models.ts';

/** A small InfoGAN checkpoint (28², 3 categories) with random weights: different latents, different frames. */
export async function tinyModel(dir: string, name = 'tiny', seed = 1): Promise<string> {
  const arch = infoganArch(28, { noise: 6, categorical: [3], continuous: 1, fcUnits: 32, widths: [16, 8] });
  const out = path.join(dir, name);
  // DCGAN's 0.02-std initial weights make a near-constant image; larger ones make every latent entry visible.
  const weights = randomWeights(arch, seed);
  for (const [k, w] of weights) if (k.endsWith('/w')) w.data = w.data.map((v) => v * 15);
  await saveModelCheckpoint(out, arch, weights, { name });
  return out;
}

/** A 256² PGGAN (narrow) with random weights: noisy frames, so JPEGs are large (to fill socket buffers). */
export async function bigModel(dir: string): Promise<string> {
  const arch = pgganArch('narrow', 256, { latentSize: 32 });
  const out = path.join(dir, 'big');
  await saveModelCheckpoint(out, arch, initWeights(generatorSpecs(arch), 3), { name: 'big' });
  return out;
}

export async function startTestServer(root: string, over: Partial<ServeOptions> = {}): Promise<Server> {
  const model = over.model ?? (await tinyModel(path.join(root, 'models')));
  return Server.start({
    model,
    port: 0,
    modelDirs: [path.join(root, 'models')],
    presetDir: path.join(root, 'presets'),
    recordingsDir: path.join(root, 'recordings'),
    mappingDir: path.join(root, 'mappings'),
    audioDirs: [root],
    midi: 'none',
    ...over,
  });
}

export async function tempRoot(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export interface ReceivedFrame {
  header: FrameHeader;
  payload: Buffer;
  at: number;
}

/** A client that records every frame and JSON message. */
export class TestClient {
  readonly frames: ReceivedFrame[] = [];
  readonly messages: Record<string, unknown>[] = [];
  readonly ws: WebSocket;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data, binary) => {
      if (binary) {
        const f = decodeFrameMessage(data as Buffer);
        if (f) this.frames.push({ header: f.header, payload: Buffer.from(f.payload), at: performance.now() });
      } else {
        this.messages.push(JSON.parse(String(data)) as Record<string, unknown>);
      }
    });
  }

  static async connect(server: Server, query = ''): Promise<TestClient> {
    const c = new TestClient(`${server.url.replace(/^http/, 'ws')}ws${query}`);
    await new Promise<void>((resolve, reject) => {
      c.ws.once('open', () => resolve());
      c.ws.once('error', reject);
    });
    await c.waitFor((m) => m['type'] === 'welcome');
    return c;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  async waitFor(pred: (m: Record<string, unknown>) => boolean, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const start = performance.now();
    for (;;) {
      const m = this.messages.find(pred);
      if (m) return m;
      if (performance.now() - start > timeoutMs) throw new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages.map((x) => x['type']))}`);
      await sleep(10);
    }
  }

  async waitFrames(n: number, timeoutMs = 5000): Promise<void> {
    const target = this.frames.length + n;
    const start = performance.now();
    while (this.frames.length < target) {
      if (performance.now() - start > timeoutMs) throw new Error(`only ${this.frames.length - target + n} of ${n} frames within ${timeoutMs} ms`);
      await sleep(5);
    }
  }

  close(): void {
    this.ws.close();
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
