import { FleetError } from '@fleet/engine';
import type { Clock } from '@fleet/engine';
import type { Argv } from 'yargs';
import type { FleetApiClient } from '../api-client.js';
import { outputFormats } from '../output.js';
import type { ListingOptions, Output, OutputFormat } from '../output.js';
import type { ReadTextFile } from '../unit-source.js';

/** Environment variables, as `process.env`. */
export type Env = Readonly<Record<string, string | undefined>>;

/** fleetctl's global flags, after parsing. */
export interface GlobalArgs {
  endpoint: string;
  'request-timeout': number;
  debug: boolean;
}

/** What every command needs. Built once per invocation by `buildCli`. */
export interface CommandDeps {
  readonly output: Output;
  readonly clock: Clock;
  readonly env: Env;
  readonly readFile: ReadTextFile;
  /** The API client for the global flags of this invocation. Throws for an invalid endpoint or timeout. */
  client(args: GlobalArgs): FleetApiClient;
}

/** The value of `--flag` from `FLEETCTL_<FLAG>` (fleet's getFlagsFromEnv), or `undefined`. */
export function envValue(env: Env, flag: string): string | undefined {
  return env[`FLEETCTL_${flag.toUpperCase().replace(/-/g, '_')}`];
}

/** A boolean flag's default from the environment (`true/yes/1/on/t`, `false/no/0/off/f`). */
export function envBoolean(env: Env, flag: string, fallback: boolean): boolean {
  const value = envValue(env, flag);
  if (value === undefined || value.trim() === '') return fallback;
  const v = value.trim().toLowerCase();
  if (['true', 'yes', '1', 'on', 't'].includes(v)) return true;
  if (['false', 'no', '0', 'off', 'f'].includes(v)) return false;
  throw new FleetError('INVALID_CONFIG', `invalid boolean ${JSON.stringify(value)} in ${envName(flag)}`);
}

/** A number flag's default from the environment. */
export function envNumber(env: Env, flag: string, fallback: number): number {
  const value = envValue(env, flag);
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new FleetError('INVALID_CONFIG', `invalid number ${JSON.stringify(value)} in ${envName(flag)}`);
  return n;
}

function envName(flag: string): string {
  return `FLEETCTL_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** `--block-attempts` and `--no-block`. */
export interface BlockArgs {
  'block-attempts': number;
  'no-block': boolean;
}

/** A repeated scalar flag takes its last value, as in fleet (pflag). yargs would make it an array. */
export function lastString(value: string | string[]): string {
  return Array.isArray(value) ? (value[value.length - 1] ?? '') : value;
}

/** {@link lastString} for numeric flags. */
export function lastNumber(value: number | number[]): number {
  return Array.isArray(value) ? (value[value.length - 1] ?? Number.NaN) : value;
}

/** Adds fleet's blocking flags to a command. */
export function withBlockFlags<T>(y: Argv<T>, env: Env, verb: string): Argv<T & BlockArgs> {
  return y
    .option('block-attempts', {
      type: 'number',
      coerce: lastNumber,
      default: envNumber(env, 'block-attempts', 0),
      describe: `Wait until the units are ${verb}, polling up to N times (every 250 ms) before giving up; 0 waits forever. Does not apply to global units.`,
    })
    .option('no-block', {
      type: 'boolean',
      default: envBoolean(env, 'no-block', false),
      describe: `Do not wait until the units are ${verb} before exiting`,
    }) as Argv<T & BlockArgs>;
}

/** fleet's getBlockAttempts: `-1` = do not block, `0` = forever, `N` = at most N polls. */
export function blockAttempts(args: BlockArgs): number {
  if (args['no-block']) return -1;
  const n = args['block-attempts'];
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new FleetError('INVALID_REQUEST', `--block-attempts must be a whole number >= 0, got ${String(n)}`);
  }
  return n;
}

/** `--replace`. */
export interface ReplaceArgs {
  replace: boolean;
}

export function withReplaceFlag<T>(y: Argv<T>): Argv<T & ReplaceArgs> {
  return y.option('replace', {
    type: 'boolean',
    default: false,
    describe: 'Replace units in the registry whose local unit file differs (keeping their desired state)',
  }) as Argv<T & ReplaceArgs>;
}

/** The flags of the list-* commands. */
export interface ListingArgs {
  fields: string;
  full: boolean;
  'no-legend': boolean;
  output: string;
}

/** Adds `--fields`, `--full`/`-l`, `--no-legend` and `--output`/`-o` to a listing command. */
export function withListingFlags<T>(y: Argv<T>, defaultFields: string, validFields: readonly string[]): Argv<T & ListingArgs> {
  return y
    .option('fields', {
      type: 'string',
      coerce: lastString,
      default: defaultFields,
      describe: `Columns to print. Valid fields are ${JSON.stringify([...validFields].sort().join(','))}`,
    })
    .option('full', { alias: 'l', type: 'boolean', default: false, describe: 'Do not ellipsize fields on output' })
    .option('no-legend', { type: 'boolean', default: false, describe: 'Do not print a legend (column headers)' })
    .option('output', { alias: 'o', type: 'string', coerce: lastString, choices: outputFormats, default: 'table', describe: 'Output format' }) as Argv<
    T & ListingArgs
  >;
}

export function listingOptions(args: ListingArgs): ListingOptions {
  return { fields: args.fields, full: args.full, noLegend: args['no-legend'], format: args.output as OutputFormat };
}

/** The `<units..>` positional: unit files or names (`hello`, `./units/hello.service`, `web@1`). */
export const unitsPositional = {
  type: 'string',
  array: true,
  demandOption: true,
  describe: 'Unit files or unit names; ".service" is added to names without a unit type',
} as const;

/** The positional unit arguments, as strings (yargs may hand numbers over: `fleetctl start 1`). */
export function unitArgs(args: { units?: unknown }): string[] {
  const list = Array.isArray(args.units) ? args.units : [];
  return list.map((u) => String(u));
}
