/**
 * Reads a session log back (line by line, so a long set needs no more memory than its events), checks the
 * header, and replays its latents on the instrument restored from the header: every recorded change applied
 * again at its recorded clock reading, every frame asked for at its recorded time. The same code on the same
 * numbers gives the same float32 latents, which each frame's hash confirms. With another mapping, the changes
 * the mapping made are left out and the logged inputs are mapped again instead.
 */
import type { Camera } from '../core/camera.ts';
import { createReadStream } from 'node:fs';
import { promises as fs } from 'node:fs';
import readline from 'node:readline';
import { describeZodError } from '../core/checkpoint/manifest.ts';
import { RhodopsError } from '../core/errors.ts';
import type { LatentStateJson } from '../core/latent/index.ts';
import type { Mapping, MappingInput } from '../core/mapping/index.ts';
import { Instrument } from './instrument.ts';
import { LIVE_OPS, type LiveOp, type LiveOps } from './live-state.ts';
import { latentHash, SESSION_FORMAT, sessionEndSchema, sessionHeaderSchema, type SessionEnd, type SessionHeader } from './session-format.ts';

export type SessionEvent =
  | { kind: 'op'; t: number; op: LiveOp; mapped: boolean }
  | { kind: 'frame'; t: number; dt: number; hash: string }
  | { kind: 'input'; t: number; input: MappingInput }
  | { kind: 'mapping'; t: number; mapping: unknown }
  | { kind: 'presets'; t: number; presets: Record<string, LatentStateJson> };

export interface Session {
  file: string;
  header: SessionHeader;
  events: SessionEvent[];
  frames: number;
  /** The end line, absent when the server stopped without closing the log (a crash, a kill). */
  end: SessionEnd | null;
  /** The last line was cut (a crash mid-write) and was left out. */
  truncated: boolean;
}


function invalid(file: string, line: number, why: string): RhodopsError {
  return new RhodopsError('SESSION_INVALID', `${file}, line ${line}: ${why}`, { hint: 'a session log is written beside each take (NAME.session.jsonl); only its last line may be cut' });
}

function event(file: string, n: number, j: Record<string, unknown>): SessionEvent {
  const t = j['t'];
  if (typeof t !== 'number') throw invalid(file, n, "no time 't'");
  if (typeof j['op'] === 'string') {
    if (!(LIVE_OPS as readonly string[]).includes(j['op']) || !Array.isArray(j['args'])) throw invalid(file, n, `unknown change '${j['op']}'`);
    // The op names and argument lists come from LiveState itself (LiveOps); apply() checks values as a live call would.
    return { kind: 'op', t, op: { op: j['op'] as keyof LiveOps, args: j['args'] } as LiveOp, mapped: j['m'] === 1 };
  }
  if (typeof j['h'] === 'string' && typeof j['dt'] === 'number') return { kind: 'frame', t, dt: j['dt'], hash: j['h'] };
  if (j['in'] && typeof j['in'] === 'object') return { kind: 'input', t, input: j['in'] as MappingInput };
  if ('mapping' in j) return { kind: 'mapping', t, mapping: j['mapping'] };
  if (j['presets'] && typeof j['presets'] === 'object') return { kind: 'presets', t, presets: j['presets'] as Record<string, LatentStateJson> };
  throw invalid(file, n, `an event of no known kind (keys ${Object.keys(j).join(', ')})`);
}

export async function readSession(file: string): Promise<Session> {
  const stat = await fs.stat(file).catch(() => null);
  if (!stat?.isFile()) throw new RhodopsError('SESSION_INVALID', `${file} does not exist or is not a file`, { hint: 'pass a .session.jsonl written beside a take' });
  const lines = readline.createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let header: SessionHeader | null = null;
  const events: SessionEvent[] = [];
  let end: SessionEnd | null = null;
  let frames = 0;
  let n = 0;
  let pendingBad: { n: number; why: string } | null = null;
  for await (const text of lines) {
    n++;
    // A bad line is fatal only if another line follows it: the last one may be cut by a crash.
    if (pendingBad) throw invalid(file, pendingBad.n, pendingBad.why);
    if (text.trim() === '') continue;
    let j: Record<string, unknown>;
    try {
      j = JSON.parse(text) as Record<string, unknown>;
    } catch {
      pendingBad = { n, why: 'not JSON' };
      continue;
    }
    if (n === 1) {
      if (j['format'] !== SESSION_FORMAT) throw invalid(file, 1, `not a rhodops session log (format ${JSON.stringify(j['format'] ?? null)})`);
      const h = sessionHeaderSchema.safeParse(j);
      if (!h.success) throw invalid(file, 1, describeZodError(h.error));
      header = h.data;
      continue;
    }
    if ('end' in j) {
      const e = sessionEndSchema.safeParse(j['end']);
      if (!e.success) throw invalid(file, n, describeZodError(e.error));
      end = e.data;
      continue;
    }
    const ev = event(file, n, j);
    if (ev.kind === 'frame') frames++;
    events.push(ev);
  }
  if (!header) throw invalid(file, 1, 'empty: no header');
  return { file, header, events, frames, end, truncated: pendingBad !== null };
}

export interface ReplayedFrame {
  /** 0, 1, 2… in the order the live loop made them. */
  index: number;
  /** Seconds since the log began. */
  time: number;
  latent: Float32Array;
  /** The latent has the hash the live frame had. */
  exact: boolean;
  /** The camera moves the frame was made with. */
  camera: Camera;
}

export interface ReplayOptions {
  /** Another mapping: the logged inputs are mapped again through it, and the live mapping's changes left out. */
  mapping?: Mapping;
}

/** The session's latents, frame by frame, each a fresh array. */
export function* replayLatents(session: Session, o: ReplayOptions = {}): Generator<ReplayedFrame> {
  const h = session.header;
  const remap = o.mapping !== undefined;
  if (remap && h.version < 2) {
    throw new RhodopsError('SESSION_INVALID', `${session.file} was written by an older rhodops, which did not mark the mapping's changes; it replays only with its own mapping`, {
      hint: 'leave out --mapping to replay it as it was played',
    });
  }
  let clock = h.t0;
  const instrument = Instrument.restore({ live: h.live, mapping: o.mapping ?? h.mapping, presets: h.presets }, () => clock);
  let index = 0;
  for (const e of session.events) {
    switch (e.kind) {
      case 'op':
        if (remap && e.mapped) break;
        clock = e.t;
        instrument.apply(e.op);
        break;
      case 'input':
        if (remap) instrument.push(e.input);
        break;
      case 'presets':
        clock = e.t;
        instrument.setPresets(new Map(Object.entries(e.presets)));
        break;
      case 'mapping':
        // Live, the mapping's own effects (directions it needs) are logged as operations: applied above.
        break;
      case 'frame': {
        clock = e.t;
        const latent = Float32Array.from(remap ? instrument.frameAt(e.t, e.dt) : instrument.frameFromOps(e.t, e.dt));
        yield { index: index++, time: e.t - h.t0, latent, exact: latentHash(latent) === e.hash, camera: instrument.camera };
        break;
      }
    }
  }
}
