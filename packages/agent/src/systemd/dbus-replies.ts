import type { EventEmitter } from 'node:events';
import { DBusError, Variant, type MessageBus } from '@jellybrick/dbus-next';
import { SystemdError } from '@fleet/core';
import type { UnitFileChange } from './systemd1.js';

/** systemd's answer when a unit is not loaded, or its unit file not linked. */
const noSuchUnit = 'org.freedesktop.systemd1.NoSuchUnit';

/** D-Bus errors that say "the bus or systemd is not answering now", not "your request is wrong". */
const transientErrorNames = new Set([
  'org.freedesktop.DBus.Error.NoReply',
  'org.freedesktop.DBus.Error.Timeout',
  'org.freedesktop.DBus.Error.TimedOut',
  'org.freedesktop.DBus.Error.Disconnected',
  'org.freedesktop.DBus.Error.ServiceUnknown',
  'org.freedesktop.DBus.Error.NameHasNoOwner',
  'org.freedesktop.DBus.Error.LimitsExceeded',
  'org.freedesktop.DBus.Error.NoMemory',
]);

/** The D-Bus error name behind a `SystemdError` (e.g. `org.freedesktop.systemd1.NoSuchUnit`), if any. */
export function dbusErrorName(err: unknown): string | undefined {
  if (!(err instanceof SystemdError) || !(err.cause instanceof DBusRemoteError)) return undefined;
  return err.cause.dbusName;
}

/** True when systemd answered `NoSuchUnit` (unit not loaded, or unit file not linked). */
export function isNoSuchUnitError(err: unknown): boolean {
  return dbusErrorName(err) === noSuchUnit;
}

/** systemd's or the bus's error reply, detached from dbus-next's `DBusError` (which holds the raw reply). */
export class DBusRemoteError extends Error {
  override readonly name = 'DBusRemoteError';
  constructor(readonly dbusName: string, text: string) {
    super(`${dbusName}: ${text}`);
  }
}

export class DBusDisconnectedError extends Error {
  override readonly name = 'DBusDisconnectedError';
}

export class DBusTimeoutError extends Error {
  override readonly name = 'DBusTimeoutError';
}

/** dbus-next emits 'error' on the bus but leaves it out of its typed event map. */
export function errorsOf(bus: MessageBus): EventEmitter {
  return bus as unknown as EventEmitter;
}

export function toSystemdError(operation: string, err: unknown): SystemdError {
  if (err instanceof SystemdError) return err;
  if (err instanceof DBusError) {
    return new SystemdError(operation, transientErrorNames.has(err.type), { cause: new DBusRemoteError(err.type, err.text || err.message) });
  }
  // Socket errors (ENOENT, ECONNREFUSED, EPIPE, ...), a lost connection and our deadlines can pass
  // with time; anything else (a marshalling error) is a bug and retrying will not help.
  const transient =
    err instanceof DBusDisconnectedError || err instanceof DBusTimeoutError || (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string');
  return new SystemdError(operation, transient, { cause: err });
}

/** The `a{sv}` reply of `Properties.GetAll`, read with type checks: every value arrives in a Variant, 64-bit ones as BigInt. */
export class PropertyBag {
  readonly #operation: string;
  readonly #values: Record<string, unknown>;

  constructor(operation: string, reply: unknown) {
    if (typeof reply !== 'object' || reply === null) throw malformed(operation, reply);
    this.#operation = operation;
    this.#values = reply as Record<string, unknown>;
  }

  string(key: string): string {
    const value = this.#get(key);
    if (typeof value !== 'string') throw malformed(this.#operation, { [key]: typeof value });
    return value;
  }

  /** u, i, t (BigInt) as a number: PIDs, exit statuses and µs timestamps fit in a double exactly. */
  number(key: string): number {
    const value = this.#get(key);
    if (typeof value === 'number') return value;
    if (typeof value === 'bigint') return Number(value);
    throw malformed(this.#operation, { [key]: typeof value });
  }

  #get(key: string): unknown {
    const wrapped = this.#values[key];
    if (wrapped === undefined) throw new SystemdError(this.#operation, false, { cause: new Error(`the reply has no property ${key}`) });
    return wrapped instanceof Variant ? (wrapped.value as unknown) : wrapped;
  }
}

export function parseChanges(operation: string, value: unknown): UnitFileChange[] {
  if (!Array.isArray(value)) throw malformed(operation, value);
  return value.map((change: unknown) => {
    if (!Array.isArray(change) || change.length !== 3 || !change.every((v) => typeof v === 'string')) throw malformed(operation, change);
    const [type, path, source] = change as [string, string, string];
    return { type, path, source };
  });
}

export function malformed(operation: string, value: unknown): SystemdError {
  return new SystemdError(operation, false, { cause: new Error(`unexpected reply ${JSON.stringify(value)}`) });
}
