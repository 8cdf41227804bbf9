/**
 * `rhodops serve`: the engine, the live state, the render loop, WebSocket streaming, the REST API,
 * presets and recording, on one HTTP server. Loopback by default; any other address needs a token.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { WebSocketServer } from 'ws';
import { RhodopsError, messageOf } from '../core/errors.ts';
import { logger } from '../core/log.ts';
import type { OrtOptions } from '../core/runtime/ort.ts';
import { PresetStore } from '../presets/store.ts';
import { apiRouter, recordingsRouter } from './api.ts';
import { applyControl, type ControlContext } from './control.ts';
import { Engine } from './engine.ts';
import { DEFAULT_HUB_OPTIONS, Hub, type HubOptions } from './hub.ts';
import { LiveState } from './live-state.ts';
import { RenderLoop } from './loop.ts';
import type { ServerMessage } from './protocol.ts';
import { prepareRecorder, Recorder, type Take, type TakeSummary } from './recorder/index.ts';
import { displayScale } from './encoder.ts';
import { authorized, generateToken, isLoopback } from './security.ts';

const log = logger('serve');
const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface ServeOptions {
  model: string;
  host: string;
  port: number;
  /** Target frame rate (1–240), or 'max': every frame the engine can make (recordings then run at 60). */
  fps: number | 'max';
  /** Required off loopback: given, or generated and printed. null = none (loopback only). */
  token: string | null;
  jpegQuality: number;
  displaySize: number;
  ort: Partial<OrtOptions>;
  modelDirs: string[];
  presetDir: string;
  recordingsDir: string;
  clientDir: string;
  seed: number;
  hub: HubOptions;
}

export const DEFAULT_MODEL = path.join(ROOT, 'presets', 'models', 'infogan-mnist');

export function defaultServeOptions(): ServeOptions {
  return {
    model: DEFAULT_MODEL,
    host: '127.0.0.1',
    port: 8080,
    fps: 30,
    token: null,
    jpegQuality: 85,
    displaySize: 256,
    ort: {},
    modelDirs: [path.join(ROOT, 'presets', 'models'), path.resolve('checkpoints')],
    presetDir: path.join(ROOT, 'presets', 'user'),
    recordingsDir: path.resolve('recordings'),
    clientDir: path.join(ROOT, 'client'),
    seed: 1,
    hub: DEFAULT_HUB_OPTIONS,
  };
}

export class Server {
  readonly options: ServeOptions;
  readonly token: string | null;
  readonly engine: Engine;
  readonly live: LiveState;
  readonly presets: PresetStore;
  readonly hub: Hub;
  readonly loop: RenderLoop;
  readonly control: ControlContext;
  private take: Take | null = null;
  private lastTake: TakeSummary | null = null;
  private stateTimer: NodeJS.Timeout | null = null;
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  url = '';

  private constructor(options: ServeOptions, engine: Engine) {
    this.options = options;
    this.token = options.token;
    this.engine = engine;
    this.live = new LiveState(engine.model.info.latent, options.seed, () => performance.now() / 1000);
    this.presets = new PresetStore({ dir: options.presetDir });
    this.control = { live: this.live, presets: this.presets, engine };
    this.hub = new Hub(options.hub, (msg, reply, receivedAt) => {
      applyControl(this.control, msg, reply).then(
        () => {
          if (msg.id) this.loop.ackAfterNextFrame(msg.id, receivedAt, reply);
          if (msg.type !== 'ping') this.broadcastState();
        },
        (e: unknown) => {
          const err = e as { code?: string };
          reply({ type: 'error', code: err.code ?? 'FAILED', message: messageOf(e), ...(msg.id ? { id: msg.id } : {}) });
        },
      );
    });
    this.loop = new RenderLoop(engine, this.live, this.hub, { fps: options.fps, jpegQuality: options.jpegQuality, displaySize: options.displaySize });
    this.loop.onModelSwap = () => {
      this.live.cut();
      this.broadcastState();
    };
    const app = express();
    app.disable('x-powered-by');
    app.use('/api', apiRouter(this));
    app.use('/recordings', recordingsRouter(options.recordingsDir, this));
    app.use(express.static(options.clientDir, { dotfiles: 'deny', index: 'index.html' }));
    app.get('/output', (_req, res) => res.sendFile('output.html', { root: options.clientDir }));
    this.http = http.createServer(app);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
    this.http.on('upgrade', (req, socket, head) => {
      if (new URL(req.url ?? '/', 'http://x').pathname !== '/ws' || !authorized(req, this.token)) {
        socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.hub.add(ws, req.socket.remoteAddress ?? '?', this.welcome()));
    });
  }

  static async start(partial: Partial<ServeOptions> = {}): Promise<Server> {
    const options = { ...defaultServeOptions(), ...partial };
    if (options.fps !== 'max' && (!Number.isFinite(options.fps) || options.fps < 1 || options.fps > 240)) {
      throw new RhodopsError('BAD_OPTION', `--fps must be between 1 and 240, got ${options.fps}`);
    }
    if (!isLoopback(options.host) && !options.token) options.token = generateToken();
    const engine = await Engine.open(options.model, { engine: 'ort', ort: options.ort });
    // ffmpeg's first run (and fluent-ffmpeg's capability probes) would otherwise delay the first take.
    void prepareRecorder().catch(() => undefined);
    const server = new Server(options, engine);
    try {
      await new Promise<void>((resolve, reject) => {
        server.http.once('error', reject);
        server.http.listen(options.port, options.host, () => resolve());
      });
    } catch (e) {
      await engine.close();
      const code = (e as { code?: string }).code;
      const where = `${options.host}:${options.port}`;
      if (code === 'EADDRINUSE') throw new RhodopsError('BAD_OPTION', `${where} is already in use (another rhodops, or another server).`, { hint: 'Stop it, or pass --port with another number (0 picks a free one).' });
      if (code === 'EACCES') throw new RhodopsError('BAD_OPTION', `not allowed to listen on ${where}.`, { hint: 'Use a port above 1023.' });
      if (code === 'EADDRNOTAVAIL') throw new RhodopsError('BAD_OPTION', `${options.host} is not an address of this machine.`, { hint: 'Use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).' });
      throw e;
    }
    const port = (server.http.address() as AddressInfo).port;
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    server.url = `http://${host}:${port}/`;
    server.loop.start();
    const info = engine.model.info;
    log.info(`playing ${info.name} (${info.kind}, ${info.width}×${info.height}) on ${info.engine} at ${options.fps} fps`);
    return server;
  }

  private welcome(): ServerMessage {
    const snap = this.live.snapshot();
    return { type: 'welcome', server: 'rhodops', model: this.engine.model.info, fps: this.options.fps, state: snap.state, controls: snap.controls };
  }

  /** Keeps every control page in sync; coalesced to at most 20 messages a second. */
  broadcastState(): void {
    if (this.stateTimer) return;
    this.stateTimer = setTimeout(() => {
      this.stateTimer = null;
      const snap = this.live.snapshot();
      this.hub.broadcast({ type: 'state', model: this.engine.model.info.name, state: snap.state, controls: snap.controls });
    }, 50);
  }

  status() {
    const info = this.engine.model.info;
    return {
      model: { name: info.name, kind: info.kind, width: info.width, height: info.height, latent: info.latent, path: this.engine.model.path },
      engine: info.engine,
      switching: this.engine.switching,
      loop: this.loop.stats(),
      clients: this.hub.stats(),
      recording: this.take ? this.take.stats() : null,
      lastTake: this.lastTake,
      memory: { rssMB: Math.round(process.memoryUsage().rss / 2 ** 20) },
    };
  }

  async startRecording(o: { smooth: boolean; audio?: string | undefined }) {
    if (this.take) throw new RhodopsError('RECORDING_ACTIVE', 'a recording is already running', { hint: 'stop it first (POST /api/recordings/stop)' });
    const info = this.engine.model.info;
    const scale = displayScale(info.width, this.options.displaySize);
    const [width, height] = [info.width * scale, info.height * scale];
    const take = await Recorder.start({ dir: this.options.recordingsDir, width, height, fps: this.recordingFps(), smooth: o.smooth, ...(o.audio ? { audio: o.audio } : {}) });
    take.on('error', (e) => log.error(`recording failed: ${e.message}; the show goes on`));
    this.take = take;
    this.loop.sink = take;
    log.info(`recording ${take.stats().name}`);
    return take.stats();
  }

  /** An unthrottled loop records at 60 fps: the recorder repeats or drops frames to keep its own clock. */
  private recordingFps(): number {
    return this.options.fps === 'max' ? 60 : this.options.fps;
  }

  async stopRecording(): Promise<TakeSummary> {
    const take = this.take;
    if (!take) throw new RhodopsError('NOT_FOUND', 'no recording is running');
    this.loop.sink = null;
    this.take = null;
    this.lastTake = await take.stop();
    return this.lastTake;
  }

  recordings() {
    return Recorder.list(this.options.recordingsDir);
  }

  async close(): Promise<void> {
    await this.loop.stop();
    if (this.stateTimer) clearTimeout(this.stateTimer);
    if (this.take) await this.stopRecording().catch(() => undefined);
    this.hub.closeAll();
    this.wss.close();
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
    await this.engine.close();
  }
}
