/**
 * What the output page exposes on `window.rhodopsOutput`, for the browser tests and the client bench: the
 * page's own figures, and a probe that draws now and reads the drawn pixels back.
 */
import type { DisplaySettings } from '../lib/protocol.ts';

export interface OutputStats {
  connected: boolean;
  /** Times the socket opened: 2 or more after a reconnect. */
  connects: number;
  /** Frame messages that arrived; `framesDropped` of them were skipped while two decodes were in flight. */
  framesReceived: number;
  framesDropped: number;
  /** Moving averages, ms: arrival → decoded (waiting for the decoder included), and the texture upload. */
  decodeMs: number;
  uploadMs: number;
  /** Distinct pictures drawn (a new frame or a new blend position). */
  framesDisplayed: number;
  /** Received frames that reached the screen. */
  framesShown: number;
  displayFps: number;
  receivedFps: number;
  /** Capture (server clock) → first display, over the last 256 frames shown; NaN before any. */
  delayP50Ms: number;
  delayP95Ms: number;
  /** The schedule's playout delay beyond the fastest transit. */
  playoutDelayMs: number;
  lastShownSeq: number;
  frameWidth: number;
  frameHeight: number;
  /** In effect: the server's, with this page's URL overrides. */
  settings: DisplaySettings;
  /** Fraction of the full resolution drawn (below 1 when the GPU could not keep up). */
  renderScale: number;
  /** Frame textures held by the schedule and idle in the pool (bounded). */
  textures: { live: number; idle: number };
}

export interface ProbeResult {
  /** The frames drawn: `seqA` blended towards `seqB` by `t`; -1 without a frame. */
  seqA: number;
  seqB: number;
  t: number;
  pixels: [number, number, number][];
}

export interface OutputHooks {
  stats(): OutputStats;
  /** Draws now and reads back the pixels at normalized canvas points ([0,0] top left, [1,1] bottom right). */
  probe(points: [number, number][]): ProbeResult;
}

declare global {
  interface Window {
    rhodopsOutput?: OutputHooks;
  }
}
