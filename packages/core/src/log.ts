/** Structured fields attached to a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** The logging seam. fleetd writes JSON lines to stderr; tests use {@link silentLogger} or a recorder. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` too (e.g. `{ component: 'engine' }`). */
  child(fields: LogFields): Logger;
}

/** Severity of a log line. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
type Level = LogLevel;
const levelRank: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * JSON lines (`{"time","level","msg",...fields}`) written to `stream`, at `minLevel` and above.
 * `minLevel` may be a function, read at every line, so that a reload can change the verbosity of
 * loggers (and their children) already handed out.
 */
export function jsonLogger(stream: { write(line: string): unknown }, minLevel: Level | (() => Level) = 'info', base: LogFields = {}): Logger {
  const threshold = typeof minLevel === 'function' ? minLevel : () => minLevel;
  const emit = (level: Level, msg: string, fields?: LogFields): void => {
    if (levelRank[level] < levelRank[threshold()]) return;
    stream.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...serialisable(fields) })}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => jsonLogger(stream, minLevel, { ...base, ...fields }),
  };
}

function serialisable(fields: LogFields | undefined): LogFields {
  if (fields === undefined) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = v instanceof Error ? { name: v.name, message: v.message } : v;
  return out;
}

/** Drops everything. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
