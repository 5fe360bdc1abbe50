/**
 * Minimal leveled logger. One line per record on stderr: time, level, thread (main or shard N),
 * message and an optional JSON detail object. Kept dependency-free because both threads load it.
 */
import type { LogLevel } from './config/types.js';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, detail?: Record<string, unknown>): void;
  info(msg: string, detail?: Record<string, unknown>): void;
  warn(msg: string, detail?: Record<string, unknown>): void;
  error(msg: string, detail?: Record<string, unknown>): void;
}

export function createLogger(level: LogLevel, thread: string): Logger {
  const min = ORDER[level];
  const emit = (lvl: LogLevel, msg: string, detail?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return;
    const extra = detail === undefined ? '' : ' ' + safeJson(detail);
    process.stderr.write(`${new Date().toISOString()} ${lvl} [${thread}] ${msg}${extra}\n`);
  };
  return {
    debug: (m, d) => emit('debug', m, d),
    info: (m, d) => emit('info', m, d),
    warn: (m, d) => emit('warn', m, d),
    error: (m, d) => emit('error', m, d),
  };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => (x instanceof Error ? { message: x.message, stack: x.stack } : x));
  } catch {
    return '"<unserialisable>"';
  }
}
