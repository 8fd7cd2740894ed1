import type { LogFields, Logger, LogLevel } from '../log.js';

/** One line a {@link RecordingLogger} received. */
export interface RecordedLogLine {
  readonly level: LogLevel;
  readonly msg: string;
  readonly fields: LogFields;
}

/** A logger that keeps every line (children write to the same list, with their fields merged in). */
export class RecordingLogger implements Logger {
  constructor(
    readonly lines: RecordedLogLine[] = [],
    private readonly base: LogFields = {},
  ) {}

  debug(msg: string, fields?: LogFields): void {
    this.#add('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.#add('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.#add('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.#add('error', msg, fields);
  }
  child(fields: LogFields): Logger {
    return new RecordingLogger(this.lines, { ...this.base, ...fields });
  }

  /** The messages logged at `level`, in order. */
  messages(level: LogLevel): string[] {
    return this.lines.filter((l) => l.level === level).map((l) => l.msg);
  }

  #add(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    this.lines.push({ level, msg, fields: { ...this.base, ...fields } });
  }
}
