import { FleetError } from '@fleet/core';

/**
 * What is wrong with a command line, for how it is reported: fleet's (cobra's) `command` (an
 * unknown command word) and `flag` (what pflag refuses), or ours (`other`: an unsupported command,
 * a missing or extra argument yargs refuses).
 */
export type UsageKind = 'command' | 'flag' | 'other';

/**
 * The command line itself is wrong. `run` reports it as fleet's fleetctl does (see its doc) and
 * exits 1; `message` is cobra's or pflag's own for the kinds fleet has.
 */
export class UsageError extends FleetError {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly kind: UsageKind = 'other',
  ) {
    super('INVALID_REQUEST', message);
  }
}

/**
 * A feature fleet removed and refuses with exit code 2 (`verify`). fleetctl prints the message as
 * it is (fleet's own lines) and exits with {@link exitCode}.
 */
export class DeprecatedFeatureError extends FleetError {
  override readonly name = 'DeprecatedFeatureError';
  readonly exitCode = 2;
  constructor(message: string) {
    super('INVALID_REQUEST', message);
  }
}

/** fleet's lines for `verify` (cobra's deprecation notice, then fleet's warning). */
export const signedUnitsDeprecated =
  'Command "verify" is deprecated, DEPRECATED - No longer works\nWARNING: The signed/verified units feature is DEPRECATED and cannot be used.';
