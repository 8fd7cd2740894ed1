import type { Clock } from '@fleet/core';
import type { Argv } from 'yargs';
import type { FleetApiClient } from '../api-client.js';
import { envBoolean, envNumber } from '../env.js';
import type { Env } from '../env.js';
import { lastNumber, lastString } from '../global-flags.js';
import type { GlobalArgs } from '../global-flags.js';
import { CommandFailed } from '../fleet-text.js';
import type { Interrupts } from '../interrupts.js';
import { outputFormats, parseFields } from '../output.js';
import type { FieldTable, ListingOptions, Output, OutputFormat } from '../output.js';
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
   * stderr is a terminal: commands may add to fleet's output there (progress while waiting, why
   * a wait failed). Off for scripts, which get exactly fleet's output.
   */
  readonly interactive: boolean;
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

/** The help of a command's blocking flags, in fleet's words. */
export interface BlockFlagsHelp {
  /** `--block-attempts`: "Wait until the units are stopped". */
  readonly until: string;
  /** `--no-block`: "Do not wait until the units have stopped before exiting". */
  readonly noBlock: string;
  /** fleet adds "Does not apply to global units." (`unload` does not). */
  readonly globalNote?: boolean;
}

/** The help of fleet's blocking flags for a command whose units reach `state` (`stopped`, `launched`...). */
export function blockHelp(state: string, opts: { jobs?: boolean; globalNote?: boolean; noBlock?: string } = {}): BlockFlagsHelp {
  const what = opts.jobs === true ? 'jobs' : 'units';
  return { until: `Wait until the ${what} are ${state}`, noBlock: opts.noBlock ?? `Do not wait until the ${what} have ${state} before exiting`, globalNote: opts.globalNote ?? true };
}

/** Adds fleet's blocking flags to a command (fleet's `restart` has no `--no-block`; ours has). */
export function withBlockFlags<T>(y: Argv<T>, env: Env, help: BlockFlagsHelp): Argv<T & BlockArgs> {
  const global = help.globalNote === false ? '' : ' Does not apply to global units.';
  const withAttempts = y.option('block-attempts', {
    type: 'number',
    coerce: lastNumber,
    default: envNumber(env, 'block-attempts', 0),
    describe: `${help.until}, performing up to N attempts before giving up. A value of 0 indicates no limit.${global}`,
  });
  return withAttempts.option('no-block', {
    type: 'boolean',
    default: envBoolean(env, 'no-block', false),
    describe: `${help.noBlock}.${help.globalNote === false ? '' : ' Always the case for global units.'}`,
  }) as Argv<T & BlockArgs>;
}

/**
 * fleet's getBlockAttempts: `-1` = do not block (`--no-block`), `0` = forever (also for a
 * `--block-attempts` of 0 or less), `N` = at most N polls.
 */
export function blockAttempts(args: BlockArgs): number {
  if (args['no-block']) return -1;
  return rawAttempts(args) > 0 ? rawAttempts(args) : 0;
}

/** `--block-attempts` as given (a whole number; fleet's flag is an int), whatever `--no-block` says. */
export function rawAttempts(args: Pick<BlockArgs, 'block-attempts'>): number {
  const n = args['block-attempts'];
  return typeof n === 'number' && Number.isFinite(n) ? Math.trunc(n) : 0;
}

/** `--replace`. */
export interface ReplaceArgs {
  replace: boolean;
}

/** fleet's help of `--replace`, per command. */
const replaceHelp = {
  submit: 'Replace the old submitted units in the cluster with new versions.',
  load: 'Replace the old scheduled units in the cluster with new versions.',
  start: 'Replace the already started units in the cluster with new versions.',
} as const;

/** Adds `--replace` (submit, load, start). */
export function withReplaceFlag<T>(y: Argv<T>, command: keyof typeof replaceHelp): Argv<T & ReplaceArgs> {
  return y.option('replace', { type: 'boolean', default: false, describe: replaceHelp[command] }) as Argv<T & ReplaceArgs>;
}

/**
 * Adds fleet's deprecated `--sign` (submit, load, start): accepted and ignored, as fleet's
 * fleetctl does (its check runs before the flag is parsed, so it never refuses).
 */
export function withSignFlag<T>(y: Argv<T>): Argv<T> {
  return y.option('sign', { type: 'boolean', default: false, describe: 'DEPRECATED - this option cannot be used' }) as Argv<T>;
}

/** The flags of the list-* commands. */
export interface ListingArgs {
  fields: string;
  full: boolean;
  'no-legend': boolean;
  output: string;
}

/**
 * Adds `--fields`, `--full`/`-l`, `--no-legend` and `--output`/`-o` (ours) to a listing command;
 * `what` and `validFields` complete fleet's help of `--fields` ("Columns to print for each Unit").
 */
export function withListingFlags<T>(y: Argv<T>, defaultFields: string, what: string, validFields: string): Argv<T & ListingArgs> {
  return y
    .option('fields', {
      type: 'string',
      coerce: lastString,
      default: defaultFields,
      describe: `Columns to print for each ${what}. Valid fields are ${JSON.stringify(validFields)}`,
    })
    .option('full', { alias: 'l', type: 'boolean', default: false, describe: 'Do not ellipsize fields on output' })
    .option('no-legend', { type: 'boolean', default: false, describe: 'Do not print a legend (column headers)' })
    .option('output', { alias: 'o', type: 'string', coerce: lastString, choices: outputFormats, default: 'table', describe: 'Output format (ours: fleet only prints tables)' }) as Argv<
    T & ListingArgs
  >;
}

/**
 * The fields of `--fields` (see `parseFields`), or fleet's failure: its message alone on stderr,
 * exit code 1; on a terminal, the valid fields follow.
 */
export function fieldsOrFail<R>(deps: CommandDeps, spec: string, table: FieldTable<R>, onValid?: (name: string) => void): string[] {
  try {
    return parseFields(spec, table, onValid);
  } catch (err) {
    const valid = deps.interactive ? [`Valid fields are ${Object.keys(table).sort().join(',')}`] : [];
    throw new CommandFailed([err instanceof Error ? err.message : String(err), ...valid], 1, { cause: err });
  }
}

/** The parsed listing flags as `renderListing` takes them. */
export function listingOptions(args: ListingArgs): ListingOptions {
  return { fields: args.fields, full: args.full, noLegend: args['no-legend'], format: args.output as OutputFormat };
}

/**
 * The `[units..]` positional: unit files or names (`hello`, `./units/hello.service`, `web@1`).
 * Optional, as in fleet: each command says itself what it makes of none (`No units given`).
 */
export const unitsPositional = {
  type: 'string',
  array: true,
  describe: 'Unit files or unit names; ".service" is added to names without a unit type',
} as const;

/**
 * The API client for this invocation's global flags; when they cannot make one, fails as fleet
 * does: `Unable to initialize client: <why>`, exit code 1.
 */
export async function connect(deps: CommandDeps, args: GlobalArgs): Promise<FleetApiClient> {
  try {
    return await deps.client(args);
  } catch (err) {
    throw new CommandFailed([`Unable to initialize client: ${err instanceof Error ? err.message : String(err)}`], 1, { cause: err });
  }
}

/** The positional unit arguments, as strings (yargs may hand numbers over: `fleetctl start 1`). */
export function unitArgs(args: { units?: unknown }): string[] {
  const list = Array.isArray(args.units) ? args.units : [];
  return list.map((u) => String(u));
}
