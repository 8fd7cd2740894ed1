import { FleetError } from '@fleet/core';
import { parseBooleanWord } from '@fleet/core/model';

/** Environment variables, as `process.env`. */
export type Env = Readonly<Record<string, string | undefined>>;

/** `FLEETCTL_<FLAG>`: upper case, dashes turned into underscores (fleet's getFlagsFromEnv). */
export function envName(flag: string): string {
  return `FLEETCTL_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** The value of `--flag` from `FLEETCTL_<FLAG>`, or `undefined`. */
function envValue(env: Env, flag: string): string | undefined {
  return env[envName(flag)];
}

/**
 * A string flag's default from the environment. An empty variable counts as unset, as in fleet
 * (getFlagsFromEnv skips `""`).
 */
export function envString(env: Env, flag: string, fallback: string): string {
  const value = envValue(env, flag);
  return value === undefined || value === '' ? fallback : value;
}

/**
 * A boolean flag's default from the environment (`true/yes/1/on/t`, `false/no/0/off/f`, any case).
 * Throws a `FleetError` (`INVALID_CONFIG`) naming the variable for anything else.
 */
export function envBoolean(env: Env, flag: string, fallback: boolean): boolean {
  const value = envValue(env, flag);
  if (value === undefined || value.trim() === '') return fallback;
  const parsed = parseBooleanWord(value);
  if (parsed !== undefined) return parsed;
  throw new FleetError('INVALID_CONFIG', `invalid boolean ${JSON.stringify(value)} in ${envName(flag)}`);
}

/** A number flag's default from the environment. Throws a `FleetError` (`INVALID_CONFIG`) for a non-number. */
export function envNumber(env: Env, flag: string, fallback: number): number {
  const value = envValue(env, flag);
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new FleetError('INVALID_CONFIG', `invalid number ${JSON.stringify(value)} in ${envName(flag)}`);
  return n;
}
