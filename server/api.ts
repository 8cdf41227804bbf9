/** The REST API: status, models, presets, recordings. Mutations need the access token when one is set. */
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { isRhodopsError, RhodopsError } from '../core/errors.ts';
import { describeZodError } from '../core/checkpoint/manifest.ts';
import { DEFAULT_BANK } from '../presets/schema.ts';
import { authorized } from './security.ts';
import { listModels } from './models.ts';
import { recallPreset, savePreset } from './control.ts';
import { listAudioDevices } from '../core/audio/index.ts';
import { mappingToJson } from '../core/mapping/index.ts';
import { listAudioFiles, resolveAudioRequest } from './audio-files.ts';
import { audioSourceSchema } from './protocol.ts';
import type { Server } from './server.ts';

const NOT_FOUND = new Set(['PRESET_NOT_FOUND', 'CHECKPOINT_NOT_FOUND', 'NOT_FOUND', 'AUDIO_NO_DEVICES']);

function body<T>(schema: z.ZodType<T>, req: Request): T {
  const r = schema.safeParse(req.body ?? {});
  if (!r.success) throw new RhodopsError('BAD_OPTION', `request body: ${describeZodError(r.error)}`);
  return r.data;
}

/** Express 5 forwards rejected promises from handlers to the error middleware. */
type Handler = (req: Request, res: Response) => Promise<unknown> | unknown;

export function apiRouter(server: Server): express.Router {
  const r = express.Router();
  r.use(express.json({ limit: '64kb' }));
  r.use((req, res, next) => {
    if (req.method !== 'GET' && !authorized(req, server.token)) {
      res.status(401).json({ error: { code: 'UNAUTHORIZED', message: 'this server needs its access token', hint: 'send Authorization: Bearer <token> (printed at start)' } });
      return;
    }
    next();
  });
  const route = (method: 'get' | 'post' | 'put' | 'patch' | 'delete', p: string, h: Handler) =>
    r[method](p, async (req, res) => {
      const out = await h(req, res);
      if (!res.headersSent) res.json(out ?? { ok: true });
    });

  route('get', '/status', () => server.status());

  route('get', '/models', async () => ({ current: server.engine.model.path, models: await listModels(server.options.modelDirs) }));
  route('post', '/models/switch', async (req, res) => {
    const { model } = body(z.object({ model: z.string().min(1) }), req);
    const known = (await listModels(server.options.modelDirs)).find((m) => m.name === model || m.path === model);
    if (!known) throw new RhodopsError('CHECKPOINT_NOT_FOUND', `no model named '${model}' in ${server.options.modelDirs.join(', ')}`);
    server.engine.switchTo(known.path).catch(() => undefined); // the engine logs and keeps the old model
    res.status(202);
    return { switching: known.name };
  });

  route('get', '/presets', async (req) => server.presets.list(typeof req.query['bank'] === 'string' ? req.query['bank'] : undefined));
  route('post', '/presets', async (req) => {
    const { name, bank } = body(z.object({ name: z.string().min(1).max(128), bank: z.string().max(128).default(DEFAULT_BANK) }), req);
    await savePreset(server.control, bank, name);
    server.control.presetsChanged();
    return server.presets.load(bank, name);
  });
  route('get', '/presets/:bank/:name', (req) => server.presets.load(String(req.params['bank']), String(req.params['name'])));
  route('patch', '/presets/:bank/:name', async (req) => {
    const { name, bank } = body(z.object({ name: z.string().min(1).max(128).optional(), bank: z.string().min(1).max(128).optional() }), req);
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
    const { crossfade } = body(z.object({ crossfade: z.number().min(0).max(600).default(1) }), req);
    const warnings = await recallPreset(server.control, String(req.params['bank']), String(req.params['name']), crossfade);
    server.broadcastState();
    return { ok: true, warnings };
  });

  route('get', '/mapping', () => mappingToJson(server.inputs.mapping));
  route('put', '/mapping', (req) => mappingToJson(server.inputs.setMapping(req.body)));
  route('get', '/inputs', () => server.inputs.status());
  route('post', '/audio', async (req) => {
    const { source } = body(z.object({ source: audioSourceSchema }), req);
    await server.inputs.setAudio(resolveAudioRequest(source, server.options.audioDirs));
    return server.inputs.status().audio;
  });
  route('get', '/audio/devices', () => listAudioDevices());
  route('get', '/audio/files', () => listAudioFiles(server.options.audioDirs));

  route('get', '/recordings', () => server.recordings());
  route('post', '/recordings/start', async (req) => server.startRecording(body(z.object({ smooth: z.boolean().default(false), audio: z.string().optional() }), req)));
  route('post', '/recordings/stop', () => server.stopRecording());
  route('post', '/sessions/start', async (req) => server.startSession(body(z.object({ name: z.string().min(1).max(120).optional() }), req).name));
  route('post', '/sessions/stop', () => server.stopSession());

  r.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number };
    if (e.type === 'entity.too.large') return res.status(413).json({ error: { code: 'TOO_LARGE', message: 'request body over 64 KiB' } });
    if (e.type === 'entity.parse.failed') return res.status(400).json({ error: { code: 'BAD_JSON', message: 'request body is not valid JSON' } });
    if (isRhodopsError(err)) {
      return res.status(NOT_FOUND.has(err.code) ? 404 : 400).json({ error: { code: err.code, message: err.message, hint: err.hint } });
    }
    res.status(500).json({ error: { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) } });
  });
  return r;
}

/** Serves recordings by file name only: nothing outside the recordings folder can be named. */
export function recordingsRouter(dir: string, server: Server): express.Router {
  const r = express.Router();
  r.get('/:file', (req, res) => {
    if (!authorized(req, server.token)) return void res.status(401).end();
    const file = String(req.params['file']);
    if (file !== path.basename(file) || !/^[\w.-]+\.(mp4|mkv|session\.jsonl)$/.test(file)) return void res.status(404).end();
    res.sendFile(file, { root: dir, dotfiles: 'deny' }, (err) => {
      if (err && !res.headersSent) res.status(404).end();
    });
  });
  return r;
}
