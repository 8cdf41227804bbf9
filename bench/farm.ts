/**
 * Render farm figures (issue 20), one run: the same render on this machine, then on a farm of 1 and 2 workers
 * (real `rhodops worker` processes, a real redis-server on loopback), as seconds of video per second of the
 * whole command; the queue's overhead per segment is the 1-worker farm's extra time over the local render,
 * divided by the segments. Every engine uses one ONNX Runtime thread, so the worker count is what changes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { freeLoopbackPort } from '../core/free-port.ts';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runFfmpeg } from '../core/ffmpeg.ts';
import { render, type RenderOptions } from '../render/render.ts';
import { BUNDLED_PGGAN } from '../presets/bundled.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface FarmBenchRow {
  case: string;
  workers: number;
  seconds: number;
  realtimeMultiple: number;
}

export interface FarmBench {
  model: string;
  songSeconds: number;
  segments: number;
  rows: FarmBenchRow[];
  /** (1-worker farm − local) ÷ segments. */
  overheadMsPerSegment: number;
}

function started(cmd: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  const p = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RHODOPS_LOG: 'info' } });
  let out = '';
  return new Promise((resolve, reject) => {
    const seen = (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) resolve(p);
    };
    p.stdout!.on('data', seen);
    p.stderr!.on('data', seen);
    p.once('exit', (code) => reject(new Error(`${path.basename(args[1] ?? cmd)} exited (${code}) before it was ready:\n${out}`)));
  });
}


export async function benchFarm(o: { quick: boolean }, say: (m: string) => void): Promise<FarmBench> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-bench-farm-'));
  const procs: ChildProcess[] = [];
  try {
    const seconds = o.quick ? 8 : 20;
    const song = path.join(tmp, 'song.wav');
    await runFfmpeg(['-f', 'lavfi', '-i', `aevalsrc=exprs='0.3*sin(2*PI*55*t)+0.5*lt(mod(t,0.5),0.02)*(random(0)*2-1)':s=44100:d=${seconds}`, song]);
    const warm = path.join(tmp, 'warm.wav');
    await runFfmpeg(['-i', song, '-t', '2', warm]);
    const model = BUNDLED_PGGAN;
    const segmentSeconds = 2;
    const base = (audio: string, out: string): RenderOptions => ({
      audio, model, mapping: null, preset: null, timeline: null, replay: null, fps: 30, size: 256, out, seed: 1, smooth: false, upscale: 2,
      batch: 4, segmentSeconds, presetDir: path.join(tmp, 'presets'), ort: { intraOpNumThreads: 1 }, progress: false, calibrationCacheDir: path.join(tmp, 'calibration'),
    });
    const rows: FarmBenchRow[] = [];
    say(`farm: ${seconds} s of song, bundled PGGAN 64² → ESRGAN ×2 → 256², ${segmentSeconds} s segments; local first…`);
    const local = await render(base(song, path.join(tmp, 'local.mp4')));
    rows.push({ case: 'local', workers: 0, seconds: local.seconds, realtimeMultiple: local.durationS / local.seconds });
    say(`  local: ×${(local.durationS / local.seconds).toFixed(2)} real time (${local.seconds.toFixed(1)} s)`);

    const port = await freeLoopbackPort();
    procs.push(await started('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], /Ready to accept connections/));
    const farm = { url: `redis://127.0.0.1:${port}`, dir: null };
    for (const workers of [1, 2]) {
      while (procs.length - 1 < workers) {
        const name = `bench-${procs.length}`;
        procs.push(await started(process.execPath, [path.join(ROOT, 'bin', 'rhodops.js'), 'worker', '--farm', farm.url, '--name', name, '--threads', '1', '--cache', path.join(tmp, 'cache')], /waiting for segments/));
      }
      // Untimed: every worker fetches the model and opens its sessions.
      await render({ ...base(warm, path.join(tmp, `warm-${workers}.mp4`)), segmentSeconds: 1, farm });
      const r = await render({ ...base(song, path.join(tmp, `farm-${workers}.mp4`)), farm });
      rows.push({ case: `farm, ${workers} worker${workers > 1 ? 's' : ''}`, workers, seconds: r.seconds, realtimeMultiple: r.durationS / r.seconds });
      say(`  farm with ${workers} worker${workers > 1 ? 's' : ''}: ×${(r.durationS / r.seconds).toFixed(2)} real time (${r.seconds.toFixed(1)} s)`);
    }
    const segments = Math.ceil(seconds / segmentSeconds);
    const one = rows.find((r) => r.workers === 1)!;
    return { model: 'pggan-wallpapers → 256² (ESRGAN ×2)', songSeconds: seconds, segments, rows, overheadMsPerSegment: ((one.seconds - local.seconds) * 1000) / segments };
  } finally {
    for (const p of procs.reverse()) {
      if (p.exitCode === null && p.signalCode === null) {
        const gone = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
        if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      }
    }
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

export function farmReport(f: FarmBench): string[] {
  const local = f.rows.find((r) => r.workers === 0)!;
  return [
    `render farm (${f.model}, ${f.songSeconds} s song in ${f.segments} segments; whole command, one ORT thread per engine; workers and Redis on this machine):`,
    ...f.rows.map((r) => `  ${r.case.padEnd(18)} ×${r.realtimeMultiple.toFixed(2)} real time (${r.seconds.toFixed(1)} s)${r.workers ? `, ${(r.realtimeMultiple / local.realtimeMultiple).toFixed(2)}× local` : ''}`),
    `  queue overhead: ${f.overheadMsPerSegment.toFixed(0)} ms per segment (1-worker farm − local, ÷ segments)`,
  ];
}
