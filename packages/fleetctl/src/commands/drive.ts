import type { CommandModule } from 'yargs';
import type { ApiUnit, FleetApiClient } from '../api-client.js';
import { CreateUnitsError, createUnits } from '../ensure-units.js';
import type { CreatedUnits, CreatingCommand } from '../ensure-units.js';
import { CommandFailed, goError } from '../fleet-text.js';
import { MachineDirectory } from '../machine-directory.js';
import { isGlobalUnit } from '../unit-info.js';
import { unitNameMangle } from '../unit-source.js';
import { fetchUnits, mapBounded, requestsInFlight } from '../unit-batch.js';
import { currentUnits, failureLines, waitForActive, waitForUnitStates } from '../wait.js';
import type { JobState, WaitContext } from '../wait.js';
import { blockAttempts, blockHelp, connect, rawAttempts, unitArgs, unitsPositional, withBlockFlags, withReplaceFlag, withSignFlag } from './context.js';
import type { BlockArgs, CommandDeps, GlobalArgs, ReplaceArgs } from './context.js';

/** What waiting needs, for one command: one machine list for all its lines. */
export function waitContext(deps: CommandDeps, client: FleetApiClient): WaitContext {
  return { client, machines: new MachineDirectory(client), output: deps.output, clock: deps.clock, interactive: deps.interactive };
}

/**
 * `No units given` on stderr, exit code 0: what fleet's unit commands do without arguments.
 * Returns whether there were none.
 */
export function noUnitsGiven(deps: CommandDeps, names: readonly string[]): boolean {
  if (names.length > 0) return false;
  deps.output.err('No units given\n');
  return true;
}

/**
 * `Units not found in registry` on stderr, exit code 0: what fleet's `stop`, `unload` and
 * `destroy` do when none of their units is registered. Returns whether none was.
 */
export function noUnitsFound(deps: CommandDeps, units: readonly unknown[]): boolean {
  if (units.length > 0) return false;
  deps.output.err('Units not found in registry\n');
  return true;
}

/**
 * fleet's `lazyCreateUnits` for a command, its failure as fleet prints it: `Error creating units:
 * <why>`, exit code 1. Resolves what was created (new units in `target` at once, when given).
 */
export async function createOrFail(
  ctx: WaitContext,
  deps: CommandDeps,
  names: readonly string[],
  command: CreatingCommand,
  replace: boolean,
  attempts: number,
  target?: 'loaded' | 'launched',
): Promise<CreatedUnits> {
  try {
    return await createUnits(names, { wait: ctx, readFile: deps.readFile, replace, command, attempts, ...(target === undefined ? {} : { target }) });
  } catch (err) {
    const detail = deps.interactive && err instanceof CreateUnitsError && err.detail !== undefined ? [err.detail] : [];
    throw new CommandFailed([`Error creating units: ${goError(err)}`, ...detail], 1, { cause: err });
  }
}

/**
 * fleet's `setTargetStateOfUnits`: sets the desired state of each unit that is not in it yet, and
 * resolves those it changed (as they were before), in order. Rejects with fleet's message at the
 * first unit, in order, it cannot read, find or change. Unlike fleet, the units are read in one
 * request and the changes sent {@link requestsInFlight} at a time; after a failed change up to
 * that many − 1 later units may have changed too. `setAlready` are units this command created in
 * `state` (see `createUnits`): they count as changed, as they were before, without a request.
 */
export async function setTargetStates(
  client: FleetApiClient,
  names: readonly string[],
  state: JobState,
  setAlready: ReadonlyMap<string, ApiUnit> = new Map(),
): Promise<ApiUnit[]> {
  let units: Map<string, ApiUnit>;
  const others = names.filter((n) => !setAlready.has(n));
  try {
    units = new Map([...(others.length === 0 ? [] : await fetchUnits(client, others)), ...setAlready]);
  } catch (err) {
    throw new Error(`error retrieving unit ${others[0] ?? ''} from registry: ${goError(err)}`, { cause: err });
  }
  const changing: ApiUnit[] = [];
  const seen = new Set<string>();
  let missing: string | undefined;
  for (const name of names) {
    const unit = units.get(name);
    if (unit === undefined) {
      missing = name;
      break;
    }
    // A name given twice is in the state after its first turn, as fleet would read it again.
    if (unit.desiredState === state || seen.has(name)) continue;
    seen.add(name);
    changing.push(unit);
  }
  const sent = await mapBounded(changing.filter((u) => !setAlready.has(u.name)), requestsInFlight, (unit) => client.setDesiredState(unit.name, state));
  const failed = sent.find((r) => r === undefined || !r.ok);
  if (failed !== undefined && !failed.ok) throw new Error(goError(failed.error), { cause: failed.error });
  if (missing !== undefined) throw new Error(`unable to find unit ${missing}`);
  return changing;
}

export type SubmitAndDriveArgs = GlobalArgs & BlockArgs & ReplaceArgs & { units: string[] | undefined };

const blockFlagsOf = {
  load: blockHelp('loaded', { jobs: true, noBlock: 'Do not wait until the jobs have been loaded before exiting' }),
  start: blockHelp('launched'),
} as const;

/** What fleet says when `load` or `start` cannot set the desired states. */
const settingFailed = { load: 'Error loading units: ', start: 'Error starting units: ' } as const;

/**
 * `load` and `start`, as fleet runs them: create the units that are not registered (see
 * `createUnits`), set the desired state `target` of those not in it, say `Triggered global unit X
 * <verb>` for global units and wait for the others (`Unit X loaded on <machine>`); `start` then
 * waits until systemd reports them active. Each failure ends the command with fleet's lines and
 * exit code 1.
 */
export function submitAndDriveCommand(
  deps: CommandDeps,
  verb: 'load' | 'start',
  target: 'loaded' | 'launched',
  describe: string,
): CommandModule<GlobalArgs, SubmitAndDriveArgs> {
  return {
    command: `${verb} [units..]`,
    describe,
    builder: (y) => withSignFlag(withReplaceFlag(withBlockFlags(y.positional('units', unitsPositional), deps.env, blockFlagsOf[verb]), verb)),
    handler: async (args) => {
      const names = unitArgs(args);
      if (noUnitsGiven(deps, names)) return;
      const attempts = blockAttempts(args);
      const ctx = waitContext(deps, await connect(deps, args));
      const { created: replaced, inTarget } = await createOrFail(ctx, deps, names, verb, args.replace, rawAttempts(args), target);
      let triggered: ApiUnit[];
      try {
        triggered = await setTargetStates(ctx.client, names.map(unitNameMangle), target, inTarget);
      } catch (err) {
        throw new CommandFailed([`${settingFailed[verb]}${err instanceof Error ? err.message : String(err)}`], 1, { cause: err });
      }
      const waiting: string[] = [];
      for (const unit of triggered) {
        if (isGlobalUnit(unit)) deps.output.out(`Triggered global unit ${unit.name} ${verb}\n`);
        else waiting.push(unit.name);
      }
      const failure = await waitForUnitStates(ctx, waiting, verb, target, attempts, { replaced });
      if (failure !== undefined) throw new CommandFailed(failureLines(ctx, failure, 'Error waiting for unit states, exit status: '));
      if (verb !== 'start') return;
      const active = await waitForActive(ctx, attempts < 0 ? triggered.filter((u) => waiting.includes(u.name)) : await currentUnits(ctx.client, waiting), attempts);
      if (active !== undefined) throw new CommandFailed(failureLines(ctx, active, 'Error waiting for systemd unit states, err: '));
    },
  };
}
