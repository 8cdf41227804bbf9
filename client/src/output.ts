/**
 * The projector page (/output): frames from the server's WebSocket are decoded (createImageBitmap, off the
 * main thread), uploaded to textures, held by a small schedule and drawn at the display's rate, blended by
 * capture time, with the display settings the control page sets. It reconnects by itself, keeps the last
 * picture meanwhile, hides the cursor, goes full screen on `f` or a double-click and shows its figures on `s`.
 */
import { Connection } from './lib/connection.ts';
import { decodeFrame, releaseFrame, type DecodedFrame } from './lib/frames.ts';
import type { DisplaySettings, ModelInfo, ServerMessage, ServerStatus } from './lib/protocol.ts';
import type { OutputHooks, OutputStats, ProbeResult } from './output/hooks.ts';
import { Overlay } from './output/overlay.ts';
import { OutputRenderer } from './output/renderer.ts';
import { FrameSchedule, type Pick } from './output/schedule.ts';
import { INITIAL_DISPLAY, overridesFromQuery } from './output/settings.ts';
import { AdaptiveResolution } from './output/resolution.ts';
import { RateMeter } from './output/stats.ts';
import type { FrameTexture } from './output/textures.ts';
import type { Camera } from '../../core/camera.ts';

/** A frame held by the schedule: its texture and the camera moves it was made with. */
interface HeldFrame {
  texture: FrameTexture;
  camera: Camera;
}

/** Decodes in flight (or waiting for an earlier one, to keep frame order) before arriving frames are dropped. */
const MAX_PENDING_DECODES = 2;
const CURSOR_MS = 2000;

const canvas = document.createElement('canvas');
canvas.id = 'output';
document.body.append(canvas);
const renderer = new OutputRenderer(canvas);
const schedule = new FrameSchedule<HeldFrame>((f) => renderer.release(f.texture), { timeOrigin: performance.timeOrigin });
const overrides = overridesFromQuery(location.search);
if (overrides.problems.length) console.warn(`rhodops output: ignored URL settings: ${overrides.problems.join('; ')}`);

/** In effect: the server's settings (welcome, display messages), with this page's URL overrides on top. */
let settings: DisplaySettings = { ...INITIAL_DISPLAY, ...overrides.change };
let model: ModelInfo | null = null;
let serverStatus: ServerStatus | null = null;
let framesReceived = 0;
let framesDropped = 0;
const arrivals = new RateMeter();
let frameWidth = 0;
let frameHeight = 0;
/** Frames of an earlier connection still decoding are dropped when they finish. */
let generation = 0;
let pending = 0;
let order: Promise<void> = Promise.resolve();
/** Something other than the schedule changed the picture (settings, size): draw at the next display frame. */
let dirty = true;

function applySettings(server: DisplaySettings): void {
  settings = { ...server, ...overrides.change };
  renderer.applySettings(settings);
  dirty = true;
}

/** `?scale=0.5` fixes the render scale; otherwise it adapts to how fast this GPU draws. */
const fixedScale = (() => {
  const v = Number(new URLSearchParams(location.search).get('scale'));
  return v >= 0.1 && v <= 1 ? v : null;
})();
const resolution = new AdaptiveResolution();
let renderScale = fixedScale ?? 1;

function resize(): void {
  renderer.resize(window.innerWidth, window.innerHeight, window.devicePixelRatio || 1, renderScale);
  dirty = true;
}

/** Moving averages (ms): arrival → decoded (decoder queue and decode), and the texture upload. */
let decodeMs = 0;
let uploadMs = 0;
const ema = (avg: number, v: number) => (avg === 0 ? v : avg * 0.9 + v * 0.1);

function accept(f: DecodedFrame): void {
  const { seq, captureTime, width, height, camera } = f.header;
  try {
    const t0 = performance.now();
    decodeMs = ema(decodeMs, t0 - f.receivedAt);
    const tex = renderer.upload(f.pixels, width, height);
    const t1 = performance.now();
    uploadMs = ema(uploadMs, t1 - t0);
    frameWidth = width;
    frameHeight = height;
    schedule.push(seq, captureTime, f.receivedAt, t1, { texture: tex, camera });
  } finally {
    // The texture holds the pixels now.
    releaseFrame(f);
  }
}

function onFrame(data: ArrayBuffer, receivedAt: number): void {
  framesReceived++;
  arrivals.mark(receivedAt);
  // A page that cannot decode as fast as frames come skips them rather than queueing (and falling behind).
  if (pending >= MAX_PENDING_DECODES) {
    framesDropped++;
    return;
  }
  pending++;
  const gen = generation;
  const decoding = decodeFrame(data, receivedAt).catch((e: unknown) => {
    console.warn(`rhodops output: a frame did not decode (${e instanceof Error ? e.message : String(e)}); skipped`);
    return null;
  });
  // Decodes may finish out of order; frames enter the schedule in the order they came.
  order = order.then(async () => {
    const f = await decoding;
    pending--;
    if (!f) return;
    if (gen !== generation) releaseFrame(f);
    else accept(f);
  });
}

function onMessage(m: ServerMessage): void {
  switch (m.type) {
    case 'welcome':
      // A new connection: maybe a restarted server, maybe another model; its frames start afresh.
      schedule.reset();
      schedule.expectFps(m.fps);
      model = m.model;
      applySettings(m.display);
      break;
    case 'display':
      applySettings(m.settings);
      break;
    case 'model':
      model = m.model;
      break;
    case 'status':
      serverStatus = m.status;
      break;
    default:
      break;
  }
}

const overlay = new Overlay(document.body, () => ({ stats: stats(), model, server: serverStatus, problems: overrides.problems }));

const connection = new Connection({
  open: () => overlay.connected(),
  close: () => {
    generation++;
    overlay.disconnected();
  },
  message: onMessage,
  frame: onFrame,
});

let drewLast = false;
/** Draws what the schedule picks for `now` when the picture changed (or fades by itself); returns the pick. */
/** The camera between two frames' moves, as the pictures are blended. */
const blended: Camera = { flash: 0, contrast: 0, zoom: 0, rotate: 0 };
function blendCamera(a: Camera, b: Camera, t: number): Camera {
  for (const k of Object.keys(blended) as (keyof Camera)[]) blended[k] = a[k] + (b[k] - a[k]) * t;
  return blended;
}

function render(now: number): Pick<HeldFrame> | null {
  const p = schedule.pick(now, settings.blend);
  drewLast = dirty || (p !== null && (p.changed || renderer.animating));
  if (!p) {
    if (dirty) renderer.draw(null, null, 1);
    dirty = false;
    return null;
  }
  if (drewLast) renderer.draw(p.a.item.texture, p.b.item.texture, p.t, blendCamera(p.a.item.camera, p.b.item.camera, p.a === p.b ? 1 : p.t));
  dirty = false;
  return p;
}

let lastLoop = 0;
function loop(now: number): void {
  requestAnimationFrame(loop);
  // How long since the last display frame tells whether the previous draw kept up.
  if (drewLast && lastLoop > 0 && fixedScale === null) {
    const next = resolution.observe(now - lastLoop);
    if (next !== null) {
      renderScale = next;
      resize();
    }
  }
  lastLoop = now;
  render(now);
}

function stats(): OutputStats {
  const now = performance.now();
  const s = schedule.stats(now);
  return {
    connected: connection.isOpen,
    connects: connection.connects,
    framesReceived,
    framesDropped,
    decodeMs,
    uploadMs,
    framesDisplayed: s.displayUpdates,
    framesShown: s.framesShown,
    displayFps: s.displayFps,
    receivedFps: arrivals.rate(now),
    delayP50Ms: s.delayP50Ms,
    delayP95Ms: s.delayP95Ms,
    playoutDelayMs: s.playoutDelayMs,
    lastShownSeq: s.lastShownSeq,
    frameWidth,
    frameHeight,
    settings: { ...settings },
    renderScale,
    textures: renderer.textureCounts(),
  };
}

function probe(points: [number, number][]): ProbeResult {
  const now = performance.now();
  // Drawn and read in this task: the drawing buffer is not preserved past it.
  dirty = true;
  const p = render(now);
  return { seqA: p ? p.a.seq : -1, seqB: p ? p.b.seq : -1, t: p ? p.t : 1, pixels: renderer.readPixels(points) };
}

function toggleFullscreen(): void {
  // Refused without a user gesture (or in a frame that does not allow it): nothing to do then.
  if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
  else void document.documentElement.requestFullscreen().catch(() => undefined);
}

let cursorTimer: ReturnType<typeof setTimeout> | null = null;
function showCursor(): void {
  document.body.classList.add('cursor');
  if (cursorTimer) clearTimeout(cursorTimer);
  cursorTimer = setTimeout(() => document.body.classList.remove('cursor'), CURSOR_MS);
}

window.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const k = e.key.toLowerCase();
  if (k === 'f') toggleFullscreen();
  else if (k === 's' || k === 'h') overlay.toggle();
});
window.addEventListener('dblclick', toggleFullscreen);
window.addEventListener('mousemove', showCursor);
window.addEventListener('resize', resize);
canvas.addEventListener('webglcontextlost', (e) => {
  // Keeps the page alive; three.js restores its resources when the context comes back.
  e.preventDefault();
  console.warn('rhodops output: the WebGL context was lost; waiting for it to come back');
});
canvas.addEventListener('webglcontextrestored', () => {
  // The held frames' pixels were on the lost context (their bitmaps are closed): start again from the next frame.
  schedule.reset();
  dirty = true;
});

window.rhodopsOutput = { stats, probe } satisfies OutputHooks;
// URL overrides apply from the start; the server's settings join them with its welcome.
renderer.applySettings(settings);
resize();
connection.start();
requestAnimationFrame(loop);
