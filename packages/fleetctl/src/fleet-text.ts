import { FleetError } from '@fleet/core';
import type { Clock, FleetErrorCode } from '@fleet/core';
import { ApiError, ApiUnreachableError } from './api-client.js';

/**
 * A command ended the way fleet's fleetctl ends it: with these lines on stderr, printed as they
 * are (fleet's own words, no `Error: ` added), and this exit code. Commands throw it once they
 * know the outcome; `run` prints it. `cause` keeps the error behind the message, if any.
 */
export class CommandFailed extends FleetError {
  override readonly name = 'CommandFailed';
  /**
   * `code` defaults to the cause's when it is a `FleetError`, else `INVALID_REQUEST` (what the
   * command was asked cannot be done).
   */
  constructor(
    readonly lines: readonly string[],
    readonly exitCode = 1,
    options: { cause?: unknown; code?: FleetErrorCode } = {},
  ) {
    const { code, ...rest } = options;
    super(code ?? (options.cause instanceof FleetError ? options.cause.code : 'INVALID_REQUEST'), lines.join('\n'), rest);
  }
}

/**
 * How fleet's client words an error of ours (`%v` of a Go error): the API's own message behind
 * `googleapi: Error <status>: `, a transport failure as Go's HTTP client reports it
 * (`Get "http://domain-sock/fleet/v1/units?alt=json": dial unix /x.sock: connect: no such file or
 * directory`), anything else by its message.
 */
export function goError(err: unknown): string {
  if (err instanceof ApiError) {
    return err.rawBody === undefined ? `googleapi: Error ${err.status}: ${err.message}` : `googleapi: got HTTP response code ${err.status} with body: ${err.rawBody}`;
  }
  if (err instanceof ApiUnreachableError && err.request !== undefined) {
    const { method, url } = err.request;
    return `${method.charAt(0)}${method.slice(1).toLowerCase()} ${JSON.stringify(url)}: ${oneLine(err.goReason ?? err.reason)}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Go's `%v` of a string slice: `[a.service b.service]`. */
export function goList(items: readonly string[]): string {
  return `[${items.join(' ')}]`;
}

const shortEscapes: Readonly<Record<string, string>> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\' };

/** Go's `%q` of a string (`strconv.Quote`): printable characters kept, the rest escaped. */
export function goQuote(text: string): string {
  let out = '"';
  for (const c of text) {
    const code = c.codePointAt(0) ?? 0;
    const short = shortEscapes[c];
    if (short !== undefined) out += short;
    else if (c === ' ' || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(c)) out += c;
    else if (code < 0x80) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code < 0x10000) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** The levels of fleet's log lines on stderr. */
export type LogLevel = 'INFO' | 'WARN' | 'ERROR';

/**
 * One line of fleet's logger, as its fleetctl prints it on stderr: the local time
 * (`2006/01/02 15:04:05`), the level, where in fleet's source it logged, the message:
 * `2018/04/12 10:00:00 INFO restart.go:100: Unit(a.service) was restarted.`
 */
export function logLine(clock: Pick<Clock, 'now'>, level: LogLevel, source: string, message: string): string {
  const t = new Date(clock.now());
  const two = (n: number): string => String(n).padStart(2, '0');
  const date = `${t.getFullYear()}/${two(t.getMonth() + 1)}/${two(t.getDate())}`;
  const time = `${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}`;
  return `${date} ${time} ${level} ${source}: ${message}\n`;
}

/**
 * A unit-file parse error in the words of go-systemd's deserializer, which fleet's fleetctl prints
 * (`unable to find end of section`, `EOF`...), from the engine parser's message. A message this
 * does not recognise is returned as it is.
 */
export function unitFileErrorText(message: string): string {
  const reason = message.replace(/^invalid unit file: (line \d+: )?/, '');
  if (reason.startsWith('unable to find end of section')) return 'unable to find end of section';
  if (reason.startsWith('line too long')) return reason;
  if (reason.startsWith('unexpected end of file in an option name')) return 'EOF';
  if (reason.startsWith('unexpected line break in an option name')) return 'unexpected newline encountered while parsing option name';
  const garbage = /^found garbage after section name \[.*\]: ("(?:[^"\\]|\\.)*")$/.exec(reason);
  if (garbage !== null) {
    // go-systemd prints the garbage as a byte slice, and an empty section name (its own quirk).
    const bytes = [...Buffer.from(JSON.parse(garbage[1] ?? '""') as string, 'utf8')].join(' ');
    return `found garbage after section name : [${bytes}]`;
  }
  return reason;
}

/** The text of a thrown value, on one line. */
export function errorText(err: unknown): string {
  return oneLine(err instanceof Error ? err.message : String(err));
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
