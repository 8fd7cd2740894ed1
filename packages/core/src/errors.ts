/** Every code a {@link FleetError} can carry. Wire-visible: the API maps some of them to HTTP statuses. */
export type FleetErrorCode =
  | 'INVALID_UNIT_NAME'
  | 'INVALID_UNIT_FILE'
  | 'INVALID_TARGET_STATE'
  | 'INVALID_CONFIG'
  | 'INVALID_REQUEST'
  | 'UNIT_EXISTS'
  | 'UNIT_NOT_FOUND'
  | 'NOT_LEADER'
  | 'REGISTRY_UNAVAILABLE'
  | 'REGISTRY_REFUSED'
  | 'CORRUPT_RECORD'
  | 'SYSTEMD_FAILED'
  | 'TIMEOUT'
  | 'API_ERROR';

/** Base class of every error this project throws on purpose. Expected outcomes are values, not errors. */
export class FleetError extends Error {
  override readonly name: string = 'FleetError';
  constructor(
    readonly code: FleetErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A unit name that breaks fleet's naming rules (characters, length, suffix, path separators). */
export class InvalidUnitNameError extends FleetError {
  override readonly name = 'InvalidUnitNameError';
  constructor(readonly unitName: string, reason: string) {
    super('INVALID_UNIT_NAME', `invalid unit name ${JSON.stringify(unitName)}: ${reason}`);
  }
}

/** A unit file that cannot be parsed; `line` is 1-based where known. */
export class InvalidUnitFileError extends FleetError {
  override readonly name = 'InvalidUnitFileError';
  constructor(reason: string, readonly line?: number) {
    super('INVALID_UNIT_FILE', line === undefined ? `invalid unit file: ${reason}` : `invalid unit file: line ${line}: ${reason}`);
  }
}

/** A configuration value of fleetd that is missing or malformed; `option` is fleet's option name. */
export class InvalidConfigError extends FleetError {
  override readonly name = 'InvalidConfigError';
  constructor(readonly option: string, reason: string) {
    super('INVALID_CONFIG', `invalid value for ${option}: ${reason}`);
  }
}

/** etcd could not be reached or answered with a transient failure; the operation may be retried. */
export class RegistryUnavailableError extends FleetError {
  override readonly name = 'RegistryUnavailableError';
  constructor(readonly operation: string, options?: { cause?: unknown }) {
    super('REGISTRY_UNAVAILABLE', `registry unavailable during ${operation}${causeText(options?.cause)}`, options);
  }
}

/** A stored record that does not decode; the registry skips it and says which key. */
export class CorruptRecordError extends FleetError {
  override readonly name = 'CorruptRecordError';
  constructor(readonly key: string, reason: string) {
    super('CORRUPT_RECORD', `corrupt record at ${key}: ${reason}`);
  }
}

/** A systemd call failed; `transient` is true for bus disconnects and timeouts. */
export class SystemdError extends FleetError {
  override readonly name = 'SystemdError';
  constructor(readonly operation: string, readonly transient: boolean, options?: { cause?: unknown }) {
    super('SYSTEMD_FAILED', `systemd ${operation} failed${causeText(options?.cause)}`, options);
  }
}

function causeText(cause: unknown): string {
  if (cause instanceof Error) return `: ${cause.message}`;
  return cause === undefined ? '' : `: ${String(cause)}`;
}

/** Exhaustiveness check for discriminated unions. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}
