import { pino, stdSerializers, type DestinationStream, type Logger as Pino } from 'pino';
import type { LogFields, LogLevel, Logger } from '@fleet/core';

const levelRank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * fleetd's {@link Logger}: pino, one JSON object a line, `{"level":"warn","time":"<ISO>",...fields,
 * "msg":"..."}` (level as a word and an ISO time, as the logs had before pino; tests and operators
 * match on both). Every field that holds an error is written with pino's `errWithCause`
 * serializer: `type`, `message`, `stack`, its own fields (`code`, `transient`, ...) and its `cause`,
 * serialized the same way, all the way down.
 *
 * `minLevel` may be a function, read at every line: a reload changes the verbosity of loggers (and
 * children) already handed out, which pino's own level, fixed per child at creation, would not.
 * Only fleetd's composition root makes one; everything else sees the `Logger` of `@fleet/core`.
 */
export function pinoLogger(destination: DestinationStream, minLevel: LogLevel | (() => LogLevel) = 'info'): Logger {
  const root = pino(
    {
      level: 'debug', // filtered by `minLevel` instead, see above
      base: null, // no pid and hostname: one fleetd per host, and the lines stay as they were
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Errors are serialized before they reach pino, under whatever key (see withErrors); pino's
      // default `err` serializer would serialize ours again and fold the causes into one stack.
      serializers: { err: (value: unknown) => value },
    },
    destination,
  );
  return adapt(root, typeof minLevel === 'function' ? minLevel : () => minLevel);
}

/** Where fleetd logs: stderr, written synchronously so that the last lines before an exit are not lost. */
export function stderrDestination(): DestinationStream {
  return pino.destination({ dest: 2, sync: true });
}

function adapt(log: Pino, threshold: () => LogLevel): Logger {
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (levelRank[level] < levelRank[threshold()]) return;
    if (fields === undefined) log[level](msg);
    else log[level](withErrors(fields), msg);
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => adapt(log.child(withErrors(fields)), threshold),
  };
}

/** `fields` with every error serialized (pino's serializers are per key; ours may be under any key). */
function withErrors(fields: LogFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) out[key] = value instanceof Error ? serializeError(value) : value;
  return out;
}

function serializeError(err: Error): unknown {
  const serialized = stdSerializers.errWithCause(err) as unknown as Record<string, unknown>;
  // errWithCause keeps only causes that are errors themselves; keep a thrown string or object too,
  // at whatever depth of the chain it ends.
  let at: Record<string, unknown> | undefined = serialized;
  let raw: unknown = err;
  for (let depth = 0; at !== undefined && raw instanceof Error && depth < 32; depth++) {
    if (at['cause'] === undefined && raw.cause !== undefined) at['cause'] = raw.cause;
    at = typeof at['cause'] === 'object' && at['cause'] !== null ? (at['cause'] as Record<string, unknown>) : undefined;
    raw = raw.cause;
  }
  return serialized;
}
