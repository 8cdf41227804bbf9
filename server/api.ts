/**
 * The REST API: status, models, presets, recordings. Every route checks Host, Origin and the token (when one is
 * set: always off loopback), and a change must be JSON (see security.ts); errors come back as
 * `{error: {code, message, hint}}` with a code from ERRORS.md.
 */
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { RhodopsError, toWireError, type ErrorCode } from '../core/errors.ts';
import { describeZodError } from '../core/checkpoint/manifest.ts';
import { DEFAULT_BANK } from '../presets/schema.ts';
import { checkAccess, checkJsonBody } from './security.ts';
import { listModels } from './models.ts';
import { recallPreset, savePreset } from './control.ts';
import { mappingToJson } from '../core/mapping/index.ts';
import { listAudioFiles } from './audio-files.ts';
import { audioSourceSchema } from '../protocol/messages.ts';
import type { Server } from './server.ts';
import { logger } from '../core/log.ts';

const log = logger('api');

const STATUS: Partial<Record<ErrorCode, number>> = {
  PRESET_NOT_FOUND: 404,
  CHECKPOINT_NOT_FOUND: 404,
  NOT_FOUND: 404,
  AUDIO_NO_DEVICES: 404,
  RECORDING_ACTIVE: 409,
  BUSY: 409,
  PRESET_EXISTS: 409,
  TOO_LARGE: 413,
  RATE_LIMITED: 429,
  OUTPUT_UNWRITABLE: 500,
  INTERNAL: 500,
};

function body<T>(schema: z.ZodType<T>, req: Request): T {
  const r = schema.safeParse(req.body ?? {});
  if (!r.success) throw new RhodopsError('BAD_OPTION', `request body: ${describeZodError(r.error)}`);
  return r.data;
}

/** Express 5 forwards rejected promises from handlers to the error middleware. */
type Handler = (req: Request, res: Response) => Promise<unknown> | unknown;

export function apiRouter(server: Server): express.Router {
  const r = express.Router();
  r.use((req, res, next) => {
    const refused = checkAccess(req, server.policy) ?? checkJsonBody(req);
    if (refused) return void res.status(refused.status).json({ error: { code: refused.code, message: refused.message, hint: refused.hint } });
    next();
  });
  r.use(express.json({ limit: '64kb' }));
  const route = (method: 'get' | 'post' | 'put' | 'patch' | 'delete', p: string, h: Handler) =>
    r[method](p, async (req, res) => {
      const out = await h(req, res);
      if (!res.headersSent) res.json(out ?? { ok: true });
    });

  route('get', '/status', () => server.status());

  route('get', '/models', async () => ({ current: server.engine.model.path, models: await listModels(server.options.modelDirs) }));
  route('post', '/models/switch', async (req, res) => {
    const { model } = body(z.strictObject({ model: z.string().min(1).max(1000) }), req);
    const known = (await listModels(server.options.modelDirs)).find((m) => m.name === model || m.path === model);
    if (!known) throw new RhodopsError('CHECKPOINT_NOT_FOUND', `no model named '${model.slice(0, 200)}' in the model folders`, { hint: 'GET /api/models lists them' });
    // Answered once the model has loaded (or failed to: its error, and the old model plays on); it takes over
    // at the next frame boundary.
    await server.engine.switchTo(known.path);
    return { switched: known.name };
  });

  route('get', '/presets', async (req) => server.presets.list(typeof req.query['bank'] === 'string' ? req.query['bank'] : undefined));
  route('post', '/presets', async (req) => {
    const { name, bank } = body(z.strictObject({ name: z.string().min(1).max(128), bank: z.string().max(128).default(DEFAULT_BANK) }), req);
    await savePreset(server.control, bank, name);
    server.control.presetsChanged();
    return server.presets.load(bank, name);
  });
  route('get', '/presets/:bank/:name', (req) => server.presets.load(String(req.params['bank']), String(req.params['name'])));
  route('patch', '/presets/:bank/:name', async (req) => {
    const { name, bank } = body(z.strictObject({ name: z.string().min(1).max(128).optional(), bank: z.string().min(1).max(128).optional() }), req);
    let cur = { bank: String(req.params['bank']), name: String(req.params['name']) };
    if (name && name !== cur.name) cur = { ...cur, name: (await server.presets.rename(cur.bank, cur.name, name)).name };
    if (bank && bank !== cur.bank) await server.presets.move(cur.bank, cur.name, bank);
    server.control.presetsChanged();
    return server.presets.load(bank ?? cur.bank, cur.name);
  });
  route('delete', '/presets/:bank/:name', async (req) => {
    const out = await server.presets.remove(String(req.params['bank']), String(req.params['name']));
    server.control.presetsChanged();
    return out;
  });
  route('post', '/presets/:bank/:name/recall', async (req) => {
    const { crossfade } = body(z.strictObject({ crossfade: z.number().min(0).max(600).default(1) }), req);
    const warnings = await recallPreset(server.control, String(req.params['bank']), String(req.params['name']), crossfade);
    server.broadcastState();
    return { ok: true, warnings };
  });

  route('get', '/mapping', () => mappingToJson(server.instrument.mapping));
  route('put', '/mapping', (req) => mappingToJson(server.instrument.setMapping(req.body)));
  route('get', '/inputs', () => server.inputs.status());
  route('post', '/audio', async (req) => {
    const { source } = body(z.strictObject({ source: audioSourceSchema }), req);
    await server.setAudioSource(source);
    return server.inputs.status().audio;
  });
  route('get', '/audio/devices', () => server.audioDevices.list());
  route('get', '/audio/files', () => listAudioFiles(server.options.audioDirs));

  route('get', '/recordings', () => server.recordings());
  route('post', '/recordings/start', async (req) => server.startRecording(body(z.strictObject({ smooth: z.boolean().default(false), audio: z.string().max(1000).optional() }), req)));
  route('post', '/recordings/stop', () => server.stopRecording());
  route('post', '/sessions/start', async (req) => server.startSession(body(z.strictObject({ name: z.string().min(1).max(120).optional() }), req).name));
  route('post', '/sessions/stop', () => server.stopSession());

  r.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number };
    if (e.type === 'entity.too.large') return res.status(413).json({ error: { code: 'TOO_LARGE', message: 'request body over 64 KiB' } });
    if (e.type === 'entity.parse.failed') return res.status(400).json({ error: { code: 'BAD_JSON', message: 'request body is not valid JSON', hint: 'send the body as JSON' } });
    const w = toWireError(err);
    if (w.code === 'INTERNAL') log.warn(`${_req.method} ${_req.path} failed inside the server: ${err instanceof Error ? err.message : String(err)}`);
    res.status(STATUS[w.code] ?? 400).json({ error: w });
  });
  return r;
}

/** Serves recordings by file name only: nothing outside the recordings folder can be named. */
export function recordingsRouter(dir: string, server: Server): express.Router {
  const r = express.Router();
  r.get('/:file', (req, res) => {
    const refused = checkAccess(req, server.policy);
    if (refused) return void res.status(refused.status).json({ error: { code: refused.code, message: refused.message, hint: refused.hint } });
    const file = String(req.params['file']);
    if (file !== path.basename(file) || !/^[\w.-]+\.(mp4|mkv|session\.jsonl)$/.test(file)) return void res.status(404).end();
    res.sendFile(file, { root: dir, dotfiles: 'deny' }, (err) => {
      if (err && !res.headersSent) res.status(404).end();
    });
  });
  return r;
}
