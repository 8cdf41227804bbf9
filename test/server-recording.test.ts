// Recording through the live server: real ffmpeg and ffprobe; a killed ffmpeg never stops the show.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { saveModelCheckpoint } from '../core/checkpoint/from-model.ts';
import { setLogLevel } from '../core/log.ts';
import { generatorSpecs } from '../core/models/generator.ts';
import { initWeights } from '../core/models/params.ts';
import { pgganArch } from '../core/models/architectures.ts';
import { countVideoPackets, probeJson } from '../server/recorder/probe.ts';
import type { Server } from '../server/server.ts';
import { sleep, startTestServer, tempRoot, TestClient } from './helpers/server.ts';

const post = (server: Server, p: string, body: unknown = {}) =>
  fetch(`${server.url}api/${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('recording from the live server', () => {
  let root: string;
  let server: Server;
  before(async () => {
    setLogLevel('silent');
    root = await tempRoot('rhodops-rec-');
    server = await startTestServer(root);
  });
  after(async () => {
    await server.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('records the displayed frames as H.264 MP4 at the stream rate', async () => {
    assert.equal((await post(server, 'recordings/start')).status, 200);
    await sleep(2000);
    const res = await post(server, 'recordings/stop');
    assert.equal(res.status, 200);
    const summary = (await res.json()) as { files: { mp4?: string }; framesWritten: number; framesDropped: number; durationS: number };
    assert.ok(summary.files.mp4, JSON.stringify(summary));
    const probe = await probeJson(summary.files.mp4, ['-show_streams', '-show_format']);
    const video = probe?.streams?.find((s) => s.codec_type === 'video');
    assert.deepEqual([video?.codec_name, video?.pix_fmt, video?.width, video?.height, video?.r_frame_rate], ['h264', 'yuv420p', 252, 252, '30/1']);
    const frames = await countVideoPackets(summary.files.mp4);
    assert.equal(frames, summary.framesWritten);
    assert.ok(frames! > 0);
    assert.ok(Math.abs(Number(probe?.format?.duration) - frames! / 30) < 0.05);
    const list = (await (await fetch(`${server.url}api/recordings`)).json()) as { file: string }[];
    assert.ok(list.some((t) => t.file === path.basename(summary.files.mp4!)));
    const download = await fetch(`${server.url}recordings/${path.basename(summary.files.mp4)}`);
    assert.equal(download.status, 200);
    assert.equal((await download.arrayBuffer()).byteLength, (await fs.stat(summary.files.mp4)).size);
    assert.equal((await fetch(`${server.url}recordings/..%2F..%2Fetc%2Fpasswd`)).status, 404);
  });

  it('a model switch of another frame size mid-take: the take goes on, new frames fitted into its size', async () => {
    assert.equal((await post(server, 'recordings/start')).status, 200);
    await sleep(700);
    const arch = pgganArch('narrow', 32, { latentSize: 16 });
    const other = path.join(root, 'models', 'pg32');
    await saveModelCheckpoint(other, arch, initWeights(generatorSpecs(arch), 5), { name: 'pg32' });
    await server.engine.switchTo(other);
    await sleep(1200);
    assert.equal(server.engine.model.info.width, 32, 'switched');
    const stats = server.status().recording!;
    assert.equal(stats.rejected, 0, 'no frame refused for its size');
    const summary = (await (await post(server, 'recordings/stop')).json()) as { files: { mp4?: string }; framesWritten: number };
    const probe = await probeJson(summary.files.mp4!, ['-show_streams']);
    const video = probe?.streams?.find((s) => s.codec_type === 'video');
    assert.deepEqual([video?.width, video?.height], [252, 252], 'one file at the size the take began with');
    assert.ok(summary.framesWritten >= 45, `${summary.framesWritten} frames in ~1.9 s`);
  });

  it('ffmpeg killed mid-take: the stream goes on, the take reports it, and what was written still plays', async () => {
    const c = await TestClient.connect(server);
    assert.equal((await post(server, 'recordings/start')).status, 200);
    // Matroska clusters close every second and x264 looks ahead: a crash loses at most the last ~1.5 s.
    await sleep(3000);
    const take = (server as unknown as { take: { pid?: number } }).take;
    process.kill(take.pid!, 'SIGKILL');
    await sleep(300);
    const seq = c.frames.at(-1)!.header.seq;
    await c.waitFrames(10);
    assert.ok(c.frames.at(-1)!.header.seq > seq, 'still streaming');
    const summary = (await (await post(server, 'recordings/stop')).json()) as { error?: { code: string }; files: { mkv?: string; mp4?: string } };
    assert.equal(summary.error?.code, 'FFMPEG_FAILED');
    const file = summary.files.mp4 ?? summary.files.mkv;
    assert.ok(file, JSON.stringify(summary));
    assert.ok(((await countVideoPackets(file)) ?? 0) > 0, 'the salvaged file has frames');
    c.close();
  });
});
