import { FleetError } from '@fleet/engine';

/**
 * The command line itself is wrong: an unknown or ambiguous command, an unknown flag, a missing or
 * extra argument. fleetctl prints `Error: <message>` and a hint to run `fleetctl help`, and exits 1.
 */
export class UsageError extends FleetError {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super('INVALID_REQUEST', message);
  }
}

/**
 * A feature fleet removed and refuses with exit code 2 (`verify`, `--sign`). fleetctl prints the
 * message as it is (fleet's own `WARNING: ...` line) and exits with {@link exitCode}.
 */
export class DeprecatedFeatureError extends FleetError {
  override readonly name = 'DeprecatedFeatureError';
  readonly exitCode = 2;
  constructor(message: string) {
    super('INVALID_REQUEST', message);
  }
}

/** fleet's message for `verify` (fleet:fleetctl/verify.go). */
export const signedUnitsDeprecated = 'WARNING: The signed/verified units feature is DEPRECATED and cannot be used.';
