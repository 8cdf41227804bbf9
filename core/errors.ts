/**
 * Errors a user can meet. Each has a stable code (listed in ERRORS.md) and a hint that says what to do,
 * so the CLI can print something useful instead of a stack trace from deep inside a library.
 */
export type ErrorCode =
  | 'BACKEND_UNKNOWN'
  | 'BACKEND_UNAVAILABLE'
  | 'CHECKPOINT_NOT_FOUND'
  | 'CHECKPOINT_EXISTS'
  | 'RUN_IN_USE'
  | 'CHECKPOINT_FILE_MISSING'
  | 'CHECKPOINT_FILE_CORRUPT'
  | 'MANIFEST_INVALID'
  | 'ONNX_INVALID'
  | 'ONNX_UNSUPPORTED_SIGNATURE'
  | 'EXECUTION_PROVIDER_UNAVAILABLE'
  | 'LATENT_SHAPE_MISMATCH'
  | 'LATENT_INVALID'
  | 'FFMPEG_UNAVAILABLE'
  | 'FFMPEG_FAILED'
  | 'RECORDING_DIR_UNWRITABLE'
  | 'RECORDING_AUDIO_INVALID'
  | 'NOT_IMPLEMENTED'
  | 'NOT_FOUND'
  | 'RECORDING_ACTIVE'
  | 'BAD_OPTION'
  | 'DATASET_INVALID'
  | 'OUTPUT_UNWRITABLE'
  | 'TRAINING_COLLAPSED'
  | 'PRESET_NOT_FOUND'
  | 'PRESET_EXISTS'
  | 'PRESET_INVALID'
  | 'PRESET_BAD_NAME'
  | 'PRESET_INCOMPATIBLE'
  | 'AUDIO_NO_DEVICES'
  | 'AUDIO_CAPTURE_FAILED'
  | 'AUDIO_FILE_INVALID'
  | 'AUDIO_PCM_INVALID'
  | 'MAPPING_INVALID'
  | 'BAD_MESSAGE'
  | 'CLIENT_BUILD_FAILED'
  | 'SESSION_INVALID'
  | 'TIMELINE_INVALID'
  // The render farm (render/farm/).
  | 'FARM_UNREACHABLE'
  | 'FARM_JOB_INVALID'
  | 'FARM_MODEL_MISSING'
  | 'FARM_RESULT_REJECTED'
  | 'FARM_FAILED'
  // What the live server answers on the wire (WebSocket error replies, REST error bodies, refused upgrades).
  | 'UNAUTHORIZED'
  | 'FORBIDDEN_ORIGIN'
  | 'FORBIDDEN_HOST'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'TOO_MANY_CONNECTIONS'
  | 'RATE_LIMITED'
  | 'TOO_LARGE'
  | 'BAD_JSON'
  | 'UNKNOWN_TYPE'
  | 'BUSY'
  | 'AUDIO_DEVICE_UNKNOWN'
  | 'PRESET_OTHER_MODEL'
  | 'INTERNAL';

export class RhodopsError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RhodopsError';
    this.code = code;
    this.hint = options.hint;
  }

  /** One or two lines for a terminal: what went wrong, then what to do. */
  describe(): string {
    return this.hint ? `${this.message}\n  → ${this.hint}` : this.message;
  }
}

export function isRhodopsError(e: unknown, code?: ErrorCode): e is RhodopsError {
  return e instanceof RhodopsError && (code === undefined || e.code === code);
}

/** The message of anything thrown, for wrapping third-party errors without losing them. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What a client is told of an error: a code from the list above, a message of bounded length, and a hint. */
export interface WireError {
  code: ErrorCode;
  message: string;
  hint?: string;
}

/** System error codes of writes that failed for a reason the user can fix. */
const WRITE_ERRNOS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  EFBIG: 'the file is larger than the system allows (ulimit -f)',
};

/** Caps text sent to clients, so an error reply is never much larger than the request that caused it. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Anything thrown, as a client should see it: a RhodopsError keeps its code and hint; a failed write
 * (disk full, permissions) becomes OUTPUT_UNWRITABLE with what to do; anything else is INTERNAL.
 */
export function toWireError(e: unknown, maxChars = 400): WireError {
  if (e instanceof RhodopsError) return { code: e.code, message: clip(e.message, maxChars), ...(e.hint ? { hint: clip(e.hint, maxChars) } : {}) };
  const errno = (e as { code?: unknown } | null)?.code;
  if (typeof errno === 'string' && errno in WRITE_ERRNOS) {
    const file = (e as { path?: unknown }).path;
    return {
      code: 'OUTPUT_UNWRITABLE',
      message: clip(`could not write${typeof file === 'string' ? ` ${file}` : ''}: ${WRITE_ERRNOS[errno]} (${errno})`, maxChars),
      hint: 'free disk space, or fix the permissions of the server\'s folders (presets, recordings, mappings); nothing was changed',
    };
  }
  return { code: 'INTERNAL', message: clip(`the server could not do this: ${messageOf(e)}`, maxChars), hint: 'the show goes on; if it happens again, please report it with the server log' };
}
