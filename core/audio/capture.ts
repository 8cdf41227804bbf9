/**
 * Live audio capture through ffmpeg: PulseAudio/PipeWire or ALSA on Linux, AVFoundation on macOS,
 * DirectShow on Windows, and lavfi (a synthetic signal, e.g. a test tone) anywhere. ffmpeg writes mono
 * f32le at the extractor's rate to stdout, flushed per packet so the latency stays near the input's
 * fragment size.
 *
 * A device that cannot be opened makes start() reject. Once running, an ffmpeg that dies (unplugged
 * device, killed process) is reported once ('error', and the log) and the source ends cleanly.
 */
import { resolveFfmpeg } from '../ffmpeg.ts';
import { RhodopsError } from '../errors.ts';
import { logger } from '../log.ts';
import { ffmpegInputDevices, listAudioDevices } from './devices.ts';
import { describeExit, FfmpegPcm, pcmOutputArgs, type PcmExit } from './ffmpeg-pcm.ts';
import { BaseAudioSource, type AudioSourceKind, type SourceBaseOptions } from './source.ts';

const log = logger('audio');

export const CAPTURE_BACKENDS = ['pulse', 'alsa', 'avfoundation', 'dshow', 'lavfi'] as const;
export type CaptureBackend = (typeof CAPTURE_BACKENDS)[number];

export interface CaptureOptions extends SourceBaseOptions {
  /** Default: the platform's (Linux: pulse when this ffmpeg has it and a server answers, else alsa). */
  backend?: CaptureBackend;
  /** Backend-specific device id (see `rhodops audio list`); default: the system's default input. */
  device?: string;
  /** How long to wait for the first samples before giving up. */
  startTimeoutMs?: number;
}

/** The ffmpeg input options for a backend and device (pure, so the tests can check every platform). */
export function captureInputArgs(backend: CaptureBackend, device: string | undefined, rate: number): string[] {
  switch (backend) {
    case 'pulse':
      // Asking pulse for mono at our rate avoids a resample; a 20 ms fragment bounds the latency.
      return ['-f', 'pulse', '-sample_rate', String(rate), '-channels', '1', '-fragment_size', String(Math.round(rate * 2 * 0.02)), '-i', device ?? 'default'];
    case 'alsa':
      return ['-f', 'alsa', '-i', device ?? 'default'];
    case 'avfoundation':
      // avfoundation takes "video:audio"; an empty video part means audio only.
      return ['-f', 'avfoundation', '-i', `:${device ?? '0'}`];
    case 'dshow':
      if (!device) throw new RhodopsError('AUDIO_CAPTURE_FAILED', 'DirectShow capture needs a device name.', { hint: 'Pick one from `rhodops audio list`.' });
      return ['-f', 'dshow', '-audio_buffer_size', '20', '-i', `audio=${device}`];
    case 'lavfi':
      // Synthetic: -re paces it at real time, as a device would be.
      return ['-re', '-f', 'lavfi', '-i', device ?? 'sine=frequency=440'];
  }
}

/**
 * "pulse:alsa_input.usb-…", "alsa:plughw:CARD=PCH,DEV=0", "dshow:Microphone (USB)", "lavfi:sine=f=220",
 * or a bare device id for the platform's default backend; "" or "default" for the default device.
 */
export function parseCaptureSpec(spec: string): { backend?: CaptureBackend; device?: string } {
  const colon = spec.indexOf(':');
  const head = colon < 0 ? spec : spec.slice(0, colon);
  if ((CAPTURE_BACKENDS as readonly string[]).includes(head)) {
    const device = colon < 0 ? '' : spec.slice(colon + 1);
    return { backend: head as CaptureBackend, ...(device && device !== 'default' ? { device } : {}) };
  }
  return spec && spec !== 'default' ? { device: spec } : {};
}

function hintFor(backend: CaptureBackend): string {
  switch (backend) {
    case 'pulse':
      return 'Is PulseAudio or PipeWire running for this user? `rhodops audio list` shows the sources; or use the alsa backend.';
    case 'alsa':
      return 'Check the device with `rhodops audio list` (arecord -l); the user may need to be in the "audio" group.';
    case 'avfoundation':
      return 'Pick a device index from `rhodops audio list`, and allow microphone access for the terminal (System Settings › Privacy & Security › Microphone).';
    case 'dshow':
      return 'Use the exact device name from `rhodops audio list`.';
    case 'lavfi':
      return 'The lavfi source must be an ffmpeg audio filter source, e.g. sine=frequency=440 or anoisesrc.';
  }
}

/** Which backends to try, in order, when none was named. */
async function backendCandidates(platform: NodeJS.Platform): Promise<CaptureBackend[]> {
  if (platform === 'darwin') return ['avfoundation'];
  if (platform === 'win32') return ['dshow'];
  const inputs = await ffmpegInputDevices();
  const out: CaptureBackend[] = [];
  if (inputs.has('pulse')) out.push('pulse');
  if (inputs.has('alsa')) out.push('alsa');
  return out.length ? out : ['alsa'];
}

export class CaptureAudioSource extends BaseAudioSource {
  readonly kind: AudioSourceKind = 'capture';
  private proc: FfmpegPcm | null = null;
  private readonly o: CaptureOptions;
  /** The backend and device that opened, once started. */
  opened: { backend: CaptureBackend; device: string | undefined } | null = null;

  constructor(o: CaptureOptions = {}) {
    super(`capture ${o.backend ?? 'auto'}:${o.device ?? 'default'}`, o);
    this.o = o;
  }

  /** ffmpeg's process id while running (diagnostics, tests). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  protected async open(): Promise<void> {
    const { path } = await resolveFfmpeg();
    const backends = this.o.backend ? [this.o.backend] : await backendCandidates(process.platform);
    let device = this.o.device;
    if (!device && backends[0] === 'dshow' && backends.length === 1) {
      // DirectShow has no "default" device: take the first one listed.
      const list = await listAudioDevices();
      device = list.devices.find((d) => d.backend === 'dshow')?.id;
      if (!device) throw new RhodopsError('AUDIO_NO_DEVICES', 'No DirectShow audio input device found.', { hint: 'Connect a microphone or enable "Stereo Mix" in the sound settings.' });
    }
    const failures: string[] = [];
    for (const backend of backends) {
      const failure = await this.tryOpen(path, backend, device);
      if (failure === null) {
        this.opened = { backend, device };
        log.info(`${this.name}: capturing from ${backend}:${device ?? 'default'} at ${this.extractor.sampleRate} Hz`);
        return;
      }
      failures.push(`${backend}: ${failure}`);
    }
    const last = backends[backends.length - 1] ?? 'alsa';
    throw new RhodopsError('AUDIO_CAPTURE_FAILED', `Could not capture audio from ${device ?? 'the default device'} (${failures.join('; ')}).`, { hint: hintFor(last) });
  }

  /** Starts ffmpeg on one backend; null when samples flow, else why not. */
  private async tryOpen(ffmpeg: string, backend: CaptureBackend, device: string | undefined): Promise<string | null> {
    const rate = this.extractor.sampleRate;
    let firstData: () => void = () => undefined;
    const flowing = new Promise<void>((resolve) => (firstData = resolve));
    const proc = new FfmpegPcm(ffmpeg, [...captureInputArgs(backend, device, rate), ...pcmOutputArgs(rate)], (samples) => {
      firstData();
      this.deliver(samples);
    });
    const timeoutMs = this.o.startTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      flowing.then(() => 'ok' as const),
      proc.exited,
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (outcome === 'ok') {
      this.proc = proc;
      void proc.exited.then((exit) => this.onExit(proc, backend, exit));
      return null;
    }
    if (outcome === 'timeout') {
      await proc.kill();
      return `no samples within ${timeoutMs} ms`;
    }
    return describeExit(outcome);
  }

  private onExit(proc: FfmpegPcm, backend: CaptureBackend, exit: PcmExit): void {
    if (this.proc !== proc || exit.killedByUs) return;
    this.proc = null;
    if (backend === 'lavfi' && exit.code === 0) {
      // A synthetic source with a duration simply ends.
      this.finish();
      return;
    }
    const error = `Audio capture from ${backend}:${this.opened?.device ?? 'default'} stopped: ffmpeg ${describeExit(exit)}.`;
    this.fail(new RhodopsError('AUDIO_CAPTURE_FAILED', error, { hint: hintFor(backend) }));
  }

  protected async close(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (proc) await proc.kill();
  }
}
