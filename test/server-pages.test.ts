// What the pages rely on from the server, through a real server and WebSocket clients: display settings
// shared by every page, pushes (status, meters, mapping, presets, model), controls moved by MIDI broadcast as
// state, the audio files a page may pick, and the pages themselves served from the bundles built at start.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runFfmpeg } from '../core/ffmpeg.ts';
import { setLogLevel } from '../core/log.ts';
import { DEFAULT_DISPLAY } from '../protocol/display.ts';
import type { Server } from '../server/server.ts';
import { sleep, startTestServer, tempRoot, tinyModel, TestClient } from './helpers/server.ts';

const api = (server: Server, p: string, method = 'GET', body?: unknown) =>
  fetch(`${server.url}api/${p}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

const ofType = (c: TestClient, type: string) => c.messages.filter((m) => m['type'] === type);

describe('the server side of the pages', () => {
  let root: string;
  let server: Server;
  before(async () => {
    setLogLevel('silent');
    root = await tempRoot('rhodops-pages-');
    server = await startTestServer(root);
  });
  after(async () => {
    await server.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('display settings: in the welcome, changed by one page, sent to every page; a bad change is refused whole', async () => {
    const a = await TestClient.connect(server);
    const b = await TestClient.connect(server);
    assert.deepEqual(a.messages[0]!['display'], DEFAULT_DISPLAY, 'the welcome carries the display settings');
    a.send({ type: 'display', id: 'd1', settings: { sharpen: 1.5, fit: 'fill' } });
    const seen = await b.waitFor((m) => m['type'] === 'display');
    assert.deepEqual(seen['settings'], { ...DEFAULT_DISPLAY, sharpen: 1.5, fit: 'fill' }, 'merged into the full settings');
    a.send({ type: 'display', id: 'd2', settings: { sharpen: 9, blend: false } });
    const err = await a.waitFor((m) => m['type'] === 'error' && m['id'] === 'd2');
    assert.equal(err['code'], 'BAD_MESSAGE');
    assert.match(String(err['message']), /sharpen/, 'the error names the field');
    a.send({ type: 'display', id: 'd3', settings: { colour: 1 } });
    assert.match(String((await a.waitFor((m) => m['type'] === 'error' && m['id'] === 'd3'))['message']), /colour/, 'an unknown setting is named');
    const late = await TestClient.connect(server);
    assert.deepEqual(late.messages[0]!['display'], { ...DEFAULT_DISPLAY, sharpen: 1.5, fit: 'fill' }, 'a page that connects later gets the settings in force (the bad change left them)');
    a.send({ type: 'display', settings: DEFAULT_DISPLAY });
    for (const c of [a, b, late]) c.close();
  });

  it('a MIDI knob moving a control through the mapping is broadcast as state, so control pages move too', async () => {
    const page = await TestClient.connect(server);
    const knob = await TestClient.connect(server);
    await sleep(150); // let any state from earlier changes go out first
    const before = ofType(page, 'state').length;
    // The built-in mapping: CC 1 → direction 0, out −3..3 (mapped through its transform).
    knob.send({ type: 'midi', bytes: [0xb0, 1, 127] });
    const state = await page.waitFor((m) => m['type'] === 'state' && ofType(page, 'state').indexOf(m) >= before);
    const dirs = (state['controls'] as { directions: number[] }).directions;
    assert.ok(dirs[0]! > 0.5, `direction 0 moved up with CC 1 at 127 in the broadcast state: ${dirs[0]}`);
    assert.equal(dirs[0], server.instrument.snapshot().controls.directions[0], 'the broadcast shows the server state');
    const count = ofType(page, 'state').length;
    await sleep(300);
    assert.equal(ofType(page, 'state').length, count, 'a knob at rest sends nothing more');
    knob.send({ type: 'midi', bytes: [0xb0, 1, 64] });
    page.close();
    knob.close();
  });

  it('mapping and preset changes are pushed to pages, and status every second', async () => {
    const page = await TestClient.connect(server);
    assert.ok(Array.isArray((page.messages[0]!['mapping'] as { routes: unknown[] }).routes), 'the welcome carries the mapping');
    const res = await api(server, 'mapping', 'PUT', { version: 1, name: 'pushed', routes: [] });
    assert.equal(res.status, 200);
    assert.equal(((await page.waitFor((m) => m['type'] === 'mapping'))['mapping'] as { name: string }).name, 'pushed');
    assert.equal((await api(server, 'presets', 'POST', { name: 'pushed one' })).status, 200);
    await page.waitFor((m) => m['type'] === 'presets');
    const n = ofType(page, 'presets').length;
    page.send({ type: 'presetSave', name: 'pushed two', id: 's' });
    await page.waitFor((m) => m['type'] === 'applied' && m['id'] === 's');
    await page.waitFor(() => ofType(page, 'presets').length > n);
    assert.equal((await api(server, 'presets/default/pushed%20two', 'DELETE')).status, 200);
    await page.waitFor(() => ofType(page, 'presets').length > n + 1);
    const status = await page.waitFor((m) => m['type'] === 'status', 2500);
    const s = status['status'] as { loop: { fps: number }; engine: string; inputs: unknown };
    assert.ok(s.loop.fps > 0 && typeof s.engine === 'string' && s.inputs, `status carries loop, engine and inputs: ${JSON.stringify(s).slice(0, 200)}`);
    await api(server, 'mapping', 'PUT', { version: 1, name: 'default again', routes: [] });
    page.close();
  });

  it('meters are pushed while a song plays, and stop with it; GET /api/audio/files lists what a page may pick', async () => {
    await fs.mkdir(path.join(root, 'songs'), { recursive: true });
    await runFfmpeg(['-f', 'lavfi', '-i', 'sine=frequency=80:duration=4', '-y', path.join(root, 'songs', 'bass.wav')]);
    await fs.writeFile(path.join(root, 'notes.txt'), 'not audio');
    const files = (await (await api(server, 'audio/files')).json()) as { files: string[] };
    assert.deepEqual(files.files, ['songs/bass.wav'], 'audio files one level down, by the name a page sends back; other files left out');
    const page = await TestClient.connect(server);
    const res = await api(server, 'audio', 'POST', { source: { kind: 'file', file: files.files[0] } });
    assert.equal(res.status, 200, await res.clone().text());
    await sleep(800);
    const meters = ofType(page, 'meters');
    assert.ok(meters.length >= 5, `meters about 15 a second while playing: ${meters.length} in 0.8 s`);
    const last = meters.at(-1)! as { features: { bass: number; rms: number }; audio: { running: boolean } };
    assert.ok(last.features.bass > 0.2 && last.audio.running, `an 80 Hz tone shows on the bass meter: ${JSON.stringify(last)}`);
    assert.equal((await api(server, 'audio', 'POST', { source: { kind: 'none' } })).status, 200);
    await sleep(200);
    const stopped = ofType(page, 'meters').length;
    await sleep(400);
    assert.equal(ofType(page, 'meters').length, stopped, 'no meters without a source');
    page.close();
  });

  it('a model switch is pushed with the new model info', async () => {
    await tinyModel(path.join(root, 'models'), 'other', 5);
    const page = await TestClient.connect(server);
    assert.equal((await api(server, 'models/switch', 'POST', { model: 'other' })).status, 200);
    const m = await page.waitFor((x) => x['type'] === 'model', 10000);
    assert.equal((m['model'] as { name: string }).name, 'other');
    await page.waitFor((x) => x['type'] === 'state' && x['model'] === 'other');
    page.close();
  });

  it('serves the pages and their bundles', async () => {
    for (const [p, type] of [
      ['', /text\/html/],
      ['output', /text\/html/],
      ['dist/control.js', /javascript/],
      ['dist/output.js', /javascript/],
    ] as const) {
      const res = await fetch(`${server.url}${p}`);
      assert.equal(res.status, 200, `GET /${p}`);
      assert.match(res.headers.get('content-type') ?? '', type, `GET /${p} content type`);
    }
    assert.equal((await fetch(`${server.url}dist/.source-hash`)).status, 404, 'dotfiles are not served');
    assert.equal((await fetch(`${server.url}src/control.ts`)).status, 404, 'sources are not served');
  });
});
