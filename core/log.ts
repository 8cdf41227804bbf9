/**
 * A tiny leveled logger on stderr, so stdout stays free for data (tables, JSON) a user may pipe.
 * RHODOPS_LOG=debug|info|warn|error|silent sets the level; tests set it to silent.
 */
const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LEVELS)[number];

function levelFromEnv(): LogLevel {
  const v = process.env['RHODOPS_LOG'];
  return (LEVELS as readonly string[]).includes(v ?? '') ? (v as LogLevel) : 'info';
}

let current: LogLevel = levelFromEnv();

export function setLogLevel(level: LogLevel): void {
  current = level;
}

export function logLevel(): LogLevel {
  return current;
}

function enabled(level: LogLevel): boolean {
  return LEVELS.indexOf(level) >= LEVELS.indexOf(current);
}

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export function logger(scope: string): Logger {
  const emit = (level: LogLevel, msg: string) => {
    if (enabled(level)) process.stderr.write(`[rhodops:${scope}] ${level === 'info' ? '' : level + ': '}${msg}\n`);
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
  };
}
