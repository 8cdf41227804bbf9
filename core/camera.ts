/**
 * Camera moves: what the mapping does to the picture rather than to the latent, on the beat: a flash towards
 * white, a contrast punch, a zoom in and a turn. Plain math (no zod, no DOM) so the output page's shader and
 * the offline renderer compute the same thing, and one wire encoding (a byte each in the frame header) so a
 * frame carries the moves it was made with.
 */

export const CAMERA_MOVES = ['flash', 'contrast', 'zoom', 'rotate'] as const;
export type CameraMove = (typeof CAMERA_MOVES)[number];
/** flash, contrast, zoom 0..1; rotate -1..1. */
export type Camera = Record<CameraMove, number>;

export const NO_CAMERA: Readonly<Camera> = Object.freeze({ flash: 0, contrast: 0, zoom: 0, rotate: 0 });

/** A full flash takes the picture this far towards white. */
export const FLASH_MAX = 0.75;
/** A full punch multiplies contrast by 1 + this. */
export const CONTRAST_MAX = 1;
/** A full zoom enlarges by 1 + this. */
export const ZOOM_MAX = 0.5;
/** A full turn, in degrees. */
export const ROTATE_MAX_DEG = 20;

/** The range of one move's value. */
export function cameraRange(move: CameraMove): readonly [number, number] {
  return move === 'rotate' ? [-1, 1] : [0, 1];
}

export function isStill(c: Readonly<Camera>): boolean {
  return c.flash === 0 && c.contrast === 0 && c.zoom === 0 && c.rotate === 0;
}

/** Flash and contrast on one channel value (0..1), as the shader does: punch about mid-grey, then towards white. */
export function cameraTone(v: number, c: Readonly<Camera>): number {
  const punched = (v - 0.5) * (1 + CONTRAST_MAX * c.contrast) + 0.5;
  const x = Math.min(1, Math.max(0, punched));
  return x + (1 - x) * FLASH_MAX * c.flash;
}

/**
 * Where a point of the output (x, y about the centre, in frame units, y down) samples the frame: the inverse of
 * zoom-then-turn, as a row-major 2×2 matrix written into `out`. A turn of a non-square frame keeps its pixels
 * square: the caller passes the frame's aspect (width / height).
 */
export function cameraMatrix(c: Readonly<Camera>, aspect: number, out: number[]): void {
  const s = 1 / (1 + ZOOM_MAX * c.zoom);
  const a = (-c.rotate * ROTATE_MAX_DEG * Math.PI) / 180;
  const cos = Math.cos(a) * s;
  const sin = Math.sin(a) * s;
  // In pixel units (x·aspect, y), turned, back to frame units.
  out[0] = cos;
  out[1] = -sin / aspect;
  out[2] = sin * aspect;
  out[3] = cos;
}

// ─── Wire ─────────────────────────────────────────────────────────────────────────────────────────────────────

/** Four bytes: flash, contrast and zoom as 0..255, rotate as a signed byte -127..127. */
export function encodeCamera(c: Readonly<Camera>, out: Uint8Array, offset: number): void {
  const u = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 255);
  out[offset] = u(c.flash);
  out[offset + 1] = u(c.contrast);
  out[offset + 2] = u(c.zoom);
  out[offset + 3] = Math.round(Math.min(1, Math.max(-1, c.rotate)) * 127) & 0xff;
}

export function decodeCamera(bytes: Uint8Array, offset: number): Camera {
  const r = bytes[offset + 3]!;
  return { flash: bytes[offset]! / 255, contrast: bytes[offset + 1]! / 255, zoom: bytes[offset + 2]! / 255, rotate: (r > 127 ? r - 256 : r) / 127 };
}

/** The moves as a frame carries them (the offline renderer uses these, so a video matches the page). */
export function quantizeCamera(c: Readonly<Camera>): Camera {
  const b = new Uint8Array(4);
  encodeCamera(c, b, 0);
  return decodeCamera(b, 0);
}
