/**
 * Minimal levelled logger. The library never prints directly; it calls a {@link Logger} that the
 * CLI (or the user) provides. Level comes from `AEKIT_LOG` (error|warn|info|debug), default info.
 */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const LEVEL_ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

/** Current log level from the environment. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const value = (env.AEKIT_LOG ?? 'info').toLowerCase();
  return value in LEVEL_ORDER ? (value as LogLevel) : 'info';
}

/** A logger writing to stderr (info and debug go to stderr too, so stdout stays for results). */
export function consoleLogger(level: LogLevel = logLevelFromEnv()): Logger {
  const at = LEVEL_ORDER[level];
  const write = (lvl: LogLevel, prefix: string) => (message: string) => {
    if (LEVEL_ORDER[lvl] <= at) process.stderr.write(`${prefix}${message}\n`);
  };
  return {
    error: write('error', 'error: '),
    warn: write('warn', 'warning: '),
    info: write('info', ''),
    debug: write('debug', 'debug: '),
  };
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };
