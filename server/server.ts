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
import { RhodopsError, messageOf, toWireError, type WireError } from '../core/errors.ts';
import { logger } from '../core/log.ts';
import type { OrtOptions } from '../core/runtime/ort.ts';
import { DEFAULT_MAPPING, mappingToJson, type Mapping } from '../core/mapping/index.ts';
import { BUILT_IN_MAPPINGS } from '../core/mapping/defaults.ts';
import { DEFAULT_BANK } from '../presets/schema.ts';
import { PresetStore } from '../presets/store.ts';
import { checkRange } from '../core/options.ts';
import { FPS_RANGE } from '../core/video.ts';
import { BUNDLED_MODELS_DIR, DEFAULT_MAPPING_DIR, DEFAULT_MODEL, DEFAULT_PRESET_DIR } from '../presets/bundled.ts';
import { apiRouter, recordingsRouter } from './api.ts';
import { applyControl, recallPreset, type ControlContext } from './control.ts';
import { containedAudioFile, resolveAudioRequest } from './audio-files.ts';
import { Engine } from './engine.ts';
import { DEFAULT_HUB_OPTIONS, Hub, type HubOptions } from './hub.ts';
import { LiveInputs, type AudioSpec } from './inputs.ts';
import { Instrument, presetKey } from '../instrument/instrument.ts';
import { LatestOnly } from '../core/serial.ts';
import { modelStamp } from '../core/fsutil.ts';
import { cachedGains } from '../instrument/calibration.ts';
import type { LatentStateJson } from '../core/latent/index.ts';
import { checkCompatible } from '../presets/layout.ts';
import { RenderLoop } from './loop.ts';
import { readMappingFile } from '../instrument/mapping-files.ts';
import { decodePcmMessage } from '../protocol/pcm.ts';
import { modelPrincipalDirections } from '../instrument/principal.ts';
import type { AudioSourceRequest, ServerMessage } from '../protocol/messages.ts';
import { prepareRecorder, Recorder, type Take } from './recorder/index.ts';
import { displayScale } from './encoder.ts';
import { ensureClientBuilt } from './client-build.ts';
import { DEFAULT_DISPLAY, type DisplayChange, type DisplaySettings } from '../protocol/display.ts';
import { checkAccess, checkHost, generateToken, isLoopback, parseAllowedOrigins, type AccessPolicy, type Refusal } from './security.ts';
import { AudioDeviceCache } from './audio-device-cache.ts';
import { RequestLimiter } from './request-limit.ts';
import { deviceSpec } from '../core/audio/index.ts';
import { SessionLog, type SessionStats } from '../instrument/session-log.ts';
import type { ServerStatus, TakeSummary } from '../protocol/status.ts';

const log = logger('serve');

function withStatus(w: WireError | null, status: number): Refusal | null {
  return w ? { ...w, status } : null;
}

/** MIDI program-change recalls at most this often: each reads a file and may replace the mapping. */
const MIN_RECALL_INTERVAL_MS = 100;
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
  hub: Partial<HubOptions>;
  /** MIDI ports to play from: `all` (default), a name, an index, or `none` (Web MIDI from browsers still plays). */
  midi: string;
  /** The audio source at start. */
  audio: AudioSpec;
  /** A mapping file, the name of a built-in mapping (pulse, motion, harmony, knobs), or null for the default one. */
  mapping: string | null;
  /** Where the mappings presets refer to are written. */
  mappingDir: string;
  /** Folders a control page may play audio files from. */
  audioDirs: string[];
  /** Origins of other control surfaces (web pages served elsewhere) that may use the API and the WebSocket. */
  allowOrigins: string[];
  /** The latent smoothing time constant at start (s); null: the instrument's default (0.15 s). */
  smoothing: number | null;
  /** REST requests per second per address (twice as many in a burst); more get RATE_LIMITED. */
  requestsPerSecond: number;
  /** The knobs' latent directions: seeded random ones, or the model's principal ones (computed once, cached). */
  directions: 'random' | 'principal';
  /** Where principal directions are cached (default ~/.cache/rhodops/directions). */
  directionsCacheDir?: string;
  /** Where model calibrations are cached (default ~/.cache/rhodops/calibration). */
  calibrationCacheDir?: string;
}

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
    modelDirs: [BUNDLED_MODELS_DIR, path.resolve('checkpoints')],
    presetDir: DEFAULT_PRESET_DIR,
    recordingsDir: path.resolve('recordings'),
    clientDir: path.join(ROOT, 'client'),
    seed: 1,
    hub: DEFAULT_HUB_OPTIONS,
    midi: 'all',
    audio: { kind: 'none' },
    mapping: null,
    mappingDir: DEFAULT_MAPPING_DIR,
    audioDirs: [process.cwd()],
    allowOrigins: [],
    requestsPerSecond: 100,
    smoothing: null,
    directions: 'random',
  };
}

export class Server {
  readonly options: ServeOptions;
  readonly token: string | null;
  readonly engine: Engine;
  readonly instrument: Instrument;
  readonly presets: PresetStore;
  readonly hub: Hub;
  readonly loop: RenderLoop;
  readonly control: ControlContext;
  readonly inputs: LiveInputs;
  private take: Take | null = null;
  private lastTake: TakeSummary | null = null;
  private stateTimer: NodeJS.Timeout | null = null;
  private readonly pushTimers: NodeJS.Timeout[] = [];
  private lastMetersTime = Number.NaN;
  private display: DisplaySettings = { ...DEFAULT_DISPLAY };
  private session: { log: SessionLog; withTake: boolean } | null = null;
  private lastSession: SessionStats | null = null;
  private readonly now: () => number;
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  url = '';
  readonly policy: AccessPolicy;
  /** `GET /api/audio/devices` and the capture devices the network may choose from: one probe at a time, cached. */
  readonly audioDevices = new AudioDeviceCache();
  private takeStarting = false;
  private takeStopping: Promise<TakeSummary & { session: SessionStats | null }> | null = null;
  private sessionStarting = false;
  private closing: Promise<void> | null = null;
  private recall: { busy: boolean; next: (() => Promise<void>) | null; lastAt: number; warnedAt: number } = { busy: false, next: null, lastAt: -Infinity, warnedAt: -Infinity };

  private constructor(options: ServeOptions, engine: Engine, mapping: Mapping) {
    this.options = options;
    this.token = options.token;
    this.engine = engine;
    const now = () => performance.now() / 1000;
    this.now = now;
    this.instrument = new Instrument({ layout: engine.model.info.latent, seed: options.seed, mapping, now });
    if (options.smoothing !== null) this.instrument.apply({ op: 'setSmoothing', args: [options.smoothing] });
    this.presets = new PresetStore({ dir: options.presetDir });
    this.inputs = new LiveInputs(this.instrument, { midi: options.midi, now, program: (n) => void this.recallProgram(n) });
    // State broadcasts follow the instrument's changes (coalesced), not the frame loop.
    this.instrument.on('changed', () => this.broadcastState());
    this.instrument.on('learned', (m, route) => this.hub.broadcast({ type: 'learned', route, mapping: mappingToJson(m) }));
    this.instrument.on('mapping', (m) => {
      this.hub.broadcast({ type: 'mapping', mapping: mappingToJson(m) });
      void this.refreshPresetStates();
    });
    this.control = {
      instrument: this.instrument,
      presets: this.presets,
      engine,
      mappingDir: options.mappingDir,
      presetsChanged: () => {
        this.hub.broadcast({ type: 'presets' });
        void this.refreshPresetStates();
      },
      setAudio: (source) => this.setAudioSource(source),
      setDisplay: (change) => this.setDisplay(change),
    };
    this.hub = new Hub(options.hub, {
      control: (msg, reply, receivedAt, client) => {
        if (msg.type === 'midi') {
          // Straight to the parser: a knob moves the next frame without waiting for a promise.
          this.inputs.feedMidi(String(client), msg.bytes);
          if (msg.id) this.loop.ackAfterNextFrame(msg.id, receivedAt, reply);
          return;
        }
        applyControl(this.control, msg, reply).then(
          () => {
            if (msg.id) this.loop.ackAfterNextFrame(msg.id, receivedAt, reply);
          },
          (e: unknown) => {
            const w = toWireError(e);
            if (w.code === 'INTERNAL') this.hub.logInternal(e);
            reply({ type: 'error', ...w, ...(msg.id ? { id: msg.id } : {}) });
          },
        );
      },
      binary: (data) => {
        const pcm = decodePcmMessage(data);
        this.inputs.pushPcm(pcm.samples, pcm.format, pcm.sampleRate);
      },
      left: (client) => this.inputs.clientLeft(String(client)),
    });
    this.loop = new RenderLoop(engine, this.instrument, this.hub, { fps: options.fps, jpegQuality: options.jpegQuality, displaySize: options.displaySize });
    this.loop.on('modelSwapped', () => {
      this.hub.broadcast({ type: 'model', model: this.engine.model.info });
      void this.refreshPresetStates();
      if (this.options.directions === 'principal') void this.usePrincipalDirections().catch((e: unknown) => log.warn(`principal directions: ${messageOf(e)}; random ones play`));
    });
    this.policy = { token: this.token, loopback: isLoopback(options.host), allowOrigins: parseAllowedOrigins(options.allowOrigins) };
    const app = express();
    app.disable('x-powered-by');
    app.use((req, res, next) => {
      const refused = checkHost(req, this.policy);
      if (refused) return void res.status(refused.status).json({ error: { code: refused.code, message: refused.message, hint: refused.hint } });
      next();
    });
    const limiter = new RequestLimiter(options.requestsPerSecond, options.requestsPerSecond * 2);
    const limited: express.RequestHandler = (req, res, next) => {
      if (limiter.allow(req.socket.remoteAddress ?? '?')) return next();
      res.set('Retry-After', '1');
      res.status(429).json({ error: { code: 'RATE_LIMITED', message: `more than ${limiter.perSecond} requests a second from this address`, hint: 'poll less often' } });
    };
    app.use('/api', limited, apiRouter(this));
    app.use('/recordings', limited, recordingsRouter(options.recordingsDir, this));
    // The pages, and the bundles built from client/src at start (client/dist).
    app.use(express.static(path.join(options.clientDir, 'pages'), { dotfiles: 'deny', index: 'index.html' }));
    app.use('/dist', express.static(path.join(options.clientDir, 'dist'), { dotfiles: 'deny' }));
    app.get('/output', (_req, res) => res.sendFile('output.html', { root: path.join(options.clientDir, 'pages') }));
    this.http = http.createServer(app);
    // ws reads a whole message before the hub can refuse it: its cap is the hub's, with room for the frame header.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: (this.hub.maxMessageBytes + 1024) * 2 });
    this.http.on('upgrade', (req, socket, head) => {
      socket.on('error', () => undefined); // a client gone mid-handshake
      const address = req.socket.remoteAddress ?? '?';
      const refused: Refusal | null =
        new URL(req.url ?? '/', 'http://x').pathname !== '/ws'
          ? { status: 404, code: 'NOT_FOUND', message: 'WebSocket connections go to /ws' }
          : (checkAccess(req, this.policy) ?? (this.closing ? { status: 503, code: 'BUSY', message: 'the server is shutting down' } : null) ?? withStatus(this.hub.admit(address), 429));
      if (refused) {
        const body = JSON.stringify({ error: { code: refused.code, message: refused.message, ...(refused.hint ? { hint: refused.hint } : {}) } });
        socket.end(`HTTP/1.1 ${refused.status} ${http.STATUS_CODES[refused.status] ?? 'Refused'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.hub.add(ws, address, this.welcome()));
    });
  }

  static async start(partial: Partial<ServeOptions> = {}): Promise<Server> {
    const options = { ...defaultServeOptions(), ...partial };
    if (options.fps !== 'max') checkRange('--fps', options.fps, FPS_RANGE, { hint: "or 'max' for every frame the engine can make" });
    if (!isLoopback(options.host) && !options.token) options.token = generateToken();
    const builtIn = options.mapping === null ? undefined : BUILT_IN_MAPPINGS[options.mapping];
    const mapping = builtIn ? builtIn() : options.mapping ? await readMappingFile(options.mapping) : DEFAULT_MAPPING;
    await ensureClientBuilt(options.clientDir);
    const engine = await Engine.open(options.model, { engine: 'ort', ort: options.ort });
    // Finding ffmpeg and ffprobe would otherwise delay the first take.
    void prepareRecorder().catch(() => undefined);
    const server = new Server(options, engine, mapping);
    try {
      await server.inputs.setAudio(options.audio);
      await new Promise<void>((resolve, reject) => {
        server.http.once('error', reject);
        server.http.listen(options.port, options.host, () => resolve());
      });
    } catch (e) {
      await server.inputs.close();
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
    await server.refreshPresetStates();
    if (options.directions === 'principal') await server.usePrincipalDirections();
    await server.calibrate();
    server.instrument.on('directions', () => void server.calibrate());
    server.inputs.start();
    server.loop.start();
    server.startPushes();
    const info = engine.model.info;
    log.info(`playing ${info.name} (${info.kind}, ${info.width}×${info.height}) on ${info.engine} at ${options.fps} fps`);
    return server;
  }

  async usePrincipalDirections(): Promise<void> {
    const model = this.engine.model;
    const t0 = performance.now();
    const dirs = await modelPrincipalDirections(
      { path: model.path, name: model.info.name, latent: model.info.latent, generate: (l, b) => this.engine.sample(l, b) },
      this.instrument.directionCount,
      this.options.directionsCacheDir,
    );
    if (this.engine.model === model && this.instrument.setDirections(dirs)) log.info(`principal directions of ${model.info.name} in ${(performance.now() - t0).toFixed(0)} ms`);
  }

  private welcome(): ServerMessage {
    const snap = this.instrument.snapshot();
    return {
      type: 'welcome',
      server: 'rhodops',
      model: this.engine.model.info,
      fps: this.options.fps,
      state: snap.state,
      controls: snap.controls,
      display: this.display,
      mapping: mappingToJson(this.instrument.mapping),
    };
  }

  setDisplay(change: DisplayChange): void {
    this.display = { ...this.display, ...change };
    this.hub.broadcast({ type: 'display', settings: this.display });
  }

  /** Server stats every second, and audio meters about 15 times a second while a source plays. */
  private startPushes(): void {
    const status = setInterval(() => {
      if (this.hub.size > 0) this.hub.broadcast({ type: 'status', status: this.status() });
    }, 1000);
    const meters = setInterval(() => {
      if (this.hub.size === 0 || !this.inputs.audioPlaying) return;
      const features = this.inputs.metersSince(this.lastMetersTime);
      if (!features) return;
      this.lastMetersTime = features.time;
      this.hub.broadcast({ type: 'meters', features, audio: this.inputs.status().audio });
    }, 66);
    for (const t of [status, meters]) t.unref();
    this.pushTimers.push(status, meters);
  }

  /** Keeps every control page in sync; coalesced to at most 20 messages a second. */
  broadcastState(): void {
    if (this.stateTimer) return;
    this.stateTimer = setTimeout(() => {
      this.stateTimer = null;
      const snap = this.instrument.snapshot();
      this.hub.broadcast({ type: 'state', model: this.engine.model.info.name, state: snap.state, controls: snap.controls });
    }, 50);
  }

  status(): ServerStatus {
    const info = this.engine.model.info;
    return {
      model: { name: info.name, kind: info.kind, width: info.width, height: info.height, latent: info.latent, path: this.engine.model.path },
      engine: info.engine,
      switching: this.engine.switching,
      loop: this.loop.stats(),
      clients: this.hub.stats(),
      recording: this.take ? this.take.stats() : null,
      session: this.session ? this.session.log.stats() : null,
      lastSession: this.lastSession,
      inputs: this.inputs.status(),
      lastTake: this.lastTake,
      memory: { rssMB: Math.round(process.memoryUsage().rss / 2 ** 20) },
    };
  }

  async startRecording(o: { smooth: boolean; audio?: string | undefined }) {
    if (this.take || this.takeStarting || this.takeStopping) {
      throw new RhodopsError('RECORDING_ACTIVE', `a recording is already ${this.takeStarting ? 'starting' : this.takeStopping ? 'stopping' : 'running'}`, { hint: 'stop it first (POST /api/recordings/stop), or wait for it to finish' });
    }
    if (this.closing) throw new RhodopsError('BUSY', 'the server is shutting down');
    this.takeStarting = true;
    try {
      return await this.startTake(o);
    } finally {
      this.takeStarting = false;
    }
  }

  private async startTake(o: { smooth: boolean; audio?: string | undefined }) {
    const info = this.engine.model.info;
    const scale = displayScale(info.width, this.options.displaySize);
    const [width, height] = [info.width * scale, info.height * scale];
    // The song being played along goes into the take from where it is now, unless another file is named.
    const playing = this.inputs.playingFile();
    const audio = o.audio ? { audio: containedAudioFile(o.audio, this.options.audioDirs) } : playing ? { audio: playing.path, audioOffset: playing.positionS, audioLoop: playing.loop } : {};
    const take = await Recorder.start({ dir: this.options.recordingsDir, width, height, fps: this.recordingFps(), smooth: o.smooth, ...audio });
    take.on('error', (e) => log.error(`recording failed: ${e.message}; the show goes on`));
    this.take = take;
    this.loop.record(take);
    log.info(`recording ${take.stats().name}`);
    // A session log beside the take (unless one is already running), so the take can be re-rendered offline.
    if (!this.session) await this.startSession(take.name, true).catch((e: unknown) => log.warn(`session log: ${messageOf(e)}; the take records without one`));
    return take.stats();
  }

  /** An unthrottled loop records at 60 fps: the recorder repeats or drops frames to keep its own clock. */
  private recordingFps(): number {
    return this.options.fps === 'max' ? 60 : this.options.fps;
  }

  /** Stops the take; a second stop while the first is finishing gets the same result. */
  stopRecording(): Promise<TakeSummary & { session: SessionStats | null }> {
    if (this.takeStopping) return this.takeStopping;
    const take = this.take;
    if (!take) return Promise.reject(new RhodopsError('NOT_FOUND', 'no recording is running', { hint: 'GET /api/status shows whether one is' }));
    this.loop.record(null);
    this.take = null;
    this.takeStopping = (async () => {
      let session: SessionStats | null = null;
      if (this.session?.withTake) {
        session = await this.stopSession().catch((e: unknown) => {
          log.warn(`session log: ${messageOf(e)}`);
          return null;
        });
      }
      this.lastTake = await take.stop();
      return { ...this.lastTake, session };
    })().finally(() => {
      this.takeStopping = null;
    });
    return this.takeStopping;
  }

  /**
   * A recall from a MIDI program change (a hardware port, or a page's Web MIDI). One runs at a time, at most one
   * every MIN_RECALL_INTERVAL_MS, and of those asked for meanwhile only the newest waits: program changes sent
   * as fast as a page can cannot flood the disk or the loop.
   */
  private recallFromMidi(bank: string, name: string, crossfade: number): Promise<void> {
    const run = async () => {
      try {
        await recallPreset(this.control, bank, name, crossfade);
      } catch (e) {
        // A controller can ask ten times a second for a preset that is not there: say so every few seconds.
        const now = performance.now();
        if (now - this.recall.warnedAt > 5000) {
          this.recall.warnedAt = now;
          log.warn(`program change: recalling '${bank}/${name}' failed: ${messageOf(e)}`);
        }
      }
    };
    this.recall.next = run;
    return this.pumpRecalls();
  }

  private async pumpRecalls(): Promise<void> {
    const r = this.recall;
    if (r.busy) return;
    r.busy = true;
    try {
      while (r.next && !this.closing) {
        const wait = r.lastAt + MIN_RECALL_INTERVAL_MS - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const next = r.next;
        r.next = null;
        r.lastAt = performance.now();
        if (next) await next();
      }
    } finally {
      r.busy = false;
    }
  }

  /**
   * Measures how much this model's picture moves per unit along each direction and per radian of drift, and
   * gives the instrument those gains (calibration.ts; cached, so only a model's first start measures). Runs again
   * when the directions change; one measurement at a time, the latest winning.
   */
  calibrate(): Promise<void> {
    return this.calibration
      .run(async () => {
        const model = this.engine.model;
        const dirs = this.instrument.directions.map((d) => Float32Array.from(d));
        const gains = await cachedGains(
          { latent: model.info.latent, id: `${model.info.name}@${await modelStamp(model.path)}`, generate: (l, n) => this.engine.sample(l, n) },
          dirs,
          this.options.calibrationCacheDir,
        );
        // Directions that changed meanwhile have asked for a run of their own, which comes next.
        if (this.engine.model === model) this.instrument.apply({ op: 'setGains', args: [gains] });
      })
      .catch((e: unknown) => log.warn(`calibration: ${messageOf(e)}; the mapping's amounts play as they are`));
  }
  private readonly calibration = new LatestOnly();
  private readonly presetStates = new LatestOnly();

  /**
   * Loads the states of the presets the mapping recalls or morphs between, for this model, into the instrument
   * (which applies them at frame times, as offline and in replay). Called when the mapping, the presets or the
   * model change; a preset that is missing or made for another layout is left out, and the instrument says so.
   * One load at a time, the latest request winning: a page sending mapping after mapping costs one load at a time.
   */
  refreshPresetStates(): Promise<void> {
    return this.presetStates.run(() => this.loadPresetStates());
  }

  private async loadPresetStates(): Promise<void> {
    const refs = new Map<string, { bank: string; name: string }>();
    for (const r of this.instrument.mapping.routes) {
      const t = r.target;
      const add = (bank: string | undefined, name: string) => refs.set(presetKey(bank, name), { bank: bank ?? DEFAULT_BANK, name });
      if (t.kind === 'preset recall') add(t.bank, t.name);
      if (t.kind === 'morph') {
        add(t.from.bank, t.from.name);
        add(t.to.bank, t.to.name);
      }
    }
    const info = this.engine.model.info;
    const states = new Map<string, LatentStateJson>();
    for (const [key, ref] of refs) {
      try {
        const preset = await this.presets.load(ref.bank, ref.name);
        checkCompatible(preset, info.latent, info.name);
        states.set(key, preset.state);
      } catch (e) {
        log.debug(`preset ${key} for the mapping: ${messageOf(e)}`);
      }
    }
    if (this.engine.model.info === info) this.instrument.setPresets(states);
  }

  /**
   * An audio source a page asked for: files from the audio folders; capture devices only as the server listed
   * them (or the one it was started with), never lavfi, URLs or paths; one change at a time.
   */
  async setAudioSource(source: AudioSourceRequest): Promise<void> {
    const captures = new Set<string>(['', 'default']);
    if (this.options.audio.kind === 'capture') captures.add(this.options.audio.spec);
    if (source.kind === 'capture' && !captures.has(source.device)) {
      for (const d of (await this.audioDevices.list()).devices) captures.add(deviceSpec(d));
    }
    await this.inputs.setAudio(resolveAudioRequest(source, this.options.audioDirs, captures));
  }

  /** MIDI program change N: the Nth preset (from 0) of the default bank, in the order the page lists them. */
  private async recallProgram(n: number): Promise<void> {
    const list = await this.presets.list(DEFAULT_BANK).catch(() => null);
    const preset = list?.presets[n];
    if (!preset) return void log.warn(`program change ${n}: the bank '${DEFAULT_BANK}' has ${list?.presets.length ?? 0} presets`);
    await this.recallFromMidi(DEFAULT_BANK, preset.name, 1);
  }

  /**
   * Starts logging every change of the live state, every mapping input and every frame's time, from the
   * state as it is now: `NAME.session.jsonl` in the recordings folder.
   */
  async startSession(name?: string, withTake = false): Promise<SessionStats> {
    if (this.session || this.sessionStarting) throw new RhodopsError('RECORDING_ACTIVE', `a session log is already ${this.session ? `running (${path.basename(this.session.log.file)})` : 'starting'}`, { hint: 'stop it first (POST /api/sessions/stop)' });
    this.sessionStarting = true;
    try {
      return await this.openSession(name, withTake);
    } finally {
      this.sessionStarting = false;
    }
  }

  private async openSession(name: string | undefined, withTake: boolean): Promise<SessionStats> {
    const base = name ?? `session-${new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19)}`;
    if (!/^[\w.-]{1,120}$/.test(base)) throw new RhodopsError('BAD_OPTION', `session name '${base}': letters, digits, '.', '-' and '_' only`);
    const info = this.engine.model.info;
    const file = path.join(this.options.recordingsDir, `${base}.session.jsonl`);
    const sessionLog = await SessionLog.open(file, () => ({
      startedAt: new Date().toISOString(),
      t0: this.now(),
      fps: this.options.fps,
      model: { name: info.name, kind: info.kind, path: this.engine.model.path, width: info.width, height: info.height, latent: info.latent },
      audio: (() => {
        const playing = this.inputs.playingFile();
        return playing ? { file: playing.path, positionS: playing.positionS, loop: playing.loop } : null;
      })(),
      ...this.instrument.internals(),
    }), {
      attach: (l) => {
        this.instrument.journal = l;
      },
    }).catch((e: unknown) => {
      const code = (e as { code?: string }).code;
      if (code === 'EEXIST') throw new RhodopsError('BAD_OPTION', `${file} exists already`, { hint: 'pick another name' });
      throw new RhodopsError('RECORDING_DIR_UNWRITABLE', `cannot write ${file}: ${messageOf(e)}`);
    });
    this.session = { log: sessionLog, withTake };
    log.info(`session log ${path.basename(file)}`);
    return sessionLog.stats();
  }

  async stopSession(): Promise<SessionStats> {
    const s = this.session;
    if (!s) throw new RhodopsError('NOT_FOUND', 'no session log is running');
    this.session = null;
    this.instrument.journal = null;
    this.lastSession = await s.log.close();
    const last = this.lastSession;
    if (last.error) log.warn(`session log ${path.basename(s.log.file)}: writing failed (${last.error}); ${last.dropped} events were lost, a replay of it stops where it failed`);
    else if (last.dropped > 0) log.warn(`session log ${path.basename(s.log.file)}: ${last.dropped} events dropped (the disk fell behind); a replay of it will not be exact`);
    return this.lastSession;
  }

  recordings() {
    return Recorder.list(this.options.recordingsDir);
  }

  /**
   * Stops everything: the loop, inputs (audio sources and their processes), the take (its MP4 is made) and the
   * session log, clients and the HTTP server. Each step's failure is logged and the next still runs; a take
   * starting meanwhile is refused. `rhodops serve` bounds the whole by a few seconds, then ends what is left.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const step = async (what: string, f: () => unknown) => {
      try {
        await f();
      } catch (e) {
        log.warn(`shutting down, ${what}: ${messageOf(e)}`);
      }
    };
    if (this.stateTimer) clearTimeout(this.stateTimer);
    for (const t of this.pushTimers) clearInterval(t);
    await step('render loop', () => this.loop.stop());
    await step('inputs', () => this.inputs.close());
    // A take being started finishes starting (its ffmpeg runs), then is stopped with the others.
    for (let i = 0; i < 100 && (this.takeStarting || this.sessionStarting); i++) await new Promise((r) => setTimeout(r, 20));
    await step('recording', () => (this.take || this.takeStopping ? this.stopRecording() : undefined));
    await step('session log', () => (this.session ? this.stopSession() : undefined));
    this.hub.closeAll();
    await step('clients', () => new Promise((r) => setTimeout(r, this.hub.size > 0 ? 200 : 0)));
    this.hub.terminateAll();
    this.wss.close();
    await step('http', () =>
      new Promise<void>((resolve) => {
        this.http.close(() => resolve());
        this.http.closeAllConnections();
      }),
    );
    await step('engine', () => this.engine.close());
  }
}
