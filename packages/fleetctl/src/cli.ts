import { FleetError } from '@fleet/engine';
import type { Clock } from '@fleet/engine';
import yargs from 'yargs';
import type { Argv } from 'yargs';
import type { FleetApiClient } from './api-client.js';
import { catCommand } from './commands/cat.js';
import { envBoolean, envNumber, envValue, lastNumber, lastString } from './commands/context.js';
import type { CommandDeps, Env, GlobalArgs } from './commands/context.js';
import { destroyCommand } from './commands/destroy.js';
import { listMachinesCommand } from './commands/list-machines.js';
import { listUnitFilesCommand } from './commands/list-unit-files.js';
import { listUnitsCommand } from './commands/list-units.js';
import { loadCommand } from './commands/load.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { stopCommand } from './commands/stop.js';
import { submitCommand } from './commands/submit.js';
import { unloadCommand } from './commands/unload.js';
import { versionCommand, versionLine } from './commands/version.js';
import type { Output } from './output.js';
import { readLocalFile } from './unit-source.js';
import type { ReadTextFile } from './unit-source.js';

/** fleet's default API endpoint: fleetd's socket-activated unix socket. */
export const defaultEndpoint = 'unix:///var/run/fleet.sock';

/** Everything fleetctl touches outside its own code; `bin/fleetctl.ts` wires the real ones. */
export interface CliDeps {
  readonly output: Output;
  /** The environment: `FLEETCTL_<FLAG>` variables set flag defaults (fleet's getFlagsFromEnv). */
  readonly env: Env;
  /** Drives the 250 ms polls of `--block-attempts`. */
  readonly clock: Clock;
  /**
   * Makes the API client for `--endpoint` and `--request-timeout`; `debug` receives one line per
   * request when `--debug` is on. May throw a `FleetError` for an unusable endpoint.
   */
  makeClient(endpoint: string, timeoutMs: number, debug?: (line: string) => void): FleetApiClient;
  /** Reads local unit files; defaults to the file system. */
  readonly readFile?: ReadTextFile;
}

/**
 * Builds fleetctl's command line: strict (unknown commands and flags are errors), one command per
 * module, global flags `--endpoint`, `--request-timeout`, `--debug` (defaults from `FLEETCTL_*`).
 * Command handlers throw on failure. Parse with {@link run}, which also maps errors to exit codes.
 */
export function buildCli(deps: CliDeps): Argv<GlobalArgs> {
  const { output, env } = deps;
  const commandDeps: CommandDeps = {
    output,
    env,
    clock: deps.clock,
    readFile: deps.readFile ?? readLocalFile,
    client: (args) => {
      const seconds = args['request-timeout'];
      if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
        throw new FleetError('INVALID_CONFIG', `--request-timeout must be a number of seconds > 0, got ${String(seconds)}`);
      }
      const debug = args.debug ? (line: string) => output.err(`DEBUG: ${line}\n`) : undefined;
      return deps.makeClient(args.endpoint, Math.round(seconds * 1000), debug);
    },
  };
  return yargs()
    .scriptName('fleetctl')
    .usage('$0 [global options] <command> [command options] [arguments...]')
    // `--no-block` and `--no-legend` are flags of their own. ('duplicate-arguments-array: false' would
    // also collapse variadic positionals such as `start a b c` to their last value.)
    .parserConfiguration({ 'boolean-negation': false })
    .locale('en')
    .option('endpoint', {
      type: 'string',
      coerce: lastString,
      global: true,
      default: envValue(env, 'endpoint') ?? defaultEndpoint,
      describe: 'fleet API endpoint: unix:///path/to/socket or http://host:port',
    })
    .option('request-timeout', {
      type: 'number',
      coerce: lastNumber,
      global: true,
      default: envNumber(env, 'request-timeout', 3),
      describe: 'Seconds to wait for each API request',
    })
    .option('debug', {
      type: 'boolean',
      global: true,
      default: envBoolean(env, 'debug', false),
      describe: 'Print API requests to stderr',
    })
    .command(submitCommand(commandDeps))
    .command(loadCommand(commandDeps))
    .command(startCommand(commandDeps))
    .command(stopCommand(commandDeps))
    .command(unloadCommand(commandDeps))
    .command(destroyCommand(commandDeps))
    .command(catCommand(commandDeps))
    .command(statusCommand(commandDeps))
    .command(listUnitsCommand(commandDeps))
    .command(listUnitFilesCommand(commandDeps))
    .command(listMachinesCommand(commandDeps))
    .command(versionCommand(commandDeps))
    .demandCommand(1, 'no command given (see fleetctl --help)')
    .epilogue('Every flag can also be set with FLEETCTL_<FLAG>, e.g. FLEETCTL_ENDPOINT=http://10.0.0.1:49153.')
    .strict()
    .version(versionLine)
    .alias('version', 'v')
    .help()
    .alias('help', 'h')
    .wrap(100)
    .exitProcess(false)
    .fail(false) as Argv<GlobalArgs>;
}

/**
 * Runs fleetctl with `argv` (the arguments after the program name). Resolves the exit code: 0 on
 * success, 1 on any failure, after writing one line `Error: <message>` to stderr. Never rejects.
 */
export async function run(argv: readonly string[], deps: CliDeps): Promise<number> {
  try {
    await buildCli(deps).parseAsync([...argv], {}, (err, _args, text) => {
      // Help and version text: yargs hands it over instead of printing it.
      if ((err === undefined || err === null) && text !== '') deps.output.out(`${text}\n`);
    });
    return 0;
  } catch (err) {
    deps.output.err(`Error: ${errorText(err)}\n`);
    return 1;
  }
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
