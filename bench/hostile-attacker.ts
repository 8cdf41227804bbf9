/**
 * One hostile client for the hostile-client bench (bench/hostile.ts), in its own process as a hostile browser
 * tab would be: `node --import tsx bench/hostile-attacker.ts <flood|nonreader|devices> <server url> [options JSON]`.
 *
 * - flood: one WebSocket sending at the server's rate limit (240 messages/s), round-robin over four kinds:
 *   large invalid `set` messages (8000 strings, ~56 KB), valid JSON that is not an object (null, [], 3, "x"),
 *   unknown or missing types, and garbage (text that is not JSON, random binary). It reads every reply.
 * - nonreader: one WebSocket that never reads (its socket is paused) and sends small messages that each provoke
 *   a reply (ping, ping with an id, invalid ones, and a ~0.6 KB invalid `set` whose error reply is ~7 KB), at
 *   the rate limit; what the server sends it piles up on the server's side.
 * - devices: rounds of 50 concurrent `GET /api/audio/devices`, one round after another.
 *
 * Whatever the server does (closes the connection, refuses the upgrade, answers 429, stops answering), the
 * attacker pauses briefly and attacks again, and counts what happened. It talks to the bench over IPC: `ready`
 * once the attack is under way, its counts every 500 ms, and final counts when told to stop; it exits when
 * the bench goes away.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

export type AttackMode = 'flood' | 'nonreader' | 'devices';

export interface AttackOptions {
  /** Messages per second (WebSocket modes); default 240, the server's sustained rate limit. */
  rate?: number;
  /** Concurrent requests per round (devices); default 50. */
  concurrency?: number;
  /** Flood message kinds to leave out, e.g. ['null']. */
  omit?: string[];
}

export interface AttackCounts {
  mode: AttackMode;
  /** Since the attack got under way. */
  seconds: number;
  /** WebSocket connections opened. */
  connects: number;
  /** Connection attempts that failed: refused, reset, or a non-101 answer to the upgrade. */
  refused: number;
  /** Opened connections that ended (closed by the server, or found dead on a write), stalls not counted. */
  disconnects: number;
  /** flood: connections given up because the server answered none of the messages sent in the last 2 s. */
  stalls: number;
  sent: number;
  sentBytes: number;
  /** Messages not sent because the attacker's own send buffer was over 4 MB (the server was not reading). */
  held: number;
  /** Text messages received (replies, pushes) and their bytes; frames received. */
  replies: number;
  replyBytes: number;
  frames: number;
  /** devices: requests finished, rounds, and the slowest round. */
  requests: number;
  rounds: number;
  slowestRoundMs: number;
  /** What came back: reply types and error codes (`BAD_MESSAGE`), close codes (`close 1006`), `HTTP 200`, network errors. */
  codes: Record<string, number>;
}

export type AttackerMessage = { type: 'ready' } | { type: 'counts'; counts: AttackCounts; final: boolean };

const RECONNECT_MS = 250;
const HOLD_BYTES = 4 << 20;
const STALL_MS = 2000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Outgoing {
  kind: string;
  data: string | Buffer;
  binary: boolean;
}

const text = (kind: string, data: string): Outgoing => ({ kind, data, binary: false });

/** An invalid `set`: every latent entry a string, so validation reports one issue per entry. */
function invalidSet(n: number): string {
  const strings = Array.from({ length: n }, (_, i) => `s${i.toString(36).padStart(3, '0')}`);
  return JSON.stringify({ type: 'set', state: { noise: strings, categorical: [strings.slice(0, 16)], continuous: strings.slice(0, 16) } });
}

/** Round-robin over the four kinds (one in four is a large `set`), with the variants of each kind in turn. */
function floodMessages(omit: string[]): Outgoing[] {
  const kinds: Outgoing[][] = [
    [text('large set', invalidSet(8000))],
    [text('null', 'null'), text('[]', '[]'), text('3', '3'), text('"x"', '"x"')],
    [text('unknown type', '{"type":"nope","id":"a"}'), text('numeric type', '{"type":7}'), text('no type', '{"id":"b","state":{}}'), text('__proto__ type', '{"type":"__proto__"}')],
    [
      text('not JSON', '{"type":"set","state":{"noise":[1,2,'),
      { kind: 'random binary', data: randomBytes(1024), binary: true },
      text('not JSON', 'x'.repeat(2000)),
      { kind: 'random binary', data: randomBytes(16), binary: true },
    ],
  ]
    .map((variants) => variants.filter((v) => !omit.includes(v.kind)))
    .filter((variants) => variants.length > 0);
  const out: Outgoing[] = [];
  const rounds = Math.max(...kinds.map((k) => k.length));
  for (let r = 0; r < rounds; r++) for (const variants of kinds) out.push(variants[r % variants.length]!);
  return out;
}

function nonReaderMessages(): Outgoing[] {
  return [
    text('ping', '{"type":"ping","t":1}'),
    text('ping with id', '{"type":"ping","t":2,"id":"p"}'),
    text('bad direction', '{"type":"direction","index":-1,"value":"x"}'),
    text('unknown type', '{"type":"nope"}'),
    text('small invalid set', invalidSet(100)),
    text('not JSON', 'not json'),
  ];
}

const counts: AttackCounts = {
  mode: 'flood',
  seconds: 0,
  connects: 0,
  refused: 0,
  disconnects: 0,
  stalls: 0,
  sent: 0,
  sentBytes: 0,
  held: 0,
  replies: 0,
  replyBytes: 0,
  frames: 0,
  requests: 0,
  rounds: 0,
  slowestRoundMs: 0,
  codes: {},
};
let stopping = false;
let startedAt = 0;

const bump = (key: string) => (counts.codes[key] = (counts.codes[key] ?? 0) + 1);

function post(m: AttackerMessage, then?: () => void): void {
  if (!process.connected) return then?.();
  process.send!(m, undefined, {}, () => then?.());
}

function ready(): void {
  if (startedAt) return;
  startedAt = performance.now();
  post({ type: 'ready' });
}

function snapshot(): AttackCounts {
  counts.seconds = startedAt ? (performance.now() - startedAt) / 1000 : 0;
  return { ...counts, codes: { ...counts.codes } };
}

/** What an error says: the HTTP status of a refused upgrade, or the network error's code. */
function errorKey(e: unknown): string {
  const err = e as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const status = /Unexpected server response: (\d+)/.exec(err.message ?? '');
  if (status) return `HTTP ${status[1]}`;
  return err.cause?.code ?? err.code ?? err.name ?? 'error';
}

/** One connection after another until stopped: send at `rate`, read (flood) or never read (nonreader). */
async function webSocketAttack(mode: 'flood' | 'nonreader', url: string, o: AttackOptions): Promise<void> {
  const wsUrl = `${url.replace(/^http/, 'ws')}ws`;
  const messages = mode === 'flood' ? floodMessages(o.omit ?? []) : nonReaderMessages();
  const rate = o.rate ?? 240;
  let next = 0;
  while (!stopping) {
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(wsUrl, { handshakeTimeout: 5000 });
      let opened = false;
      let gaveUp = false;
      let timer: NodeJS.Timeout | null = null;
      let lastReply = 0;
      let unansweredSince = 0;
      ws.on('open', () => {
        opened = true;
        counts.connects++;
        ready();
        if (mode === 'nonreader') ws.pause();
        const t0 = performance.now();
        let due = 0;
        timer = setInterval(() => {
          if (ws.readyState !== ws.OPEN) return;
          const now = performance.now();
          // At most a tenth of a second's worth per tick: no catching up in a burst after a stall.
          const n = Math.min(Math.floor(((now - t0) / 1000) * rate) - due, Math.ceil(rate / 10));
          for (let i = 0; i < n; i++) {
            due++;
            if (ws.bufferedAmount > HOLD_BYTES) {
              counts.held++;
              continue;
            }
            const m = messages[next++ % messages.length]!;
            ws.send(m.data, { binary: m.binary });
            counts.sent++;
            counts.sentBytes += m.data.length;
            if (!unansweredSince) unansweredSince = now;
          }
          if (mode === 'flood' && unansweredSince && now - Math.max(unansweredSince, lastReply) > STALL_MS) {
            counts.stalls++;
            gaveUp = true;
            ws.terminate();
          }
        }, 10);
      });
      ws.on('message', (data: Buffer, isBinary) => {
        if (isBinary) return void counts.frames++;
        counts.replies++;
        counts.replyBytes += data.length;
        const m = /^\{"type":"(\w+)"(?:,"code":"(\w+)")?/.exec(data.subarray(0, 120).toString('latin1'));
        bump(m ? (m[2] ?? m[1]!) : 'other');
        // Answers to what it sent (not the pushes every page gets: status, state, welcome).
        if (m && (m[1] === 'error' || m[1] === 'pong' || m[1] === 'applied')) {
          lastReply = performance.now();
          unansweredSince = 0;
        }
      });
      ws.on('error', (e) => {
        bump(errorKey(e));
        if (!opened) counts.refused++;
      });
      ws.on('close', (code) => {
        if (timer) clearInterval(timer);
        if (opened && !gaveUp) {
          counts.disconnects++;
          bump(`close ${code}`);
        }
        resolve();
      });
    });
    if (!stopping) await sleep(RECONNECT_MS);
  }
}

/** Rounds of `concurrency` simultaneous GET /api/audio/devices, one round after another. */
async function devicesAttack(url: string, o: AttackOptions): Promise<void> {
  const n = o.concurrency ?? 50;
  while (!stopping) {
    const t0 = performance.now();
    let failed = false;
    const round = Array.from({ length: n }, async () => {
      try {
        const r = await fetch(`${url}api/audio/devices`, { signal: AbortSignal.timeout(15_000) });
        await r.arrayBuffer();
        bump(`HTTP ${r.status}`);
        if (r.status !== 200) failed = true;
      } catch (e) {
        bump(errorKey(e));
        failed = true;
      }
      counts.requests++;
    });
    ready();
    await Promise.all(round);
    counts.rounds++;
    counts.slowestRoundMs = Math.max(counts.slowestRoundMs, performance.now() - t0);
    if (failed && !stopping) await sleep(RECONNECT_MS);
  }
}

async function main(): Promise<void> {
  const [mode, url, json] = process.argv.slice(2);
  if ((mode !== 'flood' && mode !== 'nonreader' && mode !== 'devices') || !url) {
    process.stderr.write('usage: node --import tsx bench/hostile-attacker.ts <flood|nonreader|devices> <server url> [options JSON]\n');
    process.exit(2);
  }
  const o = (json ? JSON.parse(json) : {}) as AttackOptions;
  counts.mode = mode;
  // The bench went away (finished, crashed or killed): so does the attacker.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: { type?: string }) => {
    if (m.type !== 'stop') return;
    stopping = true;
    post({ type: 'counts', counts: snapshot(), final: true }, () => process.exit(0));
  });
  setInterval(() => post({ type: 'counts', counts: snapshot(), final: false }), 500).unref();
  if (mode === 'devices') await devicesAttack(url, o);
  else await webSocketAttack(mode, url, o);
}

await main();
