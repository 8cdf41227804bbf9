/**
 * Server figures (issue 4), each measured in one run: end-to-end fps over engine-only fps, control-to-frame
 * latency, 8 clients against 1, and a slow reader's effect on the others and on memory.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import WebSocket from 'ws';
import { saveModelCheckpoint } from '../core/checkpoint/from-model.ts';
import { generatorSpecs } from '../core/models/generator.ts';
import { initWeights } from '../core/models/params.ts';
import { pgganArch } from '../core/models/architectures.ts';
import { openGenerator } from '../core/runtime/open.ts';
import { Server } from '../server/server.ts';
import { measure } from './measure.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

class Client {
  frames = 0;
  readonly acks = new Map<string, number>();
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d, binary) => {
      if (binary) this.frames++;
      else {
        const m = JSON.parse(String(d)) as { type: string; id?: string; latencyMs?: number };
        if (m.type === 'applied' && m.id) this.acks.set(m.id, m.latencyMs!);
      }
    });
  }
  static async open(server: Server): Promise<Client> {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}ws`);
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    return new Client(ws);
  }
}

/**
 * A client on its own thread that only counts frames: for the end-to-end rate, the client's own parsing
 * (thousands of frames a second for the demo model) must not run on the server's thread, as a browser's doesn't.
 */
class CountingClient {
  private constructor(private readonly worker: Worker) {}
  static async open(server: Server): Promise<CountingClient> {
    const code = `const WebSocket = require('ws'); const { parentPort, workerData } = require('node:worker_threads');
      const ws = new WebSocket(workerData); let n = 0;
      ws.on('open', () => parentPort.postMessage(-1)); ws.on('message', (_d, binary) => { if (binary) n++; });
      parentPort.on('message', () => parentPort.postMessage(n));`;
    const worker = new Worker(code, { eval: true, workerData: `${server.url.replace(/^http/, 'ws')}ws` });
    await new Promise((r, j) => (worker.once('message', r), worker.once('error', j)));
    return new CountingClient(worker);
  }
  frames(): Promise<number> {
    return new Promise((r) => (this.worker.once('message', r), this.worker.postMessage(0)));
  }
  async fpsOver(ms: number): Promise<number> {
    const a = await this.frames();
    const t0 = performance.now();
    await sleep(ms);
    const b = await this.frames();
    return ((b - a) * 1000) / (performance.now() - t0);
  }
  close(): Promise<number> {
    return this.worker.terminate();
  }
}

async function fpsOver(clients: Client[], ms: number): Promise<number[]> {
  const start = clients.map((c) => c.frames);
  const t0 = performance.now();
  await sleep(ms);
  const secs = (performance.now() - t0) / 1000;
  return clients.map((c, i) => (c.frames - start[i]!) / secs);
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

export interface ServerBench {
  model: string;
  engineOnlyFps: number;
  endToEndFps: number;
  ratio: number;
  latencyP50Ms?: number;
  latencyP95Ms?: number;
  /** A Web MIDI CC (mapped to a latent direction) received → the first frame made with it sent. */
  midiP50Ms?: number;
  midiP95Ms?: number;
  frameIntervalMs?: number;
  fps1?: number;
  fps8?: number;
  ratio8?: number;
  slowReader?: { seconds: number; othersFps: number; rssStartMB: number; rssMaxMB: number };
}

/** A PGGAN mid-128 checkpoint with random weights (speed does not depend on the weights). */
export async function pgganMid128(dir: string): Promise<string> {
  const arch = pgganArch('mid', 128);
  const out = path.join(dir, 'pggan-mid-128');
  await saveModelCheckpoint(out, arch, initWeights(generatorSpecs(arch), 1), { name: 'pggan-mid-128' });
  return out;
}

export async function benchServer(model: string, opts: { quick: boolean; full: boolean }, say: (m: string) => void): Promise<ServerBench> {
  const gen = await openGenerator(model);
  const z = new Float32Array(gen.info.latent.size).fill(0.3);
  const t = await measure(() => gen.generate(z, 1), { minRuns: 20, minTimeMs: opts.quick ? 1000 : 3000 });
  await gen.dispose();
  const engineOnlyFps = 1000 / t.medianMs;
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-bench-'));
  const common = { model, port: 0, presetDir: path.join(tmp, 'presets'), recordingsDir: path.join(tmp, 'rec'), mappingDir: path.join(tmp, 'mappings'), modelDirs: [], midi: 'none' };
  const name = path.basename(model);
  try {
    // End to end, unthrottled: each frame starts as soon as the engine is free; one client.
    let server = await Server.start({ ...common, fps: 'max' });
    const counter = await CountingClient.open(server);
    await sleep(500);
    const endToEndFps = await counter.fpsOver(opts.quick ? 2000 : 4000);
    await counter.close();
    await server.close();
    say(`  ${name}: engine alone ${engineOnlyFps.toFixed(0)} fps, end to end ${endToEndFps.toFixed(0)} fps`);
    const result: ServerBench = { model: name, engineOnlyFps, endToEndFps: endToEndFps, ratio: endToEndFps / engineOnlyFps };
    if (!opts.full) return result;

    // At a 30 fps show: control-to-frame latency, then 1 vs 8 clients, then a slow reader.
    server = await Server.start({ ...common, fps: 30 });
    const c = await Client.open(server);
    await sleep(500);
    const n = opts.quick ? 30 : 90;
    for (let i = 0; i < n; i++) {
      c.ws.send(JSON.stringify({ type: 'direction', index: 0, value: (i % 2) * 2 - 1, id: `m${i}` }));
      await sleep(70 + ((i * 37) % 40)); // off the frame grid, so arrival times cover the whole interval
    }
    await sleep(300);
    const lat = [...c.acks.entries()].filter(([id]) => id.startsWith('m') && !id.startsWith('midi')).map(([, ms]) => ms);
    result.latencyP50Ms = percentile(lat, 0.5);
    result.latencyP95Ms = percentile(lat, 0.95);
    result.frameIntervalMs = 1000 / 30;
    say(`  ${name}: control → frame latency p50 ${result.latencyP50Ms.toFixed(1)} ms, p95 ${result.latencyP95Ms.toFixed(1)} ms (${lat.length} messages)`);
    // The same for a MIDI knob through the mapping.
    server.instrument.setMapping({ version: 1, name: 'bench', routes: [{ source: { kind: 'midi cc', controller: 1 }, transform: { out: [-2, 2] }, target: { kind: 'direction', index: 0 } }] });
    for (let i = 0; i < n; i++) {
      c.ws.send(JSON.stringify({ type: 'midi', bytes: [0xb0, 1, (i % 2) * 127], id: `midi${i}` }));
      await sleep(70 + ((i * 37) % 40));
    }
    await sleep(300);
    const midi = [...c.acks.entries()].filter(([id]) => id.startsWith('midi')).map(([, ms]) => ms);
    result.midiP50Ms = percentile(midi, 0.5);
    result.midiP95Ms = percentile(midi, 0.95);
    say(`  ${name}: MIDI → frame latency p50 ${result.midiP50Ms.toFixed(1)} ms, p95 ${result.midiP95Ms.toFixed(1)} ms (${midi.length} messages)`);
    result.fps1 = (await fpsOver([c], 3000))[0]!;
    const more = await Promise.all(Array.from({ length: 7 }, () => Client.open(server)));
    await sleep(500);
    const eight = await fpsOver([c, ...more], 3000);
    result.fps8 = eight.reduce((s, v) => s + v, 0) / eight.length;
    result.ratio8 = result.fps8 / result.fps1;
    say(`  ${name}: 1 client ${result.fps1.toFixed(1)} fps, 8 clients ${result.fps8.toFixed(1)} fps each`);
    for (const m of more.slice(2)) m.ws.close();
    const slow = more[0]!;
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const seconds = opts.quick ? 20 : 120;
    const rssStart = process.memoryUsage().rss;
    let rssMax = rssStart;
    const others = [c, more[1]!];
    const before = others.map((o) => o.frames);
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      await sleep(1000);
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
    }
    const secs = (performance.now() - t0) / 1000;
    const othersFps = others.reduce((s, o, i) => s + (o.frames - before[i]!) / secs, 0) / others.length;
    result.slowReader = { seconds, othersFps, rssStartMB: rssStart / 2 ** 20, rssMaxMB: rssMax / 2 ** 20 };
    say(`  ${name}: with a slow reader for ${seconds} s, the others at ${othersFps.toFixed(1)} fps; RSS ${result.slowReader.rssStartMB.toFixed(0)} → max ${result.slowReader.rssMaxMB.toFixed(0)} MB`);
    slow.ws.terminate();
    for (const o of others) o.ws.close();
    await server.close();
    return result;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

