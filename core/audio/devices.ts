/**
 * Audio input devices for `rhodops audio list`: ffmpeg's own listings where it has one (pulse,
 * avfoundation, dshow), and for ALSA `arecord -l` or /proc/asound/cards. The parsers are pure functions
 * of the tools' text output; the commands run through an injectable runner so tests can feed them.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { resolveFfmpeg } from '../ffmpeg.ts';
import { messageOf } from '../errors.ts';
import { track } from '../children.ts';

export type DeviceBackend = 'pulse' | 'alsa' | 'avfoundation' | 'dshow';

export interface AudioDevice {
  backend: DeviceBackend;
  /** What the capture source takes as `device`. */
  id: string;
  /** Human-readable description. */
  name: string;
  /** The backend's default input. */
  isDefault: boolean;
  /** A PulseAudio monitor: what the machine is playing, not a microphone. */
  monitor: boolean;
}

export interface AudioDeviceList {
  platform: NodeJS.Platform;
  devices: AudioDevice[];
  /** One line per backend that found nothing, saying why. */
  notes: string[];
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number | null;
  /** The command could not run at all (not installed). */
  missing: boolean;
}

export interface DeviceProbe {
  platform: NodeJS.Platform;
  run(file: string, args: string[]): Promise<CommandResult>;
  readFile(path: string): Promise<string | null>;
  ffmpeg(): Promise<string>;
}

function runCommand(file: string, args: string[]): Promise<CommandResult> {
  return new Promise((resolve) => {
    track(execFile(file, args, { timeout: 10_000, maxBuffer: 4 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      const missing = error !== null && (error.code === 'ENOENT' || error.code === 'EACCES');
      resolve({ stdout: String(stdout), stderr: String(stderr), code, missing });
    }));
  });
}

export function systemProbe(): DeviceProbe {
  return {
    platform: process.platform,
    run: runCommand,
    readFile: (p) => fs.readFile(p, 'utf8').catch(() => null),
    ffmpeg: async () => (await resolveFfmpeg()).path,
  };
}

/** `ffmpeg -sources pulse`: "* name [description] (media)" per line, '*' for the default. */
export function parsePulseSources(stdout: string): AudioDevice[] {
  const out: AudioDevice[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^([* ]) (\S+) \[(.*)\](?: \([^)]*\))?\s*$/.exec(line);
    if (!m) continue;
    const id = m[2]!;
    out.push({ backend: 'pulse', id, name: m[3]!, isDefault: m[1] === '*', monitor: id.endsWith('.monitor') });
  }
  return out;
}

/** `arecord -l`: "card 1: Mic [Yeti Stereo Microphone], device 0: USB Audio [USB Audio]". */
export function parseArecordList(stdout: string): AudioDevice[] {
  const out: AudioDevice[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^card (\d+): (\S+) \[(.*?)\], device (\d+): .*?\[(.*)\]\s*$/.exec(line);
    if (!m) continue;
    // plughw converts rate/channels/format, which raw hw: devices often refuse; CARD=<id> survives replugging.
    out.push({ backend: 'alsa', id: `plughw:CARD=${m[2]},DEV=${m[4]}`, name: `${m[3]}: ${m[5]}`, isDefault: false, monitor: false });
  }
  return out;
}

/** /proc/asound/cards: " 0 [PCH            ]: HDA-Intel - HDA Intel PCH" (cards, not only capture ones). */
export function parseProcAsoundCards(text: string): AudioDevice[] {
  const out: AudioDevice[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+) \[(\S+)\s*\]: .*? - (.*)$/.exec(line);
    if (!m) continue;
    out.push({ backend: 'alsa', id: `plughw:CARD=${m[2]},DEV=0`, name: m[3]!.trim(), isDefault: false, monitor: false });
  }
  return out;
}

/** `ffmpeg -f avfoundation -list_devices true -i ""` (stderr): "[…] [0] Built-in Microphone" after the audio header. */
export function parseAvfoundationDevices(stderr: string): AudioDevice[] {
  const out: AudioDevice[] = [];
  let audio = false;
  for (const line of stderr.split('\n')) {
    if (/AVFoundation audio devices/.test(line)) audio = true;
    else if (/AVFoundation video devices/.test(line)) audio = false;
    else if (audio) {
      const m = /\] \[(\d+)\] (.+)$/.exec(line);
      if (m) out.push({ backend: 'avfoundation', id: m[1]!, name: m[2]!.trim(), isDefault: out.length === 0, monitor: false });
    }
  }
  return out;
}

/**
 * `ffmpeg -list_devices true -f dshow -i dummy` (stderr). Newer ffmpeg tags each device
 * (`"Microphone (Realtek)" (audio)`); older ones list them under a "DirectShow audio devices" header.
 */
export function parseDshowDevices(stderr: string): AudioDevice[] {
  const out: AudioDevice[] = [];
  let section: 'audio' | 'video' | null = null;
  for (const line of stderr.split('\n')) {
    if (/DirectShow audio devices/.test(line)) section = 'audio';
    else if (/DirectShow video devices/.test(line)) section = 'video';
    if (/Alternative name/.test(line)) continue;
    const m = /\]\s+"(.+)"(?: \(([^)]*)\))?\s*$/.exec(line);
    if (!m) continue;
    const tags = m[2];
    const isAudio = tags !== undefined ? tags.includes('audio') : section === 'audio';
    if (isAudio) out.push({ backend: 'dshow', id: m[1]!, name: m[1]!, isDefault: false, monitor: false });
  }
  return out;
}

/** The last meaningful line of a tool's error output, for notes. */
function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter((l) => l.trim());
  return (lines[lines.length - 1] ?? '').replace(/^\[[^\]]*\]\s*/, '').trim();
}

let inputDevices: Promise<Set<string>> | null = null;

/** Names of the input devices (demuxers) this ffmpeg was built with: the bundled static build has no pulse. */
export function ffmpegInputDevices(): Promise<Set<string>> {
  inputDevices ??= (async () => {
    const { path } = await resolveFfmpeg();
    const r = await runCommand(path, ['-hide_banner', '-devices']);
    const names = new Set<string>();
    for (const line of r.stdout.split('\n')) {
      const m = /^\s*D[E ]?\s+(\S+)/.exec(line);
      if (m) for (const n of m[1]!.split(',')) names.add(n);
    }
    return names;
  })();
  return inputDevices;
}

async function linuxDevices(p: DeviceProbe, ffmpeg: string, notes: string[]): Promise<AudioDevice[]> {
  const devices: AudioDevice[] = [];
  const pulse = await p.run(ffmpeg, ['-hide_banner', '-sources', 'pulse']);
  const pulseDevices = parsePulseSources(pulse.stdout);
  if (pulseDevices.length) devices.push(...pulseDevices);
  else {
    const why = /Cannot list sources: (.*)/.exec(pulse.stdout + pulse.stderr)?.[1] ?? lastLine(pulse.stderr);
    notes.push(`pulse: no sources (${why || 'none reported'}${/Generic error|Connection refused|Input\/output/.test(why) ? '; no PulseAudio/PipeWire server answered' : ''})`);
  }

  const arecord = await p.run('arecord', ['-l']);
  let alsa = arecord.missing ? [] : parseArecordList(arecord.stdout);
  let alsaWhy = arecord.missing ? 'arecord not installed' : lastLine(arecord.stderr) || 'no capture devices';
  if (arecord.missing) {
    const cards = await p.readFile('/proc/asound/cards');
    alsa = cards ? parseProcAsoundCards(cards) : [];
    alsaWhy += cards === null ? ', /proc/asound/cards absent (no sound driver loaded)' : ', /proc/asound/cards lists no cards';
  }
  if (alsa.length) {
    devices.push({ backend: 'alsa', id: 'default', name: 'ALSA default input', isDefault: true, monitor: false }, ...alsa);
  } else notes.push(`alsa: no devices (${alsaWhy})`);
  return devices;
}

/** Every audio input this machine offers, per backend, with notes on backends that found none. */
export async function listAudioDevices(p: DeviceProbe = systemProbe()): Promise<AudioDeviceList> {
  const notes: string[] = [];
  let ffmpeg: string;
  try {
    ffmpeg = await p.ffmpeg();
  } catch (e) {
    return { platform: p.platform, devices: [], notes: [`ffmpeg: ${messageOf(e)}`] };
  }
  let devices: AudioDevice[];
  if (p.platform === 'darwin') {
    const r = await p.run(ffmpeg, ['-hide_banner', '-f', 'avfoundation', '-list_devices', 'true', '-i', '']);
    devices = parseAvfoundationDevices(r.stderr);
    if (!devices.length) notes.push(`avfoundation: no audio devices (${lastLine(r.stderr) || 'none reported'})`);
  } else if (p.platform === 'win32') {
    const r = await p.run(ffmpeg, ['-hide_banner', '-list_devices', 'true', '-f', 'dshow', '-i', 'dummy']);
    devices = parseDshowDevices(r.stderr);
    if (!devices.length) notes.push(`dshow: no audio devices (${lastLine(r.stderr) || 'none reported'})`);
  } else {
    devices = await linuxDevices(p, ffmpeg, notes);
  }
  return { platform: p.platform, devices, notes };
}

/** The string a capture source accepts (see parseCaptureSpec): "backend:id". */
export function deviceSpec(d: AudioDevice): string {
  return `${d.backend}:${d.id}`;
}
