import { FleetError } from '@fleet/engine';
import type { Clock } from '@fleet/engine';
import type { Argv } from 'yargs';
import type { FleetApiClient } from '../api-client.js';
import { DeprecatedFeatureError } from '../cli-errors.js';
import { envBoolean, envNumber } from '../env.js';
import type { Env } from '../env.js';
import { lastNumber, lastString } from '../global-flags.js';
import type { GlobalArgs } from '../global-flags.js';
import type { Interrupts } from '../interrupts.js';
import { outputFormats } from '../output.js';
import type { ListingOptions, Output, OutputFormat } from '../output.js';
import type { ReadTextFile } from '../unit-source.js';

export { lastNumber, lastString } from '../global-flags.js';
export type { GlobalArgs } from '../global-flags.js';

/** What every command needs. Built once per invocation by `buildCli`. */
export interface CommandDeps {
  readonly output: Output;
  readonly clock: Clock;
  readonly env: Env;
  readonly readFile: ReadTextFile;
  /** Ctrl-C, for commands that end cleanly on it (`journal -f`). */
  readonly interrupts: Interrupts;
  /**
   * The API client for the global flags of this invocation. Rejects with a `FleetError`
   * (`INVALID_CONFIG`) for flags that cannot reach the API (`--driver=etcd`, `--tunnel`, an
   * invalid endpoint or timeout, unreadable TLS files).
   */
  client(args: GlobalArgs): Promise<FleetApiClient>;
}

/** `--block-attempts` and `--no-block`. */
export interface BlockArgs {
  'block-attempts': number;
  'no-block': boolean;
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

/** Adds `--replace` (submit, load, start). */
export function withReplaceFlag<T>(y: Argv<T>): Argv<T & ReplaceArgs> {
  return y.option('replace', {
    type: 'boolean',
    default: false,
    describe: 'Replace units in the registry whose local unit file differs (keeping their desired state)',
  }) as Argv<T & ReplaceArgs>;
}

/** `--sign`: fleet's deprecated unit signing, refused with exit code 2. */
export interface SignArgs {
  sign: boolean;
}

/** Adds fleet's deprecated `--sign` (submit, load, start). See {@link refuseSign}. */
export function withSignFlag<T>(y: Argv<T>): Argv<T & SignArgs> {
  return y.option('sign', { type: 'boolean', default: false, describe: 'DEPRECATED - this option cannot be used' }) as Argv<T & SignArgs>;
}

/**
 * Throws a {@link DeprecatedFeatureError} (exit code 2) when `--sign` is set, before anything
 * else happens, as fleet does.
 */
export function refuseSign(args: SignArgs): void {
  if (args.sign) {
    throw new DeprecatedFeatureError('WARNING: --sign is deprecated: the signed/verified units feature is DEPRECATED and cannot be used.');
  }
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

/** The parsed listing flags as `renderListing` takes them. */
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
