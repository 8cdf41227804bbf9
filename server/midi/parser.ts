/**
 * A streaming MIDI byte parser: feed it bytes in chunks of any size (one message per chunk from RtMidi, arbitrary
 * slices from Web MIDI or a serial link) and it returns the complete messages. Pure: it keeps no clock; the
 * caller says when the bytes arrived.
 *
 * What the byte stream may do, and what happens:
 * - Running status: data bytes after a complete channel message reuse its status (0x80–0xEF).
 * - Realtime bytes (0xF8–0xFF) may appear anywhere, even between the status and data of another message or
 *   inside a SysEx; they come out at once and leave whatever they interrupted intact. Active sensing (0xFE) and
 *   the undefined 0xF9/0xFD are consumed without an event.
 * - SysEx (0xF0 … 0xF7) is collected across chunks and emitted whole. At most `maxSysexBytes` are kept, so a
 *   SysEx that never ends cannot grow memory; the rest is counted but dropped (`truncated`). Any status byte
 *   other than realtime ends a SysEx early (also `truncated`), as the MIDI spec says.
 * - System common (MTC quarter frame, song position, song select, tune request) is parsed and cancels running
 *   status; the undefined 0xF4/0xF5 and a stray 0xF7 just cancel it.
 * - Data bytes with no status to belong to (at the start of a stream, after system common) are dropped and
 *   counted in `dropped`, as are values that are not bytes when a plain array is pushed.
 *
 * 14-bit control change: MIDI sends a fine controller as CC n (MSB, n = 0–31) then CC n+32 (LSB). Every CC is
 * emitted as a 7-bit `controlChange` at once, so a knob that only sends MSBs works, and so does a controller
 * that uses CC 32–63 as ordinary knobs. An LSB then also emits a `cc14` for controller n, combining it with the
 * latest MSB of n on that channel; an LSB before any MSB of its pair emits no cc14. Later LSBs without a new
 * MSB reuse the last MSB, as the spec allows for fine moves within one coarse step.
 */
import { RhodopsError } from '../../core/errors.ts';
import type { Seconds } from '../../core/latent/units.ts';
import type { MidiEvent } from './events.ts';

export interface MidiParserOptions {
  /** The most SysEx bytes kept per message (0xF0 and 0xF7 included), 2 to 1 MiB. Default 8192. */
  maxSysexBytes: number;
}

export const DEFAULT_PARSER_OPTIONS: Readonly<MidiParserOptions> = { maxSysexBytes: 8192 };

/** Data bytes that follow each channel status, by high nibble (0x8–0xE). */
const CHANNEL_DATA_LENGTH = [2, 2, 2, 2, 1, 1, 2] as const;

/** Data bytes that follow each system common status, 0xF1–0xF3; 0xF6 has none. */
function systemCommonLength(status: number): number {
  return status === 0xf2 ? 2 : status === 0xf1 || status === 0xf3 ? 1 : 0;
}

const NO_MSB = -1;

export class MidiParser {
  private readonly maxSysex: number;
  /** The status the next data bytes belong to; 0 when none (data bytes are then stray). */
  private status = 0;
  private needed = 0;
  private readonly data = [0, 0];
  private count = 0;
  private inSysex = false;
  private readonly sysex: Uint8Array;
  private sysexLength = 0;
  private sysexOverflow = false;
  /** Latest MSB of each 14-bit pair, by channel × controller (0–31). */
  private readonly msb = new Int16Array(16 * 32).fill(NO_MSB);
  /** Bytes ignored so far: stray data bytes and pushed values that are not bytes. */
  dropped = 0;

  constructor(options: Partial<MidiParserOptions> = {}) {
    const max = options.maxSysexBytes ?? DEFAULT_PARSER_OPTIONS.maxSysexBytes;
    if (!Number.isInteger(max) || max < 2 || max > 1 << 20) {
      throw new RhodopsError('BAD_OPTION', `midi parser: maxSysexBytes must be an integer from 2 to ${1 << 20}, got ${String(max)}.`, {
        hint: 'Leave it out for the default (8192), which holds any controller message.',
      });
    }
    this.maxSysex = max;
    this.sysex = new Uint8Array(max);
  }

  /** Parses a chunk; returns the messages it completed, in order. `time` is stamped on each of them. */
  push(bytes: Uint8Array | readonly number[], time: Seconds): MidiEvent[] {
    const out: MidiEvent[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] as number;
      // A Uint8Array always holds bytes; a plain array (from JSON) may hold anything.
      if (!(Number.isInteger(b) && b >= 0 && b <= 0xff)) {
        this.dropped++;
        continue;
      }
      this.byte(b, time, out);
    }
    return out;
  }

  /** Forgets any message in progress, running status and 14-bit MSBs (for a port that was reconnected). */
  reset(): void {
    this.status = 0;
    this.count = 0;
    this.inSysex = false;
    this.sysexLength = 0;
    this.sysexOverflow = false;
    this.msb.fill(NO_MSB);
  }

  private byte(b: number, time: Seconds, out: MidiEvent[]): void {
    if (b >= 0xf8) {
      this.realtime(b, time, out);
      return;
    }
    if (this.inSysex) {
      if (b < 0x80) {
        this.sysexByte(b);
        return;
      }
      if (b === 0xf7) {
        this.sysexByte(b);
        this.endSysex(time, out, false);
        return;
      }
      // Another status byte cuts the SysEx short; the status is then handled as usual below.
      this.endSysex(time, out, true);
    }
    if (b >= 0x80) {
      this.statusByte(b, time, out);
      return;
    }
    if (this.status === 0) {
      this.dropped++;
      return;
    }
    this.data[this.count++] = b;
    if (this.count < this.needed) return;
    this.count = 0;
    if (this.status >= 0xf0) {
      this.systemCommon(this.status, time, out);
      this.status = 0; // system common never sets running status
    } else {
      this.channelMessage(this.status, time, out);
    }
  }

  private statusByte(b: number, time: Seconds, out: MidiEvent[]): void {
    this.count = 0;
    if (b < 0xf0) {
      this.status = b;
      this.needed = CHANNEL_DATA_LENGTH[(b >> 4) - 8] as number;
      return;
    }
    this.status = 0;
    if (b === 0xf0) {
      this.inSysex = true;
      this.sysexLength = 0;
      this.sysexOverflow = false;
      this.sysexByte(b);
    } else if (b === 0xf6) {
      out.push({ type: 'tuneRequest', time });
    } else if (b >= 0xf1 && b <= 0xf3) {
      this.status = b;
      this.needed = systemCommonLength(b);
    }
    // 0xF4, 0xF5 (undefined) and a 0xF7 outside a SysEx only cancel running status.
  }

  private realtime(b: number, time: Seconds, out: MidiEvent[]): void {
    switch (b) {
      case 0xf8:
        out.push({ type: 'clock', time });
        break;
      case 0xfa:
        out.push({ type: 'start', time });
        break;
      case 0xfb:
        out.push({ type: 'continue', time });
        break;
      case 0xfc:
        out.push({ type: 'stop', time });
        break;
      case 0xff:
        out.push({ type: 'reset', time });
        break;
      default:
      // 0xFE active sensing is a keep-alive with nothing to act on; 0xF9 and 0xFD are undefined.
    }
  }

  private sysexByte(b: number): void {
    if (this.sysexLength < this.maxSysex) this.sysex[this.sysexLength++] = b;
    else this.sysexOverflow = true;
  }

  private endSysex(time: Seconds, out: MidiEvent[], cutShort: boolean): void {
    out.push({ type: 'sysex', time, bytes: this.sysex.slice(0, this.sysexLength), truncated: cutShort || this.sysexOverflow });
    this.inSysex = false;
    this.sysexLength = 0;
    this.sysexOverflow = false;
  }

  private systemCommon(status: number, time: Seconds, out: MidiEvent[]): void {
    const [d1, d2] = this.data as [number, number];
    if (status === 0xf1) out.push({ type: 'mtcQuarterFrame', time, piece: d1 >> 4, nibble: d1 & 0x0f });
    else if (status === 0xf2) out.push({ type: 'songPosition', time, sixteenths: d1 | (d2 << 7) });
    else out.push({ type: 'songSelect', time, song: d1 });
  }

  private channelMessage(status: number, time: Seconds, out: MidiEvent[]): void {
    const channel = status & 0x0f;
    const [d1, d2] = this.data as [number, number];
    switch (status >> 4) {
      case 0x8:
        out.push({ type: 'noteOff', time, channel, note: d1, velocity: d2 });
        break;
      case 0x9:
        out.push(d2 === 0 ? { type: 'noteOff', time, channel, note: d1, velocity: 0 } : { type: 'noteOn', time, channel, note: d1, velocity: d2, normalized: d2 / 127 });
        break;
      case 0xa:
        out.push({ type: 'polyPressure', time, channel, note: d1, pressure: d2, normalized: d2 / 127 });
        break;
      case 0xb:
        this.controlChange(channel, d1, d2, time, out);
        break;
      case 0xc:
        out.push({ type: 'programChange', time, channel, program: d1 });
        break;
      case 0xd:
        out.push({ type: 'channelPressure', time, channel, pressure: d1, normalized: d1 / 127 });
        break;
      default: {
        const value = (d1 | (d2 << 7)) - 8192;
        out.push({ type: 'pitchBend', time, channel, value, normalized: value < 0 ? value / 8192 : value / 8191 });
      }
    }
  }

  private controlChange(channel: number, controller: number, value: number, time: Seconds, out: MidiEvent[]): void {
    out.push({ type: 'controlChange', time, channel, controller, value, normalized: value / 127 });
    if (controller < 32) {
      this.msb[channel * 32 + controller] = value;
    } else if (controller < 64) {
      const pair = controller - 32;
      const msb = this.msb[channel * 32 + pair] as number;
      if (msb !== NO_MSB) {
        const v14 = (msb << 7) | value;
        out.push({ type: 'cc14', time, channel, controller: pair, value: v14, normalized: v14 / 16383 });
      }
    }
  }
}
