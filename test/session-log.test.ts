// Session logs: a performance through a real server (knobs, MIDI through the mapping, drift, a preset
// crossfade, new noise) is logged, and replaying the log makes the live latents bit for bit. A log cut by a
// crash still replays; a corrupt one is refused with the line named; a take gets its log beside it.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setLogLevel } from '../core/log.ts';
import type { Server } from '../server/server.ts';
import { readSession, replayLatents } from '../instrument/session-read.ts';
import { sleep, startTestServer, tempRoot, TestClient } from './helpers/server.ts';

const api = (server: Server, p: string, method = 'GET', body?: unknown) =>
  fetch(`${server.url}api/${p}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

describe('session logs and replay', () => {
  let root: string;
  let server: Server;
  /** Every latent the live loop asked for, by its time. */
  const live = new Map<number, Float32Array>();
  before(async () => {
    setLogLevel('silent');
    root = await tempRoot('rhodops-session-');
    server = await startTestServer(root, { fps: 40 });
    const original = server.instrument.frameAt.bind(server.instrument);
    server.instrument.frameAt = (t, dt) => {
      const v = original(t, dt);
      live.set(t, Float32Array.from(v));
      return v;
    };
  });
  after(async () => {
    await server.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  let file = '';
  it('a performance, logged, replays to the same latents frame by frame', async () => {
    const c = await TestClient.connect(server);
    c.send({ type: 'direction', index: 1, value: 1.2 }); // before the log: part of its starting state
    c.send({ type: 'presetSave', name: 'start', id: 'save' });
    await c.waitFor((m) => m['type'] === 'applied' && m['id'] === 'save');
    await sleep(200);
    const started = (await (await api(server, 'sessions/start', 'POST', { name: 'perf' })).json()) as { file: string };
    file = started.file;
    const steps: unknown[] = [
      { type: 'smoothing', timeConstant: 0.3 },
      { type: 'direction', index: 0, value: -2 },
      { type: 'midi', bytes: [0xb0, 2, 100] }, // CC 2 → direction 1 through the built-in mapping
      { type: 'drift', speed: 0.8 },
      { type: 'crossfade', code: 0, from: 0, to: 2, t: 0.4 },
      { type: 'continuous', index: 0, value: 1.5 },
      { type: 'presetRecall', name: 'start', crossfade: 0.5 },
      { type: 'randomize', seed: 77 },
      { type: 'truncation', psi: 0.7 },
      { type: 'drift', speed: 0 },
    ];
    for (const s of steps) {
      c.send(s);
      await sleep(150);
    }
    await sleep(300);
    const stats = (await (await api(server, 'sessions/stop', 'POST')).json()) as { frames: number; dropped: number };
    assert.equal(stats.dropped, 0);
    assert.ok(stats.frames > 40, `the loop made frames while logging: ${stats.frames}`);

    const session = await readSession(file);
    assert.equal(session.frames, stats.frames, 'every frame is in the log');
    assert.ok(session.end && !session.truncated, 'a cleanly stopped log has its end line');
    const ops = new Set(session.events.flatMap((e) => (e.kind === 'op' ? [e.op.op] : [])));
    for (const op of ['setSmoothing', 'setDirection', 'setDrift', 'crossfade', 'setContinuous', 'setState', 'randomize', 'setTruncation']) {
      assert.ok(ops.has(op as never), `the log has ${op}: ${[...ops].join(', ')}`);
    }
    assert.ok(session.events.some((e) => e.kind === 'input' && e.input.type === 'cc'), 'the MIDI input is logged too');

    let compared = 0;
    let moving = 0;
    let previous: Float32Array | null = null;
    for (const f of replayLatents(session)) {
      assert.ok(f.exact, `frame ${f.index} (at ${f.time.toFixed(3)} s) has the live frame's hash`);
      const t = session.header.t0 + f.time;
      const liveLatent = [...live.entries()].find(([lt]) => Math.abs(lt - t) < 1e-9)?.[1];
      if (liveLatent) {
        assert.deepEqual(f.latent, liveLatent, `frame ${f.index}: the replayed latent equals the live one`);
        compared++;
      }
      if (previous && f.latent.some((v, i) => v !== previous![i])) moving++;
      previous = f.latent;
    }
    assert.ok(compared >= session.frames - 1, `compared ${compared} of ${session.frames} frames with the live latents`);
    assert.ok(moving > session.frames / 2, `the latent moved in most frames (${moving}): the test exercises smoothing and drift`);
    c.close();
  });

  it('a log cut by a crash replays what it has; a corrupt line is named', async () => {
    const text = await fs.readFile(file, 'utf8');
    const lines = text.trimEnd().split('\n');
    // Drop the end line and cut the one before it in the middle, as a kill mid-write would.
    const cut = path.join(root, 'cut.session.jsonl');
    const lastFrame = lines.slice(0, -1);
    await fs.writeFile(cut, `${lastFrame.slice(0, -1).join('\n')}\n${lastFrame.at(-1)!.slice(0, 12)}`);
    const session = await readSession(cut);
    assert.ok(session.truncated && session.end === null, 'the cut line is dropped and reported');
    const frames = [...replayLatents(session)];
    assert.ok(frames.length > 40 && frames.every((f) => f.exact), 'the rest replays exactly');

    const bad = path.join(root, 'bad.session.jsonl');
    await fs.writeFile(bad, [...lines.slice(0, 5), '{"t": 1, "op": "explode", "args": []}', ...lines.slice(5)].join('\n'));
    await assert.rejects(readSession(bad), (e: Error & { code?: string }) => e.code === 'SESSION_INVALID' && /line 6/.test(e.message) && /explode/.test(e.message));
    const notSession = path.join(root, 'x.session.jsonl');
    await fs.writeFile(notSession, '{"hello": 1}\n');
    await assert.rejects(readSession(notSession), (e: Error & { code?: string }) => e.code === 'SESSION_INVALID' && /not a rhodops session/.test(e.message));
  });

  it('a take gets a session log beside it, downloadable with the take', async () => {
    const take = (await (await api(server, 'recordings/start', 'POST', {})).json()) as { name: string };
    assert.ok(server.status().session, 'a session log runs with the take');
    await sleep(600);
    await api(server, 'recordings/stop', 'POST');
    assert.equal(server.status().session, null, 'and stops with it');
    const res = await fetch(`${server.url}recordings/${take.name}.session.jsonl`);
    assert.equal(res.status, 200);
    const first = JSON.parse((await res.text()).split('\n')[0]!) as { format: string; model: { name: string } };
    assert.equal(first.format, 'rhodops-session');
    assert.equal(first.model.name, server.engine.model.info.name);
  });
});
