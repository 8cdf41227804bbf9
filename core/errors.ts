/**
 * Errors a user can meet. Each has a stable code (listed in ERRORS.md) and a hint that says what to do,
 * so the CLI can print something useful instead of a stack trace from deep inside a library.
 */
export type ErrorCode =
  | 'BACKEND_UNKNOWN'
  | 'BACKEND_UNAVAILABLE'
  | 'CHECKPOINT_NOT_FOUND'
  | 'CHECKPOINT_EXISTS'
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
  | 'TIMELINE_INVALID';

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
