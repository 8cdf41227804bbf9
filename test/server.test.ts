// The performance server, for real: a server on port 0, real WebSocket clients, real ONNX Runtime.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setLogLevel } from '../core/log.ts';
import type { Server } from '../server/server.ts';
import { bigModel, sleep, startTestServer, tempRoot, TestClient, tinyModel } from './helpers/server.ts';

describe('performance server', () => {
  let root: string;
  let server: Server;
  before(async () => {
    setLogLevel('silent');
    root = await tempRoot('rhodops-server-');
    server = await startTestServer(root);
  });
  after(async () => {
    await server.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('streams frames with increasing sequence numbers', async () => {
    const c = await TestClient.connect(server);
    await c.waitFrames(30);
    const seqs = c.frames.map((f) => f.header.seq);
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `seq ${seqs[i]} after ${seqs[i - 1]}`);
    const f = c.frames.at(-1)!;
    assert.deepEqual([f.header.format, f.payload.length], [3, 28 * 28 * 3], 'a small frame goes raw: RGB, no encoding');
    const px = [...f.payload];
    assert.ok(Math.max(...px) - Math.min(...px) > 100, 'the raw frame is a picture, not a blank');
    assert.equal(f.header.width, 28, 'frames go out at the model size; pages enlarge them');
    c.close();
  });

  it('a control message changes the frames from the one it is acknowledged with', async () => {
    const c = await TestClient.connect(server);
    c.send({ type: 'smoothing', timeConstant: 0 });
    c.send({ type: 'category', code: 0, value: 0, id: 'a' });
    const a = await c.waitFor((m) => m['id'] === 'a' && m['type'] === 'applied');
    await c.waitFrames(3);
    const before = c.frames.at(-1)!.payload;
    c.send({ type: 'category', code: 0, value: 2, id: 'b' });
    const b = await c.waitFor((m) => m['id'] === 'b' && m['type'] === 'applied');
    await c.waitFrames(2);
    const changed = c.frames.find((f) => f.header.seq === b['seq'])!;
    assert.ok(!changed.payload.equals(before), 'the acknowledged frame differs');
    assert.ok((b['seq'] as number) > (a['seq'] as number));
    assert.ok(typeof b['latencyMs'] === 'number' && (b['latencyMs'] as number) >= 0, 'the reply says how long it took (the bench measures it)');
    const st = await c.waitFor((m) => m['type'] === 'state' && JSON.stringify((m['state'] as { categorical: number[][] }).categorical) === '[[0,0,1]]');
    assert.ok(st, 'state broadcast to control pages');
    c.close();
  });

  it('malformed, unknown, invalid and oversized messages get error replies and change nothing', async () => {
    const c = await TestClient.connect(server);
    c.send('{not json');
    c.send({ type: 'teleport' });
    c.send({ type: 'category', code: 0, value: 'three', id: 'bad' });
    c.send({ type: 'category', code: 0, value: 7, id: 'range' });
    c.send({ type: 'randomize', pad: 'x'.repeat(100_000) });
    c.ws.send(Buffer.from([1, 2, 3]));
    const codes = async (code: string) => c.waitFor((m) => m['type'] === 'error' && m['code'] === code);
    await codes('BAD_JSON');
    assert.match(String((await codes('UNKNOWN_TYPE'))['message']), /teleport/);
    assert.match(String((await codes('BAD_MESSAGE'))['message']), /value/);
    assert.match(String((await c.waitFor((m) => m['id'] === 'range' && m['type'] === 'error'))['message']), /3 values/);
    await codes('TOO_LARGE');
    await c.waitFrames(1);
    const seq = c.frames.at(-1)!.header.seq;
    await c.waitFrames(5);
    assert.ok(c.frames.at(-1)!.header.seq > seq, 'still streaming');
    assert.equal(c.ws.readyState, c.ws.OPEN, 'the connection stays open');
    c.close();
  });

  it('a client that does not read skips frames; the others do not', async () => {
    // Big frames (noisy 256² JPEG at q100) fill the loopback socket buffers within seconds, so ws's own buffer grows.
    const big = await startTestServer(root, { model: await bigModel(root), jpegQuality: 100, hub: { ...server.options.hub, maxBufferedBytes: 256 << 10 } });
    const fast = await TestClient.connect(big);
    const slow = await TestClient.connect(big);
    // Stop reading the slow client's socket: its data piles up in the kernel, then in ws's buffer.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    for (let i = 0; i < 150 && !big.status().clients.some((s) => s.framesDropped > 20); i++) await sleep(100);
    const stats = big.status().clients;
    const slowStats = stats.find((s) => s.framesDropped > 20);
    const fastStats = stats.find((s) => s !== slowStats)!;
    assert.ok(fastStats.framesDropped <= 0.1 * fastStats.framesSent, `the reading client skipped ${fastStats.framesDropped} of ${fastStats.framesSent + fastStats.framesDropped} frames`);
    const f = fast.frames.at(-1)!;
    assert.deepEqual([f.header.format, f.header.width, f.payload[0], f.payload[1]], [1, 256, 0xff, 0xd8], 'a 256² frame is a JPEG at the model size');
    assert.ok(slowStats, `the slow client skipped frames: ${JSON.stringify(stats)}`);
    fast.close();
    slow.ws.terminate();
    await big.close();
  });

  it('a failing engine does not stop the stream: the last good frame is re-sent and the error reported', async () => {
    const c = await TestClient.connect(server);
    await c.waitFrames(2);
    const engine = server.engine as unknown as { render: (...a: unknown[]) => Promise<unknown> };
    const real = engine.render;
    engine.render = async () => {
      throw new Error('injected engine fault');
    };
    await c.waitFrames(10);
    engine.render = real;
    await c.waitFrames(3);
    const loop = server.status().loop;
    assert.ok(loop.errors >= 10 && loop.lastError === 'injected engine fault', JSON.stringify(loop));
    c.close();
  });

  it('switches model at run time without dropping the stream', async () => {
    await tinyModel(path.join(root, 'models'), 'other', 7);
    const c = await TestClient.connect(server);
    const res = await fetch(`${server.url}api/models/switch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'other' }) });
    assert.equal(res.status, 200, 'answered once the model has loaded');
    assert.deepEqual(await res.json(), { switched: 'other' });
    const started = c.frames.length;
    for (let i = 0; i < 100 && server.status().model.name !== 'other'; i++) await sleep(20);
    assert.equal(server.status().model.name, 'other');
    await c.waitFrames(3);
    const seqs = c.frames.slice(started).map((f) => f.header.seq);
    assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!));
    const bad = await fetch(`${server.url}api/models/switch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'missing' }) });
    assert.equal(bad.status, 404);
    c.close();
  });

  it('saves, lists and recalls presets through REST', async () => {
    const post = (p: string, body: unknown) => fetch(`${server.url}api/${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await post('presets', { name: 'Drop 1' })).status, 200);
    const list = (await (await fetch(`${server.url}api/presets`)).json()) as { presets: { name: string }[] };
    assert.deepEqual(list.presets.map((p) => p.name), ['Drop 1']);
    const recall = await post('presets/default/Drop%201/recall', { crossfade: 0.5 });
    assert.equal(recall.status, 200);
    assert.equal((await post('presets/default/nothing/recall', {})).status, 404);
    const tooBig = await post('presets', { name: 'x'.repeat(70_000) });
    assert.equal(tooBig.status, 413);
  });
});

describe('access control', () => {
  it('off loopback, a token is generated and required for WebSocket connections and every REST route; the pages need none', async () => {
    setLogLevel('silent');
    const root = await tempRoot('rhodops-token-');
    const server = await startTestServer(root, { host: '0.0.0.0' });
    try {
      assert.ok(server.token && server.token.length >= 20);
      const url = server.url.replace('0.0.0.0', '127.0.0.1');
      const local = { ...server, url } as Server;
      await assert.rejects(TestClient.connect(local), /401/);
      const c = await TestClient.connect(local, `?token=${server.token}`);
      c.close();
      const post = (headers: Record<string, string>) => fetch(`${url}api/presets`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"name":"p"}' });
      assert.equal((await post({})).status, 401);
      assert.equal((await post({ authorization: `Bearer ${server.token}` })).status, 200);
      assert.equal((await fetch(`${url}api/status`)).status, 401, 'reading needs the token too: paths, devices and presets are not for the network');
      assert.equal((await fetch(`${url}api/status`, { headers: { authorization: `Bearer ${server.token}` } })).status, 200);
      assert.equal((await fetch(`${url}output`)).status, 200, 'the pages load, and ask for the token themselves');
    } finally {
      await server.close();
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});
