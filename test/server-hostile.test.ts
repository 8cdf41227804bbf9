// The live server against hostile pages and clients, on real sockets (port 0): every class of abuse found when
// it was attacked, each by the cause (issue 14). The server runs in this process, so anything that escaped as an
// exception would end the test run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freeLoopbackPort } from '../core/free-port.ts';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { runningChildren } from '../core/children.ts';
import { toWireError } from '../core/errors.ts';
import { setLogLevel } from '../core/log.ts';
import { rng } from '../core/random.ts';
import { AudioDeviceCache } from '../server/audio-device-cache.ts';
import { Hub } from '../server/hub.ts';
import type { Server } from '../server/server.ts';
import { bigModel, sleep, startTestServer, tempRoot, TestClient, tinyModel } from './helpers/server.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** An HTTP request with exactly these headers (fetch will not send a foreign Host). */
function request(url: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; json: Record<string, unknown> | null; text: string }> {
  return new Promise((resolve, reject) => {
    // Node sends GET and DELETE bodies without framing unless told their length.
    const headers = { ...(o.body !== undefined ? { 'content-length': String(Buffer.byteLength(o.body)) } : {}), ...o.headers };
    const req = http.request(url, { method: o.method ?? 'GET', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let json: Record<string, unknown> | null = null;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, json, text });
      });
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

const errorCode = (r: { json: Record<string, unknown> | null }) => (r.json?.['error'] as { code?: string } | undefined)?.code;

/** A WebSocket upgrade with these headers: resolves 'open', or the HTTP status and error code of the refusal. */
function upgrade(url: string, headers: Record<string, string>): Promise<{ open: true; ws: WebSocket } | { open: false; status: number; code: string | undefined }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve({ open: true, ws }));
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        const code = (() => {
          try {
            return (JSON.parse(text) as { error?: { code?: string } }).error?.code;
          } catch {
            return undefined;
          }
        })();
        resolve({ open: false, status: res.statusCode ?? 0, code });
      });
    });
    ws.once('error', (e) => {
      if (!/Unexpected server response/.test(e.message)) reject(e);
    });
  });
}

const wsUrl = (server: Server) => `${server.url.replace(/^http/, 'ws')}ws`;
const post = (server: Server, p: string, body: unknown) =>
  request(`${server.url}api/${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The error codes ERRORS.md documents. */
function documentedCodes(): Set<string> {
  const text = readFileSync(path.join(ROOT, 'ERRORS.md'), 'utf8');
  return new Set([...text.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]!));
}

describe('hostile clients', () => {
  let root: string;
  let server: Server;
  before(async () => {
    setLogLevel('silent');
    root = await tempRoot('rhodops-hostile-');
    await fs.mkdir(path.join(root, 'songs'), { recursive: true });
    // These tests send hundreds of requests in a row; the request limit has its own test.
    server = await startTestServer(root, { allowOrigins: ['http://192.168.1.20:3000'], requestsPerSecond: 10_000 });
  });
  after(async () => {
    await server.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('class 1: JSON that is not an object, and anything a handler throws, gets an error reply; the process and the stream go on', async () => {
    const c = await TestClient.connect(server);
    for (const m of ['null', '[]', '3', '"x"', 'true', '{}', '{"type":null}', '{"type":{"a":1}}', '{"type":"set"}', '[{"type":"ping","t":1}]']) c.send(m);
    const errors = async (n: number) => {
      for (let i = 0; i < 200 && c.messages.filter((m) => m['type'] === 'error').length < n; i++) await sleep(10);
      return c.messages.filter((m) => m['type'] === 'error');
    };
    const got = await errors(10);
    assert.equal(got.length, 10, JSON.stringify(got));
    assert.deepEqual(new Set(got.map((m) => m['code'])), new Set(['BAD_MESSAGE', 'UNKNOWN_TYPE']));
    assert.match(String(got[0]!['message']), /JSON object/);
    const seq = (await c.waitFor(() => c.frames.length > 0, 5000), c.frames.at(-1)!.header.seq);
    await c.waitFrames(3);
    assert.ok(c.frames.at(-1)!.header.seq > seq, 'still streaming');
    c.close();
  });

  it('class 1: REST bodies of every shape to every change get a 4xx with a code, never a 500', async () => {
    const routes: [string, string][] = [
      ['POST', 'models/switch'],
      ['POST', 'presets'],
      ['PATCH', 'presets/default/x'],
      ['DELETE', 'presets/default/x'],
      ['POST', 'presets/default/x/recall'],
      ['PUT', 'mapping'],
      ['POST', 'audio'],
      ['POST', 'recordings/start'],
      ['POST', 'sessions/start'],
    ];
    const bodies = ['null', '[]', '3', '"x"', '{"name":null}', '{"name":{"a":1}}', '{"model":[1]}', '{"source":{"kind":"file","file":"../../../etc/passwd"}}', '{"routes":null}', '{"crossfade":1e308}', '{"name":"' + 'x'.repeat(300) + '"}', '{"smooth":"yes"}', '{"audio":"/etc/passwd"}', '{"name":"../../x"}'];
    for (const [method, p] of routes) {
      for (const body of bodies) {
        const r = await request(`${server.url}api/${p}`, { method, headers: { 'content-type': 'application/json' }, body });
        assert.ok(r.status >= 400 && r.status < 500 && typeof errorCode(r) === 'string', `${method} ${p} ${body.slice(0, 40)}: ${r.status} ${r.text.slice(0, 200)}`);
      }
    }
    assert.equal(server.status().recording, null);
  });

  it('class 1: a handler that throws answers INTERNAL, logs at most once a second, and the client stays connected', async () => {
    let calls = 0;
    const hub = new Hub({}, {
      control: () => {
        calls++;
        throw new TypeError("Cannot read properties of undefined (reading 'x')");
      },
      binary: () => {
        throw new RangeError('offset out of range');
      },
      left: () => undefined,
    });
    const wss = new WebSocketServer({ port: 0 });
    wss.on('connection', (ws) => hub.add(ws, '127.0.0.1', { type: 'presets' }));
    await new Promise((r) => wss.once('listening', r));
    const c = new TestClient(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    await new Promise((r) => c.ws.once('open', r));
    for (let i = 0; i < 5; i++) c.send({ type: 'ping', t: i });
    c.ws.send(Buffer.from('RHA1 and then some'));
    for (let i = 0; i < 200 && c.messages.filter((m) => m['type'] === 'error').length < 6; i++) await sleep(10);
    const errors = c.messages.filter((m) => m['type'] === 'error');
    assert.equal(calls, 5);
    assert.deepEqual(errors.map((m) => m['code']), new Array(6).fill('INTERNAL'));
    assert.match(String(errors[0]!['message']), /reading 'x'/);
    assert.equal(c.ws.readyState, WebSocket.OPEN);
    c.close();
    await new Promise((r) => wss.close(r));
  });

  it('class 2: WebSocket upgrades from other sites, or under a foreign Host name, are refused; own pages, allowed origins and Origin-less clients are not', async () => {
    const port = new URL(server.url).port;
    const own = { origin: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}` };
    const cases: [Record<string, string>, number | 'open', string?][] = [
      [{ origin: 'http://evil.example' }, 403, 'FORBIDDEN_ORIGIN'],
      [{ origin: 'null' }, 403, 'FORBIDDEN_ORIGIN'],
      [{ origin: `http://127.0.0.1:${Number(port) + 1}` }, 403, 'FORBIDDEN_ORIGIN'],
      [{ host: `rebind.evil.example:${port}`, origin: `http://rebind.evil.example:${port}` }, 403, 'FORBIDDEN_HOST'],
      [{ 'sec-fetch-site': 'cross-site' }, 403, 'FORBIDDEN_ORIGIN'],
      [own, 'open'],
      [{ origin: `http://localhost:${port}`, host: `localhost:${port}` }, 'open'],
      [{ origin: 'http://192.168.1.20:3000' }, 'open'],
      [{}, 'open'],
    ];
    for (const [headers, want, code] of cases) {
      const r = await upgrade(wsUrl(server), headers);
      if (want === 'open') {
        assert.ok(r.open, `${JSON.stringify(headers)} should connect`);
        r.ws.close();
      } else {
        assert.ok(!r.open && r.status === want && r.code === code, `${JSON.stringify(headers)}: ${JSON.stringify(r)}`);
      }
    }
  });

  it('class 2: REST changes must be JSON; other sites and foreign Host names are refused, even for reads and pages', async () => {
    const url = `${server.url}api/recordings/start`;
    const textPlain = await request(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"smooth":false}' });
    assert.equal(textPlain.status, 415);
    assert.equal(errorCode(textPlain), 'UNSUPPORTED_MEDIA_TYPE');
    const form = await request(`${server.url}api/presets`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=x' });
    assert.equal(form.status, 415);
    const noType = await request(`${server.url}api/sessions/stop`, { method: 'POST' });
    assert.equal(noType.status, 415);
    const crossJson = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: '{}' });
    assert.deepEqual([crossJson.status, errorCode(crossJson)], [403, 'FORBIDDEN_ORIGIN']);
    assert.equal(server.status().recording, null, 'no take was started by any of them');
    const read = await request(`${server.url}api/status`, { headers: { 'sec-fetch-site': 'cross-site' } });
    assert.deepEqual([read.status, errorCode(read)], [403, 'FORBIDDEN_ORIGIN']);
    const rebind = await request(`${server.url}api/presets`, { headers: { host: 'rebind.evil.example' } });
    assert.deepEqual([rebind.status, errorCode(rebind)], [403, 'FORBIDDEN_HOST']);
    const page = await request(`${server.url}output`, { headers: { host: 'rebind.evil.example' } });
    assert.equal(page.status, 403);
    assert.equal((await request(`${server.url}api/status`)).status, 200, 'a script on this machine may read');
    assert.equal((await request(`${server.url}api/status`, { headers: { origin: server.url.slice(0, -1) } })).status, 200, 'the own page may read');
  });

  it('class 3: a capture device from the network must be one the server listed: lavfi, URLs and paths never reach ffmpeg', async () => {
    const marker = path.join(root, 'written-by-ffmpeg.txt');
    const before = runningChildren();
    const hostile = [
      `lavfi:sine=frequency=440,ametadata=mode=print:file=${marker}`,
      'lavfi:amovie=/etc/passwd',
      'http://127.0.0.1:9/x',
      'alsa:/etc/passwd',
      '-f lavfi -i sine',
      'pulse:x -y /tmp/out.wav',
    ];
    const c = await TestClient.connect(server);
    for (const [i, device] of hostile.entries()) {
      const r = await post(server, 'audio', { source: { kind: 'capture', device } });
      assert.deepEqual([r.status, errorCode(r)], [400, 'AUDIO_DEVICE_UNKNOWN'], `${device}: ${r.text}`);
      c.send({ type: 'audioSource', id: `a${i}`, source: { kind: 'capture', device } });
      const e = await c.waitFor((m) => m['id'] === `a${i}`);
      assert.equal(e['code'], 'AUDIO_DEVICE_UNKNOWN');
    }
    for (let i = 0; i < 100 && runningChildren() > before; i++) await sleep(20); // the device probe's own processes
    assert.equal(runningChildren(), before, 'no process is left running');
    assert.equal(server.status().inputs.audio, null, 'no source was started');
    await assert.rejects(fs.stat(marker), 'ffmpeg never ran the filter graph');
    c.close();
  });

  it('class 3: a server started on a capture spec may be switched back to it from the network; nothing else', async () => {
    const own = 'lavfi:sine=frequency=220';
    const s = await startTestServer(await tempRoot('rhodops-hostile-cap-'), { audio: { kind: 'capture', spec: own } });
    try {
      assert.equal((await post(s, 'audio', { source: { kind: 'none' } })).status, 200);
      const back = await post(s, 'audio', { source: { kind: 'capture', device: own } });
      assert.equal(back.status, 200, back.text);
      assert.equal(s.status().inputs.audio?.spec, 'capture');
      assert.equal(errorCode(await post(s, 'audio', { source: { kind: 'capture', device: 'lavfi:sine=frequency=221' } })), 'AUDIO_DEVICE_UNKNOWN');
    } finally {
      await s.close();
    }
  });

  it('class 4: error replies are short whatever the request; a client that reads nothing is skipped, then closed; connections per address are capped', async () => {
    // Noisy 256² frames (large JPEGs) fill the kernel's socket buffers of a client that reads nothing in seconds.
    const dir = await tempRoot('rhodops-hostile-buf-');
    const s = await startTestServer(dir, { model: await bigModel(path.join(dir, 'models')), hub: { maxBufferedBytes: 64 << 10, maxOverBufferMs: 1000, maxClientsPerAddress: 4 } });
    try {
      const c = await TestClient.connect(s);
      const big = JSON.stringify({ type: 'set', id: 'big', state: { noise: new Array(9000).fill('nope'), categorical: [['x']], continuous: [] } });
      c.send(big);
      const reply = await c.waitFor((m) => m['id'] === 'big');
      const size = JSON.stringify(reply).length;
      assert.equal(reply['code'], 'BAD_MESSAGE');
      assert.ok(size < 600, `a ${big.length}-byte request got a ${size}-byte reply`);

      // A client that never reads, and keeps asking for replies.
      const mute = new WebSocket(wsUrl(s));
      await new Promise((r) => mute.once('open', r));
      const socket = (mute as unknown as { _socket: import('node:net').Socket })._socket;
      socket.pause();
      let closed = false;
      socket.once('close', () => (closed = true));
      const rss0 = process.memoryUsage().rss;
      let rssMax = rss0;
      const flood = setInterval(() => {
        if (mute.readyState !== WebSocket.OPEN) return;
        for (let i = 0; i < 20; i++) mute.send(JSON.stringify({ type: 'teleport', pad: 'x'.repeat(200) }));
      }, 20);
      const framesBefore = c.frames.length;
      for (let i = 0; i < 200 && s.hub.size > 1; i++) {
        rssMax = Math.max(rssMax, process.memoryUsage().rss);
        await sleep(50);
      }
      clearInterval(flood);
      assert.equal(s.hub.size, 1, 'the mute client was closed');
      assert.ok(c.frames.length > framesBefore, 'the healthy client kept getting frames');
      assert.ok((rssMax - rss0) / 2 ** 20 < 64, `RSS grew ${((rssMax - rss0) / 2 ** 20).toFixed(0)} MiB`);
      socket.resume();
      for (let i = 0; i < 100 && !closed; i++) await sleep(20);
      assert.ok(closed, 'its socket was ended by the server');

      const extra = await Promise.all([1, 2, 3, 4].map(() => upgrade(wsUrl(s), {})));
      const refused = extra.filter((r) => !r.open);
      assert.equal(refused.length, 1, 'a fifth connection from one address is refused');
      assert.deepEqual(refused.map((r) => !r.open && [r.status, r.code]), [[429, 'TOO_MANY_CONNECTIONS']]);
      for (const r of extra) if (r.open) r.ws.close();

      // REST: a burst past the per-address budget (100 a second, 200 at once) is answered 429, not queued.
      // The property is the budget, whatever the machine's speed: at most 200 at once plus 100 a second for as long
      // as the burst took to arrive get through (a loaded machine spreads the burst out and the bucket refills).
      const t0 = performance.now();
      const burst = await Promise.all(Array.from({ length: 400 }, () => request(`${s.url}api/audio/devices`)));
      const seconds = (performance.now() - t0) / 1000;
      const limited = burst.filter((r) => r.status === 429);
      const served = burst.filter((r) => r.status === 200).length;
      assert.equal(served + limited.length, 400, 'every request answered: served or refused, none failed');
      assert.ok(limited.every((r) => errorCode(r) === 'RATE_LIMITED'), 'refusals say RATE_LIMITED');
      assert.ok(served <= 200 + Math.ceil(100 * seconds) + 1, `${served} served in ${seconds.toFixed(2)} s: over the budget`);
      assert.ok(limited.length > 0 || seconds > 1.9, `nothing refused of a burst that arrived within ${seconds.toFixed(2)} s`);
      assert.ok(served >= 150, `${served} served: the budget itself gets through`);
      c.close();
    } finally {
      await s.close();
    }
  });

  it('class 5: large messages spend a byte budget per address; the rate-limit reply comes once a second, not once a message', async () => {
    const c = await TestClient.connect(server);
    const other = await TestClient.connect(server); // the same address: the budget is shared
    const msg = JSON.stringify({ type: 'set', state: { noise: new Array(6000).fill('n'), categorical: [], continuous: [] } });
    for (let i = 0; i < 30; i++) (i % 2 ? other : c).send(msg);
    await sleep(400);
    const all = [...c.messages, ...other.messages].filter((m) => m['type'] === 'error');
    const limited = all.filter((m) => m['code'] === 'RATE_LIMITED');
    const checked = all.filter((m) => m['code'] === 'BAD_MESSAGE');
    assert.ok(checked.length < 30 && checked.length >= 5, `${checked.length} of 30 large messages were parsed`);
    assert.ok(limited.length >= 1 && limited.length <= 2, `${limited.length} RATE_LIMITED replies`);
    assert.match(String(limited[0]!['message']), /KiB/);
    c.close();
    other.close();
  });

  it('class 5: a burst of device listings runs one probe; a mapping with more routes than the cap is refused', async () => {
    let probes = 0;
    const cache = new AudioDeviceCache(async () => {
      probes++;
      await sleep(50);
      return { platform: 'linux', devices: [], notes: ['none'] };
    });
    const lists = await Promise.all(Array.from({ length: 50 }, () => cache.list()));
    assert.equal(probes, 1);
    assert.ok(lists.every((l) => l === lists[0]));
    await cache.list();
    assert.equal(probes, 1, 'cached');

    const r = await Promise.all(Array.from({ length: 20 }, () => request(`${server.url}api/audio/devices`)));
    assert.ok(r.every((x) => x.status === 200 && x.text === r[0]!.text), 'every request answered, the same');

    const routes = Array.from({ length: 129 }, (_, i) => ({ name: `r${i}`, source: { kind: 'lfo', rate: 50 }, target: { kind: 'reseed' } }));
    const put = await request(`${server.url}api/mapping`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version: 1, name: 'flood', routes }) });
    assert.deepEqual([put.status, errorCode(put)], [400, 'MAPPING_INVALID']);
    assert.match(put.text, /at most 128 routes/);
  });

  it('class 5: a mapping that fires preset recalls and reseeds at every frame (and presets that bring it back) costs at most one of each a frame, from states in memory', async () => {
    const routes = Array.from({ length: 100 }, (_, i) => ({
      name: `r${i}`,
      source: { kind: 'lfo', shape: 'square', rate: 25 + (i % 7), phase: (i % 10) / 10 },
      target: i % 3 === 0 ? { kind: 'reseed' } : { kind: 'preset recall', name: i % 2 ? 'A' : 'B', crossfade: 0 },
    }));
    const put = await request(`${server.url}api/mapping`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version: 1, name: 'flood', routes }) });
    assert.equal(put.status, 200, put.text);
    // Saved while the flood plays, the presets keep it: each recall sets it again.
    assert.equal((await post(server, 'presets', { name: 'A' })).status, 200);
    assert.equal((await post(server, 'presets', { name: 'B' })).status, 200);
    const session = await post(server, 'sessions/start', { name: 'flood' });
    assert.equal(session.status, 200, session.text);
    await sleep(2000);
    await request(`${server.url}api/mapping`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version: 1, name: 'calm', routes: [] }) });
    const stats = (await post(server, 'sessions/stop', {})).json as { file: string; frames: number };
    const lines = (await fs.readFile(stats.file, 'utf8')).trim().split('\n').slice(1).map((l) => JSON.parse(l) as { op?: string; t?: number; dt?: number });
    const frames = lines.filter((l) => l.dt !== undefined).length;
    const recalls = lines.filter((l) => l.op === 'setState').length;
    const reseeds = lines.filter((l) => l.op === 'randomize').length;
    const span = lines.at(-2)!.t! - lines.find((l) => l.t !== undefined)!.t!;
    assert.ok(frames > 10, `${frames} frames`);
    assert.ok(reseeds <= frames, `${reseeds} reseeds in ${frames} frames`);
    assert.ok(recalls >= 2 && recalls <= frames, `${recalls} recalls in ${frames} frames (${span.toFixed(1)} s)`);
    const mappings = lines.filter((l) => 'mapping' in l).length;
    assert.ok(mappings <= 1, `a mapped recall does not replace the mapping (${mappings} replaced)`);
  });

  it('class 6: overlapping audio changes leave one source, the last asked for; overlapping takes make one take, and a second stop gets its result', async () => {
    const songs = path.join(root, 'songs');
    for (const n of [1, 2, 3, 4, 5]) {
      await new Promise<void>((resolve, reject) => {
        const p = spawn('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=${200 * n}:duration=2`, path.join(songs, `s${n}.wav`)]);
        p.on('error', reject);
        p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg ${code}`))));
      });
    }
    const before = runningChildren();
    const changes = await Promise.all([1, 2, 3, 4, 5].map((n) => post(server, 'audio', { source: { kind: 'file', file: `songs/s${n}.wav` } })));
    assert.ok(changes.every((r) => r.status === 200), changes.map((r) => r.text).join('\n'));
    const audio = server.status().inputs.audio;
    assert.equal(audio?.spec, 'file');
    assert.match(String(audio?.name), /s5\.wav/);
    assert.ok(runningChildren() - before <= 1, `${runningChildren() - before} audio processes run`);

    const starts = await Promise.all([1, 2, 3].map(() => post(server, 'recordings/start', {})));
    assert.deepEqual(starts.map((r) => r.status).sort(), [200, 409, 409]);
    assert.ok(starts.filter((r) => r.status === 409).every((r) => errorCode(r) === 'RECORDING_ACTIVE'));
    await sleep(300);
    const [a, b] = await Promise.all([post(server, 'recordings/stop', {}), post(server, 'recordings/stop', {})]);
    assert.deepEqual([a.status, b.status], [200, 200], `${a.text} ${b.text}`);
    assert.deepEqual(a.json, b.json, 'both stops got the same take');
    const take = a.json as { name: string; files: { mp4?: string }; session: { file: string; error: string | null } | null };
    assert.ok(take.files.mp4, 'the take made its MP4');
    assert.ok(take.session && take.session.error === null, 'the take has its session log');
    const files = await fs.readdir(path.join(root, 'recordings'));
    assert.deepEqual(files.filter((f) => /^take-.*\.(mkv|mp4)$/.test(f)), [`${take.name}.mp4`], 'no orphan files');
    assert.equal(errorCode(await post(server, 'recordings/stop', {})), 'NOT_FOUND');
    assert.equal((await post(server, 'audio', { source: { kind: 'none' } })).status, 200);
  });

  it('class 7: values that overflow float32 are refused at the boundary, and the frames never go black', async () => {
    const c = await TestClient.connect(server);
    const n = server.engine.model.info.latent.noise;
    c.send({ type: 'smoothing', timeConstant: 0 });
    c.send({ type: 'set', id: 'huge', state: { noise: new Array(n).fill(1e308), categorical: [[1, 0, 0]], continuous: [0] } });
    c.send({ type: 'continuous', id: 'c', index: 0, value: 1e308 });
    c.send({ type: 'ping', id: 'p', t: 1e308 });
    assert.equal((await c.waitFor((m) => m['id'] === 'huge'))['code'], 'BAD_MESSAGE');
    assert.equal((await c.waitFor((m) => m['id'] === 'c'))['code'], 'BAD_MESSAGE');
    await c.waitFor((m) => m['id'] === 'p' && m['type'] === 'pong');
    await c.waitFrames(3);
    const px = [...c.frames.at(-1)!.payload];
    assert.ok(Math.max(...px) - Math.min(...px) > 50, 'a picture, not a blank');
    const state = await c.waitFor((m) => m['type'] === 'state' || m['type'] === 'welcome');
    assert.ok(!JSON.stringify(state).includes('null'), 'no non-finite values in state messages');
    c.close();
  });

  it('class 9: off loopback, everything but the pages needs the token, and no client learns another one\'s address', async () => {
    const s = await startTestServer(await tempRoot('rhodops-hostile-lan-'), { host: '0.0.0.0' });
    try {
      const url = s.url.replace('0.0.0.0', '127.0.0.1');
      for (const p of ['api/status', 'api/models', 'api/presets', 'api/mapping', 'api/inputs', 'api/audio/devices', 'api/audio/files', 'api/recordings', 'recordings/x.mp4']) {
        const r = await request(`${url}${p}`);
        assert.deepEqual([r.status, errorCode(r)], [401, 'UNAUTHORIZED'], p);
      }
      assert.equal((await request(`${url}`)).status, 200);
      assert.equal((await request(`${url}dist/control.js`)).status, 200);
      const c = await TestClient.connect({ ...s, url } as Server, `?token=${s.token}`);
      const st = await c.waitFor((m) => m['type'] === 'status', 3000);
      const text = JSON.stringify(st);
      assert.ok(!/127\.0\.0\.1|::ffff/.test(text), 'no addresses in status');
      assert.ok((st['status'] as { clients: object[] }).clients.every((x) => !('address' in x)));
      c.close();
    } finally {
      await s.close();
    }
  });

  it('class 10: every error code a client can meet is in ERRORS.md and in the code type; failed writes and switches say what to do', async () => {
    const documented = documentedCodes();
    const src = readFileSync(path.join(ROOT, 'core', 'errors.ts'), 'utf8');
    const union = src.slice(src.indexOf('export type ErrorCode'), src.indexOf(';', src.indexOf('export type ErrorCode')));
    const codes = [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]!);
    assert.ok(codes.length > 40);
    assert.deepEqual(codes.filter((c) => !documented.has(c)), [], 'codes missing from ERRORS.md');

    for (const errno of ['ENOSPC', 'EACCES', 'EPERM', 'EROFS', 'EFBIG']) {
      const w = toWireError(Object.assign(new Error(`${errno}: no`), { code: errno, path: '/x/presets/a.json' }));
      assert.equal(w.code, 'OUTPUT_UNWRITABLE');
      assert.ok(w.hint && w.message.includes('/x/presets/a.json'));
    }
    assert.equal(toWireError(new Error('x'.repeat(5000))).message.length <= 400, true);

    // A model that will not load: the switch is answered with why, and the old model plays on.
    const broken = path.join(root, 'models', 'broken');
    await tinyModel(path.join(root, 'models'), 'broken', 3);
    await fs.writeFile(path.join(broken, 'generator.onnx'), 'not a model');
    const before = server.status().model.name;
    const r = await post(server, 'models/switch', { model: 'broken' });
    assert.equal(r.status, 400, r.text);
    assert.match(String(errorCode(r)), /CHECKPOINT_FILE_CORRUPT|ONNX_INVALID/);
    assert.ok((r.json?.['error'] as { hint?: string }).hint);
    assert.equal(server.status().model.name, before);
  });
});

describe('the fuzzer', () => {
  it('a few thousand random JSON values and byte strings: every one answered or ignored, the process alive, a healthy client still streaming and in control', async () => {
    setLogLevel('silent');
    const root = await tempRoot('rhodops-fuzz-');
    const server = await startTestServer(root, { hub: { messagesPerSecond: 2000, burst: 2000, textBytesPerSecond: 4 << 20, textBurstBytes: 4 << 20 } });
    const documented = documentedCodes();
    try {
      const healthy = await TestClient.connect(server);
      const attacker = await TestClient.connect(server);
      const random = rng(20261204);
      const int = (n: number) => Math.floor(random() * n);
      const TYPES = ['set', 'randomize', 'category', 'crossfade', 'continuous', 'direction', 'drift', 'truncation', 'smoothing', 'transition', 'presetRecall', 'presetSave', 'ping', 'midi', 'learn', 'learnCancel', 'mapping', 'audioSource', 'display'];
      const scalars = () => [null, true, false, 0, -0, 1, -1, 0.5, 1e308, -1e308, 5e-324, 2 ** 53, -(2 ** 31), 4096, 255, 'x', '', '../../etc/passwd', 'lavfi:amovie=/etc/passwd', '\u0000', 'é'.repeat(40), 'default', 'capture'][int(23)];
      const value = (depth: number): unknown => {
        const k = int(depth > 3 ? 2 : 5);
        if (k < 2) return scalars();
        if (k === 2) return Array.from({ length: int(6) }, () => value(depth + 1));
        if (k === 3) return Array.from({ length: int(300) }, () => (random() < 0.9 ? random() * 4 - 2 : scalars()));
        const keys = ['type', 'id', 'state', 'noise', 'categorical', 'continuous', 'code', 'value', 'index', 'from', 'to', 't', 'speed', 'psi', 'seconds', 'name', 'bank', 'bytes', 'target', 'kind', 'mapping', 'routes', 'source', 'device', 'file', 'settings', 'seed', '__proto__', 'constructor'];
        const o: Record<string, unknown> = {};
        for (let i = int(6); i > 0; i--) o[keys[int(keys.length)]!] = value(depth + 1);
        return o;
      };
      const message = (): string | Buffer => {
        const r = random();
        if (r < 0.1) return Buffer.from(Array.from({ length: int(200) }, () => int(256)));
        if (r < 0.15) return Buffer.concat([Buffer.from('RHA1'), Buffer.from(Array.from({ length: int(64) }, () => int(256)))]);
        if (r < 0.2) return Array.from({ length: int(100) }, () => String.fromCharCode(int(128))).join('');
        if (r < 0.3) return JSON.stringify(value(0));
        const m = value(1) as Record<string, unknown>;
        const shaped = typeof m === 'object' && m !== null && !Array.isArray(m) ? m : {};
        return JSON.stringify({ ...shaped, type: TYPES[int(TYPES.length)] });
      };
      const N = 3000;
      const windows: number[] = [];
      for (let i = 0; i < N; i += 150) {
        const framesBefore = healthy.frames.length;
        for (let j = 0; j < 150; j++) {
          const m = message();
          if (typeof m === 'string') attacker.ws.send(m);
          else attacker.ws.send(m, { binary: true });
        }
        await sleep(150);
        windows.push(healthy.frames.length - framesBefore);
      }
      await sleep(500);
      const codes = new Set(attacker.messages.filter((m) => m['type'] === 'error').map((m) => String(m['code'])));
      assert.deepEqual([...codes].filter((c) => !documented.has(c)), [], 'every code the fuzzer met is documented');
      assert.ok(windows.every((n) => n > 0), `the healthy client got frames in every window: ${windows.join(' ')}`);
      assert.equal(attacker.ws.readyState, WebSocket.OPEN, 'the attacker is answered, not dropped');
      // Still in control: a valid message is applied and acknowledged with a frame.
      healthy.send({ type: 'randomize', seed: 5, id: 'after' });
      const ack = await healthy.waitFor((m) => m['id'] === 'after');
      assert.equal(ack['type'], 'applied');
      assert.ok(process.memoryUsage().rss < 2 ** 31);
      healthy.close();
      attacker.close();
    } finally {
      await server.close();
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});


/** Process ids whose parent is `pid` (Linux /proc). */
async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const e of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const stat = await fs.readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) out.push(Number(e));
  }
  return out;
}

/** Running, not a zombie (a container's PID 1 may never reap what an exited server left). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

/** `rhodops serve` as its own process, on a free port, with its folders in `root`. */
async function serveProcess(root: string): Promise<{ proc: ReturnType<typeof spawn>; url: string; exited: Promise<{ code: number | null; signal: string | null }> }> {
  const port = await freeLoopbackPort();
  const proc = spawn(process.execPath, [path.join(ROOT, 'bin', 'rhodops.js'), 'serve', '--port', String(port), '--midi', 'none', '--recordings', path.join(root, 'recordings'), '--audio-dir', root], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  for (let i = 0; i < 600 && !/rhodops is playing/.test(out); i++) {
    if (proc.exitCode !== null) throw new Error(`serve exited: ${out}`);
    await sleep(50);
  }
  assert.match(out, /rhodops is playing/, out);
  return { proc, url: `http://127.0.0.1:${port}/`, exited };
}

describe('shutdown and write failures, in a server process of its own', () => {
  it('class 6: SIGTERM during overlapping takes and audio changes exits within 5 s, with every child process gone', { timeout: 60_000 }, async () => {
    const root = await tempRoot('rhodops-sigterm-');
    try {
      for (const n of [1, 2, 3]) {
        await new Promise<void>((resolve, reject) => {
          const p = spawn('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=${300 * n}:duration=20`, path.join(root, `s${n}.wav`)]);
          p.on('error', reject);
          p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg ${code}`))));
        });
      }
      const { proc, url, exited } = await serveProcess(root);
      const api = (p: string, body: unknown) => fetch(`${url}api/${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).catch(() => null);
      const pending = [
        ...[1, 2, 3].map((n) => api('audio', { source: { kind: 'file', file: `s${n}.wav` } })),
        api('recordings/start', { smooth: true }),
        api('recordings/start', {}),
      ];
      await Promise.all(pending);
      // More changes in flight as the signal arrives.
      void api('audio', { source: { kind: 'file', file: 's1.wav' } });
      void api('recordings/start', {});
      await sleep(800);
      const kids = await childrenOf(proc.pid!);
      assert.ok(kids.length >= 2, `ffmpeg for the song and the take run (${kids.length} children)`);
      const t0 = performance.now();
      proc.kill('SIGTERM');
      const end = await Promise.race([exited, sleep(5000).then(() => null)]);
      const took = performance.now() - t0;
      if (!end) proc.kill('SIGKILL');
      assert.ok(end, `still running ${took.toFixed(0)} ms after SIGTERM`);
      await sleep(100);
      assert.deepEqual(kids.filter(alive), [], 'no child process outlived the server');
      const files = await fs.readdir(path.join(root, 'recordings'));
      assert.ok(files.some((f) => /\.mp4$/.test(f)), `the take was finished: ${files.join(', ')}`);
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });

  it('class 8 and 10: when writes fail (file size limit), status and the take say so, and a preset save answers OUTPUT_UNWRITABLE with a hint', { timeout: 60_000 }, async () => {
    const root = await tempRoot('rhodops-full-');
    const { proc, url, exited } = await serveProcess(root);
    try {
      const call = async (method: string, p: string, body?: unknown) => {
        const r = await fetch(`${url}api/${p}`, { method, headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
        return { status: r.status, json: (await r.json()) as Record<string, unknown> };
      };
      assert.equal((await call('POST', 'sessions/start', {})).status, 200);
      await sleep(300);
      // From now on no file of this process may grow past 256 bytes: the session log is past that already.
      await new Promise<void>((resolve, reject) => {
        const p = spawn('prlimit', ['--pid', String(proc.pid), '--fsize=256']);
        p.on('error', reject);
        p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`prlimit ${code}`))));
      });
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}ws`);
      await new Promise((r) => ws.once('open', r));
      for (let i = 0; i < 20; i++) ws.send(JSON.stringify({ type: 'direction', index: 0, value: i / 10 }));
      ws.close();
      type Stats = { error: string | null; dropped: number };
      let session: Stats | null = null;
      for (let i = 0; i < 100; i++) {
        session = ((await call('GET', 'status')).json['session'] as Stats | null) ?? null;
        if (session?.error) break;
        await sleep(50);
      }
      assert.match(String(session?.error), /EFBIG|too large/i, JSON.stringify(session));
      assert.ok(session!.dropped > 0);
      const saved = await call('POST', 'presets', { name: 'full' });
      assert.equal(saved.status, 500);
      const err = saved.json['error'] as { code: string; message: string; hint: string };
      assert.equal(err.code, 'OUTPUT_UNWRITABLE');
      assert.match(err.message, /EFBIG/);
      assert.ok(err.hint.length > 10);
      const stopped = await call('POST', 'sessions/stop', {});
      assert.match(String(stopped.json['error']), /EFBIG|too large/i);
    } finally {
      proc.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});
