import { FleetError } from '@fleet/core';
import type { Clock } from '@fleet/core';
import yargs from 'yargs';
import type { Argv, CommandModule } from 'yargs';
import type { ClientConfig, FleetApiClient } from './api-client.js';
import { clientConfig } from './client-config.js';
import { DeprecatedFeatureError, UsageError } from './cli-errors.js';
import { expandCommandWord, flagSetOf, resolveCommandLine } from './command-line.js';
import type { CommandLineSpec, FlagSet, OptionsLike } from './command-line.js';
import { catCommand } from './commands/cat.js';
import { completionCommand } from './commands/completion.js';
import type { CommandDeps } from './commands/context.js';
import { destroyCommand } from './commands/destroy.js';
import { helpCommand } from './commands/help.js';
import { journalCommand } from './commands/journal.js';
import { listMachinesCommand } from './commands/list-machines.js';
import { listUnitFilesCommand } from './commands/list-unit-files.js';
import { listUnitsCommand } from './commands/list-units.js';
import { loadCommand } from './commands/load.js';
import { restartCommand } from './commands/restart.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { stopCommand } from './commands/stop.js';
import { submitCommand } from './commands/submit.js';
import { unloadCommand } from './commands/unload.js';
import { verifyCommand } from './commands/verify.js';
import { fleetctlVersion, versionCommand } from './commands/version.js';
import { completionRequestFlag } from './completion-scripts.js';
import { completionTarget, isZsh, unitCandidates } from './completion.js';
import { CommandFailed, errorText } from './fleet-text.js';
import type { Env } from './env.js';
import { globalFlagsGroup, withGlobalFlags } from './global-flags.js';
import type { GlobalArgs } from './global-flags.js';
import { noInterrupts } from './interrupts.js';
import type { Interrupts } from './interrupts.js';
import type { Output } from './output.js';
import { readLocalFile } from './unit-source.js';
import type { ReadTextFile } from './unit-source.js';

export { defaultEndpoint } from './global-flags.js';

/** Everything fleetctl touches outside its own code; `bin/fleetctl.ts` wires the real ones. */
export interface CliDeps {
  readonly output: Output;
  /** The environment: `FLEETCTL_<FLAG>` variables set flag defaults (fleet's getFlagsFromEnv). */
  readonly env: Env;
  /** Drives the 250 ms polls of `--block-attempts`. */
  readonly clock: Clock;
  /**
   * Makes the API client from the global flags (endpoint, timeout, TLS material already read);
   * `config.debug` receives one line per request when `--debug` is on. May throw a `FleetError`
   * for an unusable endpoint.
   */
  makeClient(config: ClientConfig): FleetApiClient;
  /** Reads local unit files and TLS files; defaults to the file system. */
  readonly readFile?: ReadTextFile;
  /**
   * Ctrl-C, for commands that end cleanly on it (`journal -f` exits 0); `bin/fleetctl.ts` wires
   * SIGINT. Without it, nothing is ever interrupted.
   */
  readonly interrupts?: Interrupts;
  /**
   * stderr is a terminal (`bin/fleetctl.ts` asks the process). Only then may commands add to
   * fleet's output (progress while waiting, the reason a wait failed): a script reading fleetctl's
   * output gets exactly what fleet's fleetctl prints.
   */
  readonly interactive?: boolean;
}

/** fleet's commands this fleetctl does not have, and why (an error rather than "unknown command"). */
const unsupportedCommands: Readonly<Record<string, string>> = {
  ssh: 'fleetctl does not use SSH; ssh to the machine that list-units shows instead',
  'fd-forward': 'it only serves --tunnel, which is not supported',
};

/** How help lists them (fleet's summaries): they are refused before they could run. */
const unsupportedSummaries: Readonly<Record<keyof typeof unsupportedCommands & string, string>> = {
  ssh: 'Open interactive shell on a machine in the cluster (not supported: no SSH)',
  'fd-forward': 'Proxy stdin and stdout to a unix domain socket (not supported: no --tunnel)',
};

/** One command: its name, how to add it to a parser, and how to list its flags. */
interface CommandEntry {
  readonly name: string;
  register(y: Argv<GlobalArgs>): Argv<GlobalArgs>;
  /** `y` with the command's options added (for {@link CommandLineSpec.flagsOf}). */
  withOptions(y: Argv<GlobalArgs>): Argv<unknown>;
}

function entry<U>(module: CommandModule<GlobalArgs, U>): CommandEntry {
  const command = Array.isArray(module.command) ? module.command[0] : module.command;
  const name = String(command ?? '').split(' ')[0] ?? '';
  return {
    name,
    register: (y) => y.command(module),
    withOptions: (y) => {
      const built = typeof module.builder === 'function' ? module.builder(y) : y;
      return 'then' in built ? y : built;
    },
  };
}

function commandEntries(deps: CommandDeps): CommandEntry[] {
  return [
    entry(submitCommand(deps)),
    entry(loadCommand(deps)),
    entry(startCommand(deps)),
    entry(stopCommand(deps)),
    entry(restartCommand(deps)),
    entry(unloadCommand(deps)),
    entry(destroyCommand(deps)),
    entry(catCommand(deps)),
    entry(statusCommand(deps)),
    entry(journalCommand(deps)),
    entry(listUnitsCommand(deps)),
    entry(listUnitFilesCommand(deps)),
    entry(listMachinesCommand(deps)),
    entry(versionCommand(deps)),
    entry(helpCommand()),
    entry(completionCommand(deps)),
    entry(verifyCommand()),
  ];
}

// yargs' getOptions() is public at runtime but missing from @types/yargs.
function optionsOf(y: Argv<unknown>): OptionsLike {
  return (y as unknown as { getOptions(): OptionsLike }).getOptions();
}

// yargs' own help flag (fleet also has `--h`, and `-h` works), and fleet's `--version`.
const helpFlags = ['help', 'h', 'version'];

/** Commands help lists but completion does not offer: deprecated, or refused when run. */
const notCompleted = new Set(['verify', ...Object.keys(unsupportedCommands)]);

// cobra never suggests its help command, nor deprecated ones.
const notSuggested = new Set(['help', 'verify']);

function flags(y: Argv<unknown>): FlagSet {
  const set = flagSetOf(optionsOf(y));
  return { ...set, boolean: new Set([...set.boolean, ...helpFlags]) };
}

/** `globalFlags`: those of a parser that has only the global flags yet (each parser costs start-up time). */
function commandLineSpec(entries: readonly CommandEntry[], env: Env, globalFlags = flags(withGlobalFlags(yargs(), env))): CommandLineSpec {
  const commands = entries.map((e) => e.name);
  return {
    commands,
    unsupported: unsupportedCommands,
    suggestable: [...commands, ...Object.keys(unsupportedCommands)].filter((c) => !notSuggested.has(c)),
    globalFlags,
    flagsOf: (command) => {
      const found = entries.find((e) => e.name === command);
      const base = withGlobalFlags(yargs(), env);
      return flags(found === undefined ? base : found.withOptions(base));
    },
  };
}

/**
 * The command names and flags fleetctl's command line offers (for {@link resolveCommandLine}),
 * with flag defaults from `env`.
 */
export function createCommandLineSpec(env: Env): CommandLineSpec {
  return commandLineSpec(commandEntries(commandDeps(sandboxed({ output: silent, env, clock: noClock, makeClient: noClient }))), env);
}

const silent: Output = { out: () => undefined, err: () => undefined };

const noClock: Clock = {
  now: () => 0,
  sleep: async () => undefined,
};

function noClient(): never {
  throw new FleetError('INVALID_REQUEST', 'no API client here');
}

/** `deps` that print nothing, reach no API and are never interrupted. */
function sandboxed(deps: CliDeps): CliDeps {
  return { ...deps, output: silent, makeClient: noClient, interrupts: noInterrupts };
}

/** What the commands get from `deps`: the API client is made from each command's global flags. */
function commandDeps(deps: CliDeps): CommandDeps {
  const { output, env } = deps;
  const readFile = deps.readFile ?? readLocalFile;
  const debugLine = (args: GlobalArgs): ((line: string) => void) | undefined =>
    args.debug ? (line: string) => output.err(`DEBUG: ${line}\n`) : undefined;
  return {
    output,
    env,
    clock: deps.clock,
    readFile,
    interrupts: deps.interrupts ?? noInterrupts,
    interactive: deps.interactive === true,
    client: async (args) => deps.makeClient(await clientConfig(args, readFile, debugLine(args))),
  };
}

/** The parts of one fleetctl invocation. */
interface Cli {
  readonly parser: Argv<GlobalArgs>;
  readonly spec: CommandLineSpec;
}

/**
 * Builds fleetctl's parser: strict, one command per module, fleet's global flags (defaults from
 * `FLEETCTL_*`, see `global-flags.ts`). `processArgs` is what yargs' completion re-parses;
 * `onHandler` runs once argv passed validation, just before a command's handler.
 */
function createCli(deps: CliDeps, processArgs: readonly string[] = [], onHandler: () => void = () => undefined): Cli {
  const { env } = deps;
  const entries = commandEntries(commandDeps(deps));
  let parser: Argv<GlobalArgs> = withGlobalFlags(
    yargs([...processArgs])
      .scriptName('fleetctl')
      // fleet's help names the version in its own section, which scripts and bug reports quote.
      .usage(`$0 [global flags] <command> [flags] [arguments...]\n\nVersion:\n\t${fleetctlVersion}`)
      // `--no-block` and `--no-legend` are flags of their own. ('duplicate-arguments-array: false'
      // would also collapse variadic positionals such as `start a b c` to their last value.)
      .parserConfiguration({ 'boolean-negation': false })
      .locale('en'),
    env,
  );
  const globalFlags = flags(parser);
  for (const e of entries) parser = e.register(parser);
  for (const [name, summary] of Object.entries(unsupportedSummaries)) {
    parser = parser.command(name, summary, (y) => y, () => {
      throw new UsageError(`"${name}" is not supported: ${unsupportedCommands[name] ?? ''}`);
    });
  }
  parser = parser
    .middleware(onHandler)
    .epilogue(
      'Every global flag can also be set as FLEETCTL_<FLAG> (upper case, dashes as underscores), ' +
        'e.g. FLEETCTL_ENDPOINT=http://10.0.0.1:49153. A command may be abbreviated to a unique prefix (list-m).',
    )
    .strict()
    // fleet's `--version` only works as the first argument (see resolveCommandLine); elsewhere
    // it is a flag that does nothing.
    .version(false)
    .option('version', { type: 'boolean', global: true, describe: 'Print the version and exit' })
    .help('help', 'Print usage information and exit')
    .alias('help', 'h')
    .group(['help', 'version'], globalFlagsGroup)
    .wrap(100)
    .exitProcess(false)
    .fail(false) as Argv<GlobalArgs>;
  skipHelpCache(parser);
  return { parser, spec: commandLineSpec(entries, env, globalFlags) };
}

/**
 * yargs renders the whole help text as soon as a command's handler has started (command.js,
 * `cacheHelpMessage`), for a help it would print on a later failure. fleetctl never prints help
 * then (`.fail(false)`: handlers throw and {@link report} words it), and that render is about a
 * sixth of a short command's CPU time, so it is skipped. `getInternalMethods` is yargs' own
 * (untyped); without it nothing changes.
 */
function skipHelpCache(parser: Argv<GlobalArgs>): void {
  type Internals = { getUsageInstance(): { cacheHelpMessage(): void } };
  const internals = (parser as unknown as { getInternalMethods?: () => Internals }).getInternalMethods;
  if (typeof internals !== 'function') return;
  internals.call(parser).getUsageInstance().cacheHelpMessage = () => undefined;
}

/**
 * Builds fleetctl's command line parser (see {@link run}, which also resolves abbreviated
 * commands and `help`, and maps errors to exit codes). Command handlers throw on failure.
 */
export function buildCli(deps: CliDeps): Argv<GlobalArgs> {
  return createCli(deps).parser;
}

/**
 * Runs fleetctl with `argv` (the arguments after the program name). Resolves the exit code, never
 * rejects. What it prints and its exit codes are fleet's fleetctl's (see each command), with these
 * rules for what goes wrong:
 *
 * - a command that fails as fleet's does ({@link CommandFailed}) prints fleet's lines as they are
 *   and exits with fleet's code;
 * - a command line cobra refuses prints cobra's lines on stderr (`Error: unknown command "x" for
 *   "fleetctl"`, with its suggestions and `Run 'fleetctl --help' for usage.`; `Error: unknown
 *   flag: --x`, a blank line), then fleet's `cannot execute cmdFleet: <same>`, and exits 1 (fleet
 *   exits 0 and also prints the command's usage on stdout: left out here, a script must not take
 *   it for a result);
 * - what only this fleetctl refuses (an unsupported command, an argument yargs refuses) prints
 *   `Error: <message>` and `Run 'fleetctl help' for usage.`, exit 1;
 * - anything else unexpected prints `Error: <message>`, exit 1;
 * - `verify` prints fleet's deprecation lines and exits 2.
 *
 * `--get-yargs-completions WORD...` (what the completion scripts call) prints completion
 * candidates instead; see `completion-scripts.ts`.
 */
export async function run(argv: readonly string[], deps: CliDeps): Promise<number> {
  if (argv.includes(completionRequestFlag)) return complete(argv, deps);
  let started = false;
  try {
    const cli = createCli(deps, [], () => {
      started = true;
    });
    const { args, notice } = resolveCommandLine(argv, cli.spec);
    // fleet ends this notice without a line break; on a terminal the help would stick to it.
    if (notice !== undefined) deps.output.err(deps.interactive === true ? `${notice}\n` : notice);
    await cli.parser.parseAsync(args, {}, (err, _args, text) => {
      // Help and version text: yargs hands it over instead of printing it.
      if ((err === undefined || err === null) && text !== '') deps.output.out(`${text}\n`);
    });
    return 0;
  } catch (err) {
    return report(err, started, deps.output);
  }
}

function report(err: unknown, handlerStarted: boolean, output: Output): number {
  if (err instanceof CommandFailed) {
    for (const line of err.lines) output.err(`${line}\n`);
    return err.exitCode;
  }
  if (err instanceof DeprecatedFeatureError) {
    output.err(`${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof UsageError && err.kind !== 'other') {
    const message = err.message;
    const hint = err.kind === 'command' ? "Run 'fleetctl --help' for usage.\n" : '\n';
    output.err(`Error: ${message}\n${hint}cannot execute cmdFleet: ${message}\n`);
    return 1;
  }
  // Whatever is not ours and happens before a handler runs is yargs refusing the command line.
  if (err instanceof UsageError || (!handlerStarted && !(err instanceof FleetError))) {
    output.err(`Error: ${usageText(errorText(err))}\nRun 'fleetctl help' for usage.\n`);
    return 1;
  }
  output.err(`Error: ${errorText(err)}\n`);
  return 1;
}

// Unknown flags are caught before yargs (resolveCommandLine); what yargs still calls unknown are
// extra arguments.
function usageText(text: string): string {
  const unknown = /^Unknown arguments?: (.*)$/.exec(text);
  if (unknown === null) return text;
  const list = (unknown[1] ?? '').split(', ');
  return `unexpected argument${list.length > 1 ? 's' : ''}: ${list.join(', ')}`;
}

/**
 * Prints the completion candidates for `WORD...` after `--get-yargs-completions` (the program name
 * first, the word being completed last). Unit arguments complete from the API (one request);
 * everything else comes from yargs' own completion of our options, synchronous and without the
 * API: yargs runs the command in "completion mode" and skips its handler only because the
 * candidates are already printed, so its CLI gets an API client factory that refuses and an output
 * that drops everything, in case a handler ever ran.
 */
async function complete(argv: readonly string[], deps: CliDeps): Promise<number> {
  try {
    const typed = argv.slice(argv.indexOf(completionRequestFlag) + 1);
    const spec = createCommandLineSpec(deps.env);
    const words = expandCommandWord(typed, spec);
    const target = completionTarget(words, spec);
    if (target.kind === 'unit') {
      // An unreachable API leaves the word to the shell's file completion.
      const names = await unitNames(words.slice(1), deps).catch(() => []);
      const candidates = unitCandidates(names, target.prefix, isZsh(deps.env));
      if (candidates.length > 0) deps.output.out(`${candidates.join('\n')}\n`);
      return 0;
    }
    // A command word (or help topic): all commands are candidates, the shell keeps those with its prefix.
    const asked = target.kind === 'command' ? [words[0] ?? 'fleetctl', ''] : words;
    const processArgs = [completionRequestFlag, ...asked];
    let text = '';
    await createCli(sandboxed(deps), processArgs).parser.parseAsync(processArgs, {}, (_err, _args, out) => {
      text = out;
    });
    // Help lists fleet's deprecated and SSH-only commands; completion offers only what runs.
    if (target.kind === 'command') text = text.split('\n').filter((line) => !notCompleted.has(line.split(':')[0] ?? '')).join('\n');
    if (text !== '') deps.output.out(`${text}\n`);
    return 0;
  } catch (err) {
    deps.output.err(`Error: ${errorText(err)}\n`);
    return 1;
  }
}

/** The registered units' names, reaching the API with the global flags among `args`. Rejects like the client. */
async function unitNames(args: readonly string[], deps: CliDeps): Promise<string[]> {
  // Global flags only: no commands, no validation, no help or version output.
  const parsed = withGlobalFlags(yargs(), deps.env).parserConfiguration({ 'boolean-negation': false }).help(false).version(false).parseSync([...args]);
  const config = await clientConfig(parsed as unknown as GlobalArgs, deps.readFile ?? readLocalFile);
  return (await deps.makeClient(config).listUnits()).map((u) => u.name);
}

