// The render farm with real parts: a redis-server of its own, the coordinator and the workers as child processes
// of the real CLI. A worker killed mid-segment and a coordinator killed and started again still give the video a
// one-machine render gives, frame for frame, each segment taken once; forged results are rejected; an
// unreachable Redis is named with the fix; forged jobs are refused before anything uses them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { runFfmpeg } from '../core/ffmpeg.ts';
import { setLogLevel } from '../core/log.ts';
import { KEY_PREFIX, parseSegmentJob, QUEUE_NAME, segmentJobSchema, type SegmentJob, type SegmentResult } from '../render/farm/jobs.ts';
import { FarmStore, sha256 } from '../render/farm/store.ts';
import { throwsWith } from './helpers/assert.ts';
import { rhodops, startRedis, type Child } from './helpers/processes.ts';
import { freeLoopbackPort } from '../core/free-port.ts';
import { sleep, tempRoot } from './helpers/server.ts';

const run = promisify(execFile);

/** The video stream's per-frame MD5s (ffmpeg -f framemd5), without the header. */
async function frameMd5(file: string): Promise<string[]> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:v', '-f', 'framemd5', '-'], { maxBuffer: 64 * 2 ** 20 });
  return stdout.split('\n').filter((l) => l && !l.startsWith('#'));
}

/** "segment N: from WORKER" lines of coordinators' logs: which worker's copy of each segment went in. */
function taken(...logs: string[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const log of logs) for (const m of log.matchAll(/\[rhodops:farm\] segment (\d+): from (\S+) /g)) out.set(Number(m[1]), [...(out.get(Number(m[1])) ?? []), m[2]!]);
  return out;
}

/** A job that passes the schema (its model does not exist anywhere). */
const wellFormedJob = (): SegmentJob => ({
  v: 1, plan: 'a'.repeat(64), segment: 2, frames: 2, precision: 'fp32', latentSize: 3,
  model: { id: 'b'.repeat(64), kind: 'checkpoint', files: [{ name: 'manifest.json', sha256: 'c'.repeat(64), bytes: 10 }, { name: 'generator.onnx', sha256: 'd'.repeat(64), bytes: 10 }] },
  latents: Buffer.from(new Float32Array(6).buffer).toString('base64'), cameras: Buffer.alloc(8).toString('base64'),
  width: 64, height: 64, fps: 30, batch: 2, upscale: null, look: null, returnVia: 'redis',
});

const SEGMENTS = 3;
const SEGMENT_FRAMES = 60;

describe('render farm', () => {
  let root: string;
  let song: string;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let reference: string[] = [];
  const children: Child[] = [];
  const start = (args: string[]) => {
    const c = rhodops(args, { RHODOPS_LOG: 'info' });
    children.push(c);
    return c;
  };
  // Small and quick: the bundled 28² model, ESRGAN ×2 and lanczos to 192², 2 s segments of a 6 s song.
  const renderArgs = (out: string) => ['render', '--audio', song, '--out', out, '--size', '192', '--upscale', 'x2', '--segment', '2', '--batch', '2', '--threads', '1', '--seed', '3', '--no-progress'];
  const workerArgs = (name: string, cache = path.join(root, `cache-${name}`)) => ['worker', '--farm', redis.url, '--name', name, '--lock', '2', '--threads', '1', '--cache', cache];

  before(async () => {
    setLogLevel('silent');
    root = await tempRoot('rhodops-farm-');
    song = path.join(root, 'song.wav');
    await runFfmpeg(['-f', 'lavfi', '-i', `aevalsrc=exprs='0.3*sin(2*PI*55*t)+0.6*lt(mod(t,0.5),0.02)*(random(0)*2-1)':s=44100:d=${SEGMENTS * 2}`, song]);
    redis = await startRedis();
    const local = start(renderArgs(path.join(root, 'local.mp4')));
    assert.equal((await local.exited).code, 0, local.out);
    reference = await frameMd5(path.join(root, 'local.mp4'));
    assert.equal(reference.length, SEGMENTS * SEGMENT_FRAMES);
  });
  after(async () => {
    for (const c of children) await c.kill();
    await redis?.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('a worker killed mid-segment and a restarted coordinator: the video equals a local render frame for frame, each segment taken once', { timeout: 600_000 }, async () => {
    const out = path.join(root, 'farm.mp4');
    const watch = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection: watch, prefix: KEY_PREFIX });
    try {
      // Two workers of one machine: one model cache.
      const cache = path.join(root, 'cache-AB');
      const c1 = start([...renderArgs(out), '--farm', redis.url]);
      const a = start(workerArgs('A', cache));
      // A renders segment 0, then takes segment 1: killed once it has written part of it, not all.
      let killed: number | null = null;
      for (const until = Date.now() + 300_000; killed === null; ) {
        assert.ok(Date.now() < until, `worker A never was mid-segment:\n${a.out}`);
        assert.equal(a.proc.exitCode, null, a.out);
        for (const job of (await queue.getJobs(['active'])) as Job<SegmentJob>[]) {
          const done = typeof job.progress === 'number' ? job.progress : 0;
          if (job.processedBy === 'A' && job.data.segment >= 1 && done > 0 && done <= SEGMENT_FRAMES / 2) {
            await a.kill('SIGKILL');
            killed = job.data.segment;
            break;
          }
        }
        await sleep(20);
      }
      // The coordinator dies too; the same command, started again, carries on from what the queue holds.
      await c1.kill('SIGKILL');
      const c2 = start([...renderArgs(out), '--farm', redis.url]);
      const b = start(workerArgs('B', cache));
      const exit = await c2.exited;
      assert.equal(exit.code, 0, `coordinator:\n${c2.out}\nworker B:\n${b.out}`);
      assert.deepEqual(await frameMd5(out), reference, 'frame for frame the video a local render makes');
      const segments = taken(c1.out, c2.out);
      // A segment C1 took in just before it died may have missed its log line; C2 then resumed after it.
      const resumed = Number(/resuming at frame (\d+)/.exec(c2.out)?.[1] ?? 0) / SEGMENT_FRAMES;
      for (let s = 0; s < resumed; s++) if (!segments.has(s)) segments.set(s, ['C1, unlogged']);
      assert.deepEqual([...segments.keys()].sort(), [0, 1, 2], `each segment taken: ${JSON.stringify([...segments])}`);
      for (const [s, from] of segments) assert.equal(from.length, 1, `segment ${s} taken once, from ${from.join(', ')}`);
      assert.deepEqual(segments.get(killed), ['B'], `segment ${killed}, whose worker was killed, was rendered again by B`);
      await assert.rejects(fs.stat(`${out}.parts`), 'the segments are cleaned up after the video is made');
      assert.deepEqual((await fs.readdir(cache)).filter((f) => f.startsWith(`.work-${a.proc.pid}-`)), [], "B removed the killed worker's scratch folder");
      await b.kill('SIGTERM');
    } finally {
      await queue.close();
      watch.disconnect();
    }
  });

  it('through a shared folder (--farm-dir): forged results are rejected (bytes that do not match their hash; a "segment" that is no video) and rendered again', { timeout: 600_000 }, async () => {
    const out = path.join(root, 'farm-forged.mp4');
    const shared = path.join(root, 'shared');
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    await conn.flushall();
    // A hostile worker takes the first two jobs by hand and answers each with a lie.
    const hostile = new Worker(QUEUE_NAME, null, { connection: conn, prefix: KEY_PREFIX, name: 'hostile', lockDuration: 60_000 });
    const store = new FarmStore(conn, null);
    try {
      const c = start([...renderArgs(out), '--farm', redis.url, '--farm-dir', shared]);
      const lies: ((j: SegmentJob) => Promise<SegmentResult>)[] = [
        async (j) => {
          const real = Buffer.from('these bytes were reported');
          await store.putSegment('redis', j.plan, j.segment, sha256(real), Buffer.from('these bytes were stored!!'));
          return { v: 1, plan: j.plan, segment: j.segment, frames: j.frames, bytes: real.byteLength, sha256: sha256(real), via: 'redis', worker: 'hostile', engine: 'lies' };
        },
        async (j) => {
          const junk = Buffer.alloc(4096, 7);
          await store.putSegment('redis', j.plan, j.segment, sha256(junk), junk);
          return { v: 1, plan: j.plan, segment: j.segment, frames: j.frames, bytes: junk.byteLength, sha256: sha256(junk), via: 'redis', worker: 'hostile', engine: 'lies' };
        },
      ];
      for (const [i, lie] of lies.entries()) {
        const token = `hostile-${i}`;
        let job: Job<SegmentJob> | undefined;
        for (const until = Date.now() + 300_000; !job; await sleep(100)) {
          assert.ok(Date.now() < until && c.proc.exitCode === null, `no job to forge:\n${c.out}`);
          job = (await hostile.getNextJob(token, { block: false })) as Job<SegmentJob> | undefined;
        }
        await job.moveToCompleted(await lie(job.data), token, false);
      }
      const b = start([...workerArgs('B2'), '--farm-dir', shared]);
      const exit = await c.exited;
      assert.equal(exit.code, 0, c.out);
      assert.match(c.out, /segments via the shared folder/);
      assert.ok((await fs.readdir(path.join(shared, 'blobs'))).length >= 2, 'the model went through the shared folder');
      assert.deepEqual(await fs.readdir(path.join(shared, 'segments', (await fs.readdir(path.join(shared, 'segments')))[0]!)), [], 'each segment taken is removed from the shared folder');
      assert.match(c.out, /from worker hostile was rejected: its bytes do not match the SHA-256 it reported/);
      assert.match(c.out, /from worker hostile holds no readable frames, not 60/);
      assert.deepEqual(await frameMd5(out), reference, 'the rejected segments were rendered again: the video is the local one');
      for (const [s, from] of taken(c.out)) assert.deepEqual(from, ['B2'], `segment ${s} is B2's, not the hostile worker's`);
      await b.kill('SIGTERM');
    } finally {
      await hostile.close();
      conn.disconnect();
    }
  });

  it('forged jobs reach a real worker and are refused before anything runs, once (not retried), writing nothing outside its folders', { timeout: 300_000 }, async () => {
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection: conn, prefix: KEY_PREFIX });
    try {
      await conn.flushall();
      const w = start(workerArgs('W'));
      await w.waitFor(/waiting for segments/);
      const good = wellFormedJob();
      // Each would write `root/evil` (or read outside the cache) if a string from the job became a path.
      const forged: [string, unknown][] = [
        ['model file', { ...good, model: { ...good.model, files: [{ name: '../../evil', sha256: 'c'.repeat(64), bytes: 1 }, ...good.model.files] } }],
        ['plan', { ...good, plan: '../../evil' }],
        ['latents', { ...good, frames: 5 }],
        ['not an object', 'rm -rf /'],
      ];
      for (const [what, data] of forged) await queue.add('segment', data, { jobId: `forged-${what.replace(/ /g, '-')}`, attempts: 3 });
      for (const [what] of forged) {
        const id = `forged-${what.replace(/ /g, '-')}`;
        for (const until = Date.now() + 120_000; (await queue.getJobState(id)) !== 'failed'; await sleep(100)) assert.ok(Date.now() < until, `the forged ${what} job was not refused:\n${w.out}`);
        const job = (await queue.getJob(id))!;
        assert.match(job.failedReason, /a farm job was refused/, `${what}: ${job.failedReason}`);
        assert.equal(job.attemptsMade, 1, `${what}: refused once, not passed round`);
      }
      await assert.rejects(fs.stat(path.join(root, 'evil')));
      assert.equal(w.proc.exitCode, null, 'the worker goes on');
      await w.kill('SIGTERM');
    } finally {
      await queue.close();
      conn.disconnect();
    }
  });

  it('Redis unreachable: render and worker name the URL and the fix; render without --farm is unaffected (above)', { timeout: 120_000 }, async () => {
    const port = await freeLoopbackPort();
    const url = `redis://127.0.0.1:${port}`;
    const r = start([...renderArgs(path.join(root, 'never.mp4')), '--farm', url]);
    const w = start(['worker', '--farm', url]);
    for (const c of [r, w]) {
      assert.equal((await c.exited).code, 2, c.out);
      assert.match(c.out, new RegExp(`cannot reach the render farm's Redis at redis://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
      assert.match(c.out, /→ start Redis there .*without --farm, render runs on this machine/);
    }
    await assert.rejects(fs.stat(path.join(root, 'never.mp4')));
  });
});

describe('farm jobs from the network', () => {
  const job = wellFormedJob;
  it('a well-formed job passes; names that could leave the cache folder, bad hashes, sizes that disagree and unknown fields are refused', () => {
    assert.equal(parseSegmentJob(job()).segment, 2);
    const forged: [string, (j: SegmentJob) => unknown][] = [
      ['../', (j) => ({ ...j, model: { ...j.model, files: [{ name: '../../etc/passwd', sha256: 'c'.repeat(64), bytes: 1 }, ...j.model.files] } })],
      ['absolute', (j) => ({ ...j, model: { ...j.model, files: [...j.model.files, { name: '/tmp/x', sha256: 'c'.repeat(64), bytes: 1 }] } })],
      ['hidden', (j) => ({ ...j, model: { ...j.model, files: [...j.model.files, { name: 'tfjs/..', sha256: 'c'.repeat(64), bytes: 1 }] } })],
      ['hash', (j) => ({ ...j, plan: '../x' })],
      ['latents', (j) => ({ ...j, frames: 3 })],
      ['cameras', (j) => ({ ...j, cameras: Buffer.alloc(5).toString('base64') })],
      ['segment', (j) => ({ ...j, segment: -1 })],
      ['size', (j) => ({ ...j, width: 100_000 })],
      ['extra', (j) => ({ ...j, command: 'rm -rf /' })],
      ['no manifest', (j) => ({ ...j, model: { ...j.model, files: j.model.files.slice(1) } })],
    ];
    for (const [, forge] of forged) throwsWith(() => parseSegmentJob(forge(job())), 'FARM_JOB_INVALID');
    assert.equal(segmentJobSchema.safeParse({ ...job(), latents: 'x'.repeat(30 * 2 ** 20) }).success, false, 'latents over the job cap');
  });
});
