// Live inputs through a real server: Web MIDI bytes and MIDI learn over the WebSocket, mappings, browser PCM,
// an audio file played along (and muxed into a take), presets that carry their mapping, program change.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runFfmpeg } from '../core/ffmpeg.ts';
import { setLogLevel } from '../core/log.ts';
import { probeJson } from '../server/recorder/probe.ts';
import { encodePcmMessage } from '../protocol/pcm.ts';
import type { Server } from '../server/server.ts';
import { sleep, startTestServer, tempRoot, TestClient } from './helpers/server.ts';

const api = (server: Server, p: string, method = 'GET', body?: unknown) =>
  fetch(`${server.url}api/${p}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

const directions = (server: Server) => server.instrument.snapshot().controls.directions;

/** A mapping with one route: CC `controller` (any channel) → latent direction `index`, no smoothing. */
const ccMapping = (controller: number, index: number) => ({
  version: 1,
  name: 'test',
  routes: [{ source: { kind: 'midi cc', controller }, transform: { out: [-2, 2] }, target: { kind: 'direction', index } }],
});

describe('live inputs through the server', () => {
  let root: string;
  let server: Server;
  before(async () => {
    setLogLevel('silent');
    root = await tempRoot('rhodops-inputs-');
    server = await startTestServer(root);
  });
  after(async () => {
    await server.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('Web MIDI bytes move the latent through the mapping, and change the frames', async () => {
    const c = await TestClient.connect(server);
    assert.equal((await api(server, 'mapping', 'PUT', ccMapping(7, 2))).status, 200);
    c.send({ type: 'smoothing', timeConstant: 0 });
    c.send({ type: 'midi', bytes: [0xb3, 7, 0], id: 'low' });
    await c.waitFor((m) => m['type'] === 'applied' && m['id'] === 'low');
    await c.waitFrames(3);
    const before = c.frames.at(-1)!.payload;
    assert.ok(Math.abs(directions(server)[2]! + 2) < 1e-6, `CC 7 at 0 → direction 2 at −2, got ${directions(server)[2]}`);
    // Running status: the second message has no status byte.
    c.send({ type: 'midi', bytes: [0xb3, 7, 64, 7, 127], id: 'high' });
    await c.waitFor((m) => m['type'] === 'applied' && m['id'] === 'high');
    await c.waitFrames(3);
    assert.ok(Math.abs(directions(server)[2]! - 2) < 1e-6, `CC 7 at 127 → direction 2 at +2, got ${directions(server)[2]}`);
    assert.notDeepEqual(c.frames.at(-1)!.payload, before, 'the frame changed with the knob');
    c.close();
  });

  it('MIDI learn: arm a target, move a control, the route is made and plays', async () => {
    const c = await TestClient.connect(server);
    assert.equal((await api(server, 'mapping', 'PUT', { version: 1, name: 'empty', routes: [] })).status, 200);
    c.send({ type: 'learn', target: { kind: 'direction', index: 4 } });
    await sleep(100);
    assert.deepEqual(server.status().inputs.learning, { kind: 'direction', index: 4 });
    c.send({ type: 'midi', bytes: [0xb0, 21, 10, 21, 90] });
    const learned = await c.waitFor((m) => m['type'] === 'learned');
    const mapping = (await (await api(server, 'mapping')).json()) as { routes: { source: { kind: string; controller: number }; target: { index: number } }[] };
    assert.equal(mapping.routes.length, 1);
    assert.deepEqual([mapping.routes[0]!.source.kind, mapping.routes[0]!.source.controller, mapping.routes[0]!.target.index], ['midi cc', 21, 4]);
    assert.equal(learned['route'], 0);
    assert.equal(server.status().inputs.learning, null, 'learn mode ends with the route');
    const at = directions(server)[4]!;
    c.send({ type: 'midi', bytes: [0xb0, 21, 127], id: 'moved' });
    await c.waitFor((m) => m['id'] === 'moved');
    assert.notEqual(directions(server)[4], at, 'the learned knob moves its direction');
    c.close();
  });

  it('a mapping with an unknown source or target is refused with the route named, and nothing changes', async () => {
    const c = await TestClient.connect(server);
    const good = (await (await api(server, 'mapping')).json()) as unknown;
    const bad = { version: 1, name: 'bad', routes: [{ name: 'kick', source: { kind: 'audio loudnes' }, target: { kind: 'direction', index: 0 } }] };
    const res = await api(server, 'mapping', 'PUT', bad);
    assert.equal(res.status, 400);
    const err = ((await res.json()) as { error: { code: string; message: string } }).error;
    assert.equal(err.code, 'MAPPING_INVALID');
    assert.match(err.message, /route 0 'kick'/);
    assert.match(err.message, /audio loudnes/);
    c.send({ type: 'mapping', id: 'm', mapping: { ...bad, routes: [{ source: { kind: 'midi cc', controller: 1 }, target: { kind: 'warp' } }] } });
    const reply = await c.waitFor((m) => m['type'] === 'error' && m['id'] === 'm');
    assert.match(String(reply['message']), /route 0/);
    assert.deepEqual(await (await api(server, 'mapping')).json(), good, 'the old mapping still plays');
    c.close();
  });

  it('browser microphone PCM drives the audio features; bad binary messages are answered', async () => {
    const c = await TestClient.connect(server);
    assert.equal((await api(server, 'mapping', 'PUT', { version: 1, name: 'bass', routes: [{ source: { kind: 'audio bass' }, transform: { out: [0, 3] }, target: { kind: 'direction', index: 1 } }] })).status, 200);
    c.send({ type: 'audioSource', source: { kind: 'browser' }, id: 'src' });
    await c.waitFor((m) => m['type'] === 'applied' && m['id'] === 'src');
    const rate = 48000;
    for (let chunk = 0; chunk < 12; chunk++) {
      const samples = new Float32Array(4000);
      for (let i = 0; i < samples.length; i++) samples[i] = 0.5 * Math.sin((2 * Math.PI * 80 * (chunk * 4000 + i)) / rate);
      c.ws.send(encodePcmMessage(rate, 'f32', new Uint8Array(samples.buffer)));
      await sleep(20);
    }
    await sleep(200);
    const inputs = server.status().inputs;
    assert.equal(inputs.audio?.kind, 'browser');
    assert.ok((inputs.features?.bass ?? 0) > 0.3, `an 80 Hz tone reads as bass: ${JSON.stringify(inputs.features)}`);
    assert.ok(directions(server)[1]! > 0.5, `bass → direction 1: ${directions(server)[1]}`);
    c.ws.send(Buffer.concat([encodePcmMessage(rate, 'f32', new Uint8Array(6)).subarray(0, 12), Buffer.alloc(7)]));
    assert.equal((await c.waitFor((m) => m['type'] === 'error' && m['code'] === 'AUDIO_PCM_INVALID'))['code'], 'AUDIO_PCM_INVALID');
    c.ws.send(Buffer.from('not audio at all'));
    await c.waitFor((m) => m['type'] === 'error' && m['code'] === 'BAD_MESSAGE');
    await c.waitFrames(5);
    c.send({ type: 'audioSource', source: { kind: 'none' } });
    c.close();
  });

  it('an audio file played along: its position advances, a take muxes it in; files outside the audio folders are refused', async () => {
    const song = path.join(root, 'song.wav');
    await runFfmpeg(['-f', 'lavfi', '-i', 'sine=frequency=220:duration=6', '-y', song]);
    const c = await TestClient.connect(server);
    c.send({ type: 'audioSource', source: { kind: 'file', file: '../../etc/passwd' }, id: 'evil' });
    assert.equal((await c.waitFor((m) => m['type'] === 'error' && m['id'] === 'evil'))['code'], 'AUDIO_FILE_INVALID');
    const res = await api(server, 'audio', 'POST', { source: { kind: 'file', file: 'song.wav' } });
    assert.equal(res.status, 200, await res.clone().text());
    await sleep(700);
    const audio = server.status().inputs.audio!;
    assert.ok(audio.running && (audio.positionS ?? 0) > 0.3, `playing: ${JSON.stringify(audio)}`);
    assert.ok(Math.abs((audio.durationS ?? 0) - 6) < 0.05, `duration ${audio.durationS}`);
    assert.equal((await api(server, 'recordings/start', 'POST', {})).status, 200);
    await sleep(1500);
    const summary = (await (await api(server, 'recordings/stop', 'POST', {})).json()) as { files: { mp4?: string }; audio: boolean; durationS: number };
    assert.ok(summary.audio, 'the song was muxed in');
    const probe = await probeJson(summary.files.mp4!, ['-show_streams']);
    const a = probe?.streams?.find((s) => s.codec_type === 'audio');
    assert.equal(a?.codec_name, 'aac');
    assert.ok(Math.abs(Number(a?.duration) - summary.durationS) < 0.1, `audio ${a?.duration} s for ${summary.durationS} s of video`);
    assert.equal((await api(server, 'audio', 'POST', { source: { kind: 'none' } })).status, 200);
    c.close();
  });

  it('a preset keeps its mapping, and a MIDI program change recalls presets by position', async () => {
    assert.equal((await api(server, 'mapping', 'PUT', ccMapping(12, 0))).status, 200);
    assert.equal((await api(server, 'presets', 'POST', { name: 'a with cc12' })).status, 200);
    assert.equal((await api(server, 'mapping', 'PUT', ccMapping(13, 1))).status, 200);
    assert.equal((await api(server, 'presets', 'POST', { name: 'b with cc13' })).status, 200);
    const c = await TestClient.connect(server);
    c.send({ type: 'midi', bytes: [0xc0, 0] }); // program 0 = the first preset of the bank
    const controller = () => (server.instrument.mapping.routes[0]!.source as { controller?: number }).controller;
    for (let i = 0; i < 100 && controller() !== 12; i++) await sleep(20);
    assert.equal(controller(), 12, 'program 0 recalled preset a, and its mapping');
    const res = await api(server, 'presets/default/b with cc13/recall', 'POST', { crossfade: 0 });
    assert.equal(res.status, 200);
    assert.equal(controller(), 13);
    c.close();
  });

  it('--directions principal: the knobs move along the model\'s principal directions, computed once and cached', async () => {
    const cacheDir = path.join(root, 'dir-cache');
    const other = await startTestServer(root, { directions: 'principal', directionsCacheDir: cacheDir });
    try {
      const files = await fs.readdir(cacheDir);
      assert.equal(files.length, 1, `one cache file: ${files.join(', ')}`);
      const cached = JSON.parse(await fs.readFile(path.join(cacheDir, files[0]!), 'utf8')) as { directions: number[][]; explainedRatio: number[] };
      const live = other.instrument.internals().live.directions;
      assert.ok(cached.directions.length >= 1 && cached.explainedRatio[0]! > 0, 'directions with explained variance');
      assert.deepEqual(Array.from(live[0]!), cached.directions[0]!.map((v) => Math.fround(v)), 'knob 0 is the first principal direction');
    } finally {
      await other.close();
    }
  });
});
