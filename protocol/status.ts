/**
 * What the server reports about itself, as the pages and scripts receive it (`GET /api/status`, the `status`
 * push, recordings, models, inputs): defined here, once, and returned by the server's parts. Types only, so
 * the pages' bundle takes nothing at run time from here.
 */
import type { AudioSourceStatus } from '../core/audio/index.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { Seconds } from '../core/latent/units.ts';
import type { TargetInput } from '../core/mapping/index.ts';
import type { GeneratorInfo } from '../core/runtime/types.ts';
import type { SessionStats } from '../instrument/session-log.ts';

/** The kinds of audio source a server plays. */
export type AudioSpecKind = 'none' | 'file' | 'capture' | 'browser';

/** A MIDI clock's state (MIDI start/stop/continue and 24 pulses per quarter note). */
export interface ClockState {
  /** Between start/continue and stop. */
  running: boolean;
  /** Beats per minute, or null before enough pulses, after start/stop/reset, or when the clock went quiet. */
  bpm: number | null;
  /** Quarter notes since start (the first pulse after start is position 0); moved by song position when stopped. */
  position: number;
  /** Time of the last pulse, or null. */
  lastPulse: Seconds | null;
}

/** What status shows of a client: never its address, which other clients must not learn. */
export interface ClientStats {
  id: number;
  framesSent: number;
  framesDropped: number;
  /** Replies and broadcasts skipped because the client was not reading. */
  messagesDropped: number;
  messagesIn: number;
  errors: number;
}

export interface MidiPortStatus {
  name: string;
  /** A system port, or bytes forwarded through `feed` (Web MIDI). */
  source: 'port' | 'remote';
  connected: boolean;
  /** Time of the latest event, on the `now` clock; null before the first. */
  lastEventTime: Seconds | null;
  events: number;
  /** The system lists an output of the same name, so `sendFeedback` can reach it. */
  feedback: boolean;
  clock: ClockState;
}

export interface MidiStatus {
  /** Whether the MIDI subsystem answered the latest scan; null before the first scan. */
  available: boolean | null;
  reason: string | null;
  hint: string | null;
  selection: string;
  ports: MidiPortStatus[];
}

export interface LoopStats {
  seq: number;
  /** Frames sent per second, averaged over the last second or so. */
  fps: number;
  targetFps: number | 'max';
  engineMs: number;
  encodeMs: number;
  skippedTicks: number;
  errors: number;
  lastError: string | null;
}

/**
 * recording: frames are accepted. failed: ffmpeg died; nothing is accepted; stop() still salvages.
 * stopping: the queue drains and ffmpeg finishes. finishing: remux (and smoothing). done.
 */
export type TakeState = 'recording' | 'failed' | 'stopping' | 'finishing' | 'done';

export interface TakeStats {
  name: string;
  state: TakeState;
  width: number;
  height: number;
  fps: number;
  /** Frames waiting for ffmpeg now, the most that ever waited, and the cap. */
  queued: number;
  queuedMax: number;
  queueCap: number;
  /** Frames offered to pushFrame while recording. */
  pushed: number;
  /** Frames handed to ffmpeg (repeats included). */
  written: number;
  /** Frames refused because the queue was full. */
  dropped: number;
  /** Frame slots filled with the previous frame because capture times skipped ahead (see pushFrame). */
  repeated: number;
  /** Frames refused because their size was not width × height × 3. */
  rejected: number;
  /** Wall time since the take started (frozen when ffmpeg ends). */
  elapsedMs: number;
  /** Seconds of video handed to ffmpeg: written / fps. */
  videoSeconds: number;
  /** Size of the MKV on disk so far. */
  bytes: number;
}

/** Plain data (survives JSON): the error of a failed take or of finishing it. */
export interface TakeProblem {
  code: ErrorCode;
  message: string;
  hint?: string;
}

export interface TakeSummary {
  name: string;
  dir: string;
  /** Absolute paths of what the take left: the MP4, the smoothed MP4, and the MKV when it was kept. */
  files: { mp4?: string; smooth?: string; mkv?: string };
  framesPushed: number;
  framesWritten: number;
  framesDropped: number;
  framesRepeated: number;
  /** Seconds of video in the MP4 (frames / fps); for a failed take, what survived in the MKV. */
  durationS: number;
  elapsedS: number;
  /** The audio file was muxed into the MP4. */
  audio: boolean;
  /** ffprobe showed the MP4 holds every frame written. */
  verified: boolean;
  /** The first thing that went wrong: ffmpeg dying mid-take, or the remux or smoothing failing. */
  error?: TakeProblem;
}

export interface TakeFile {
  /** File name, e.g. `take-20250101-203000.smooth.mp4`. */
  file: string;
  /** The take it belongs to: the file name without `.smooth`, `.mp4`, `.mkv`. */
  take: string;
  path: string;
  kind: 'mp4' | 'smooth' | 'mkv';
  bytes: number;
  /** Last modification, ISO 8601. */
  modified: string;
  /** Seconds, from the container header; absent when unknown (no ffprobe, a take still recording, an MKV cut short by a crash). */
  durationS?: number;
  /** An MKV this process is writing now. */
  recording: boolean;
}

export interface ModelEntry {
  name: string;
  path: string;
  kind: string;
  resolution: number | null;
}

/** What `GET /api/status` and the pages' `status` message carry. */
export interface ServerStatus {
  model: { name: string; kind: string; width: number; height: number; latent: GeneratorInfo['latent']; path: string };
  engine: string;
  switching: boolean;
  loop: LoopStats;
  clients: ClientStats[];
  recording: TakeStats | null;
  /** The session log being written (every change and input, timestamped, for an offline replay). */
  session: SessionStats | null;
  lastSession: SessionStats | null;
  inputs: InputsStatus;
  lastTake: TakeSummary | null;
  memory: { rssMB: number };
}

export interface InputsStatus {
  midi: MidiStatus;
  audio: (AudioSourceStatus & { spec: AudioSpecKind; positionS?: number; durationS?: number | null }) | null;
  /** The newest audio features, for meters. */
  features: MeterFeatures | null;
  mapping: { name: string; routes: number; warnings: readonly string[] };
  learning: TargetInput | null;
}

/** What a page's meters show: normalised 0..1 levels, whether an onset was heard since the last reading, tempo. */
export interface MeterFeatures {
  rms: number;
  bass: number;
  mid: number;
  treble: number;
  onset: boolean;
  tempo: number;
  beatPhase: number;
  time: number;
}

