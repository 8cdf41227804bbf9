/**
 * Hostile clients (the "hostile client" bench section): a real server on the bundled demo model at 30 fps, a
 * healthy client counting frames on its own thread, and attackers in child processes (bench/hostile-attacker.ts)
 * that flood bad messages, send without ever reading, or hammer `GET /api/audio/devices`. Each row measures the
 * healthy client's frame rate against its rate alone, the server's memory, what the server saw and what the
 * attackers did, all in one run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DEFAULT_MODEL } from '../presets/bundled.ts';
import { Server } from '../server/server.ts';
import type { AttackCounts, AttackerMessage, AttackMode, AttackOptions } from './hostile-attacker.ts';
import { formatTable } from './table.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ATTACKER = fileURLToPath(new URL('./hostile-attacker.ts', import.meta.url));
const MB = 2 ** 20;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface HealthySnapshot {
  frames: number;
  /** Connections opened (1 unless the server closed it and it reconnected), and those that ended. */
  opens: number;
  disconnects: number;
}

/**
 * The healthy client: a page that only counts frames, on its own thread so its parsing never runs on the
 * server's; it reconnects if the server drops it (and counts that).
 */
class HealthyClient {
  private constructor(private readonly worker: Worker) {}

  static async open(server: Server): Promise<HealthyClient> {
    const code = `const { parentPort, workerData } = require('node:worker_threads');
      const WebSocket = require(workerData.ws);
      let frames = 0, opens = 0, disconnects = 0;
      const connect = () => {
        const ws = new WebSocket(workerData.url);
        let opened = false;
        ws.on('open', () => { opened = true; if (++opens === 1) parentPort.postMessage({ ready: true }); });
        ws.on('message', (_d, binary) => { if (binary) frames++; });
        ws.on('error', () => {});
        ws.on('close', () => { if (opened) disconnects++; setTimeout(connect, 250); });
      };
      connect();
      parentPort.on('message', () => parentPort.postMessage({ frames, opens, disconnects }));`;
    const ws = createRequire(import.meta.url).resolve('ws');
    const worker = new Worker(code, { eval: true, workerData: { url: `${server.url.replace(/^http/, 'ws')}ws`, ws } });
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the healthy client could not connect within 10 s')), 10_000);
      worker.once('message', () => resolve(clearTimeout(t)));
      worker.once('error', (e) => (clearTimeout(t), reject(e)));
    });
    return new HealthyClient(worker);
  }

  snapshot(): Promise<HealthySnapshot> {
    return new Promise((r) => (this.worker.once('message', r), this.worker.postMessage(0)));
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/** Every attacker process alive, so that none outlives the bench (an error, Ctrl-C, a crash). */
const running = new Set<ChildProcess>();
let exitHook = false;
function killAttackers(): void {
  for (const c of running) c.kill('SIGKILL');
}

/** One attacker, in its own process (a hostile page is another process, usually on another machine). */
class Attacker {
  private last: AttackCounts | null = null;
  private final: ((c: AttackCounts) => void) | null = null;

  private constructor(
    readonly mode: AttackMode,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (m: AttackerMessage) => {
      if (m.type !== 'counts') return;
      this.last = m.counts;
      if (m.final) this.final?.(m.counts);
    });
  }

  /** Spawns it and waits until its attack is under way. */
  static async start(mode: AttackMode, url: string, options: AttackOptions = {}): Promise<Attacker> {
    if (!exitHook) {
      process.once('exit', killAttackers);
      exitHook = true;
    }
    const child = spawn(process.execPath, ['--import', 'tsx', ATTACKER, mode, url, JSON.stringify(options)], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    running.add(child);
    child.once('exit', () => running.delete(child));
    const attacker = new Attacker(mode, child);
    await new Promise<void>((resolve, reject) => {
      const fail = (e: Error) => {
        clearTimeout(t);
        child.kill('SIGKILL');
        reject(e);
      };
      const t = setTimeout(() => fail(new Error(`the ${mode} attacker did not get going within 30 s`)), 30_000);
      child.on('message', (m: AttackerMessage) => {
        if (m.type === 'ready') resolve(clearTimeout(t));
      });
      child.once('exit', (code, signal) => fail(new Error(`the ${mode} attacker exited (${code ?? signal}) before its attack got going`)));
      child.once('error', fail);
    });
    return attacker;
  }

  /** Tells it to stop and takes its final counts; kills it if it does not go within 3 s. */
  async stop(): Promise<AttackCounts> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      const final = new Promise<AttackCounts>((r) => (this.final = r));
      try {
        child.send({ type: 'stop' });
        await Promise.race([Promise.all([final, exited]), sleep(3000)]);
      } catch {
        // the channel is gone already
      }
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await Promise.race([exited, sleep(2000)]);
      }
    }
    return this.last ?? { mode: this.mode, seconds: 0, connects: 0, refused: 0, disconnects: 0, stalls: 0, sent: 0, sentBytes: 0, held: 0, replies: 0, replyBytes: 0, frames: 0, requests: 0, rounds: 0, slowestRoundMs: 0, codes: {} };
  }
}

export interface HostileRow {
  case: string;
  attackers: AttackMode[];
  /** The measurement window (the attackers started before it and stopped after it). */
  seconds: number;
  healthyFps: number;
  /** healthyFps ÷ the healthy client's fps alone (row 1); target ≥ 0.9. */
  ratio: number;
  healthyDisconnects: number;
  /** Server RSS just before the attackers started, and the largest seen until the window ended. */
  rssStartMB: number;
  rssMaxMB: number;
  rssGrowthMB: number;
  /** Buffers outside the JS heap (sockets' queued data among them): growth over the same span. */
  arrayBuffersGrowthMB: number;
  /** The JS heap's size (V8's heapTotal): growth over the same span. */
  heapGrowthMB: number;
  server: {
    /** Frames the loop made per second over the window, ticks it skipped, errors in ticks. */
    loopFps: number;
    skippedTicks: number;
    loopErrors: number;
    /** Frames the server skipped for the healthy client (its send buffer was over the cap). */
    healthyFramesDropped: number | null;
    /** Uncaught exceptions thrown on the server's thread from the attackers' start to the window's end: each would have ended a real server. */
    uncaught: number;
    uncaughtMessages: string[];
    /** Clients connected at the window's end besides the healthy one, with their totals (hub.stats()). */
    others: { clients: number; messagesIn: number; errors: number; framesSent: number; framesDropped: number };
  };
  attackerCounts: AttackCounts[];
  /** What the attackers did, in words (the table's last column). */
  notes: string;
}

const fmtMB = (bytes: number) => `${(bytes / MB).toFixed(bytes < 10 * MB ? 1 : 0)} MB`;

function codesText(codes: Record<string, number>): string {
  const top = Object.entries(codes).sort((a, b) => b[1] - a[1]);
  const shown = top.slice(0, 5).map(([k, n]) => `${k} ${n}`);
  return shown.length ? ` [${shown.join(', ')}${top.length > 5 ? ', …' : ''}]` : '';
}

function describeAttack(c: AttackCounts): string {
  const churn = [c.disconnects && `${c.disconnects} disconnects`, c.refused && `${c.refused} refused`, c.stalls && `${c.stalls} stalls`].filter(Boolean).join(', ');
  if (c.mode === 'devices') return `devices: ${c.requests} GETs in ${c.rounds} rounds (slowest ${(c.slowestRoundMs / 1000).toFixed(1)} s)${codesText(c.codes)}`;
  const sent = `${c.sent} sent (${fmtMB(c.sentBytes)}${c.held ? `, ${c.held} held back` : ''})`;
  const got = c.mode === 'nonreader' ? 'reads nothing' : `${c.replies} messages back (${fmtMB(c.replyBytes)})`;
  return `${c.mode}: ${sent}, ${got}${churn ? `, ${churn}` : ''}${codesText(c.codes)}`;
}

export interface HostileOptions {
  quick: boolean;
  /** Overrides for ad-hoc runs: the window per row and the all-attackers row, in seconds; attacker options. */
  windowSeconds?: number;
  allSeconds?: number;
  attack?: Partial<Record<AttackMode, AttackOptions>>;
}

export async function benchHostile(o: HostileOptions, say: (m: string) => void): Promise<HostileRow[]> {
  const windowMs = (o.windowSeconds ?? (o.quick ? 4 : 8)) * 1000;
  const allMs = (o.allSeconds ?? (o.quick ? 20 : 60)) * 1000;
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-bench-hostile-'));
  // A throw on the server's thread (from a hostile message) would end a real server; here it is counted and
  // reported, so the bench can go on measuring. The other handlers step aside meanwhile: tfjs-wasm's
  // (Emscripten's), installed by earlier sections, rethrows whatever it sees.
  const uncaught: string[] = [];
  const onUncaught = (e: unknown) => {
    const err = e as { message?: string; stack?: string };
    const at = /\n\s+at (.*)/.exec(err.stack ?? '')?.[1] ?? '';
    uncaught.push(`${err.message ?? String(e)}${at ? ` (at ${at})` : ''}`);
  };
  const savedHandlers = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', onUncaught);
  let server: Server | null = null;
  let healthy: HealthyClient | null = null;
  const rows: HostileRow[] = [];
  try {
    server = await Server.start({
      model: DEFAULT_MODEL,
      fps: 30,
      port: 0,
      modelDirs: [],
      presetDir: path.join(tmp, 'presets'),
      recordingsDir: path.join(tmp, 'recordings'),
      mappingDir: path.join(tmp, 'mappings'),
      audioDirs: [tmp],
      midi: 'none',
    });
    healthy = await HealthyClient.open(server);
    await sleep(1000);
    const healthyId = server.hub.stats().length === 1 ? server.hub.stats()[0]!.id : null;
    let alone = 0;

    const row = async (name: string, modes: AttackMode[], ms: number): Promise<HostileRow> => {
      const s = server!;
      const h = healthy!;
      const { rss: rssStart, arrayBuffers: abStart, heapTotal: heapStart } = process.memoryUsage();
      let rssMax = rssStart;
      let abMax = abStart;
      let heapMax = heapStart;
      const sample = setInterval(() => {
        const m = process.memoryUsage();
        rssMax = Math.max(rssMax, m.rss);
        abMax = Math.max(abMax, m.arrayBuffers);
        heapMax = Math.max(heapMax, m.heapTotal);
      }, 200);
      const attackers: Attacker[] = [];
      const uncaughtBefore = uncaught.length;
      try {
        for (const mode of modes) attackers.push(await Attacker.start(mode, s.url, o.attack?.[mode]));
        if (modes.length) await sleep(1000); // under way: connections made, buffers filling
        const loop0 = s.loop.stats();
        const healthyDropped0 = s.hub.stats().find((c) => c.id === healthyId)?.framesDropped;
        const h0 = await h.snapshot();
        const t0 = performance.now();
        await sleep(ms);
        const h1 = await h.snapshot();
        const secs = (performance.now() - t0) / 1000;
        const loop1 = s.loop.stats();
        const clients = s.hub.stats();
        const healthyDropped1 = clients.find((c) => c.id === healthyId)?.framesDropped;
        clearInterval(sample);
        const attackerCounts: AttackCounts[] = [];
        for (const a of attackers.splice(0)) attackerCounts.push(await a.stop());
        const others = clients.filter((c) => c.id !== healthyId);
        const healthyFps = (h1.frames - h0.frames) / secs;
        const thrown = uncaught.slice(uncaughtBefore);
        const r: HostileRow = {
          case: name,
          attackers: modes,
          seconds: secs,
          healthyFps,
          ratio: alone > 0 ? healthyFps / alone : 1,
          healthyDisconnects: h1.disconnects - h0.disconnects,
          rssStartMB: rssStart / MB,
          rssMaxMB: rssMax / MB,
          rssGrowthMB: (rssMax - rssStart) / MB,
          arrayBuffersGrowthMB: (abMax - abStart) / MB,
          heapGrowthMB: (heapMax - heapStart) / MB,
          server: {
            loopFps: (loop1.seq - loop0.seq) / secs,
            skippedTicks: loop1.skippedTicks - loop0.skippedTicks,
            loopErrors: loop1.errors - loop0.errors,
            healthyFramesDropped: healthyDropped0 !== undefined && healthyDropped1 !== undefined ? healthyDropped1 - healthyDropped0 : null,
            uncaught: thrown.length,
            uncaughtMessages: [...new Set(thrown)].slice(0, 5),
            others: {
              clients: others.length,
              messagesIn: others.reduce((n, c) => n + c.messagesIn, 0),
              errors: others.reduce((n, c) => n + c.errors, 0),
              framesSent: others.reduce((n, c) => n + c.framesSent, 0),
              framesDropped: others.reduce((n, c) => n + c.framesDropped, 0),
            },
          },
          attackerCounts,
          notes: attackerCounts.length
            ? attackerCounts.map(describeAttack).join('; ')
            : others.length
              ? `none; ${others.length} connection${others.length > 1 ? 's' : ''} from earlier attackers still open on the server`
              : '-',
        };
        say(
          `  ${name}: healthy ${healthyFps.toFixed(1)} fps${alone > 0 ? ` (${r.ratio.toFixed(2)} of alone)` : ''}, server loop ${r.server.loopFps.toFixed(1)} fps, ` +
            `${r.server.skippedTicks} skipped ticks, RSS +${r.rssGrowthMB.toFixed(1)} MB${thrown.length ? `, ${thrown.length} uncaught exceptions on the server's thread` : ''}`,
        );
        for (const c of attackerCounts) say(`    ${describeAttack(c)}`);
        return r;
      } finally {
        clearInterval(sample);
        for (const a of attackers) await a.stop();
        // The server lets go of what the attack left: closed sockets, requests still running.
        if (modes.length) await sleep(1500);
      }
    };

    const first = await row('healthy client alone', [], windowMs);
    alone = first.healthyFps;
    rows.push(first);
    rows.push(await row('flood of bad messages (240/s)', ['flood'], windowMs));
    rows.push(await row('non-reading client sending (240/s)', ['nonreader'], windowMs));
    rows.push(await row('GET /api/audio/devices ×50 concurrent', ['devices'], windowMs));
    rows.push(await row(`all three at once, ${allMs / 1000} s`, ['flood', 'nonreader', 'devices'], allMs));
    rows.push(await row('healthy client alone, after', [], windowMs));
    if (uncaught.length) say(`  the server's thread threw ${uncaught.length} uncaught exceptions (a real server would have exited at the first): ${[...new Set(uncaught)].slice(0, 3).join(' | ')}`);
    return rows;
  } finally {
    killAttackers();
    await healthy?.close();
    await server?.close().catch(() => undefined);
    process.off('uncaughtException', onUncaught);
    for (const l of savedHandlers) process.on('uncaughtException', l);
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** The section's table, and the exceptions the server's thread threw, for the bench's report. */
export function hostileReport(rows: HostileRow[]): string[] {
  const thrown = [...new Set(rows.flatMap((r) => r.server.uncaughtMessages))];
  return [
    formatTable(
      ['case', 's', 'healthy fps', '÷ alone', 'server fps', 'skipped ticks', 'RSS +MB', 'buffers +MB', 'uncaught', 'attacker did'],
      rows.map((r) => [r.case, r.seconds.toFixed(0), r.healthyFps.toFixed(1), r.ratio.toFixed(2), r.server.loopFps.toFixed(1), r.server.skippedTicks, r.rssGrowthMB.toFixed(1), r.arrayBuffersGrowthMB.toFixed(1), r.server.uncaught, r.notes]),
    )
      .split('\n')
      .map((line) => line.trimEnd())
      .join('\n'),
    '  targets: healthy ÷ alone ≥ 0.9 in every row; RSS growth ≤ 50 MB with all three attackers. RSS: the whole bench process (server and healthy client);',
    '  buffers: its memory outside the JS heap (queued socket data among it); uncaught: exceptions on the server\'s thread, each of which would end a real server.',
    ...thrown.map((m) => `  uncaught: ${m}`),
  ];
}
