import type { CommandModule } from 'yargs';
import type { ApiUnit } from '../api-client.js';
import { CommandFailed, goError, goList } from '../fleet-text.js';
import { isGlobalUnit } from '../unit-info.js';
import { failureLines, waitForUnitStates } from '../wait.js';
import type { JobState } from '../wait.js';
import { blockAttempts, connect, unitArgs, unitsPositional, withBlockFlags } from './context.js';
import type { BlockArgs, BlockFlagsHelp, CommandDeps, GlobalArgs } from './context.js';
import { noUnitsFound, noUnitsGiven, waitContext } from './drive.js';
import { findUnits } from './find-units.js';

export type DriveArgs = GlobalArgs & BlockArgs & { units: string[] | undefined };

/** How {@link driveRegisteredCommand} builds `stop` or `unload`. */
export interface DriveCommandSpec {
  readonly verb: 'stop' | 'unload';
  readonly target: JobState;
  readonly describe: string;
  readonly help: BlockFlagsHelp;
  /** fleet's last line: `Successfully stopped units [a.service].` (`stopped`). */
  readonly done: string;
  /**
   * What to do with a unit that is not global, from its current state: `skip` it (already there),
   * `refuse` it (fleet ends the command), or `drive` it.
   */
  readonly decide: (unit: ApiUnit) => 'skip' | 'refuse' | 'drive';
  /** Ours: the wait also needs systemd to have stopped the unit. */
  readonly untilStopped?: boolean;
}

/**
 * `stop` and `unload`, as fleet runs them: the registered units the arguments name (`Units not
 * found in registry` on stderr, exit code 0, when none), each set to `target` unless `decide`
 * skips or refuses it (`Unable to stop unit X in state inactive`, exit code 1); global units are
 * only triggered (`Triggered global unit X stop`); the others are waited for (`Unit X loaded on
 * <machine>`), then fleet's `Successfully stopped units [X].` on stderr. A wait that fails ends
 * with `Error waiting for units: ...` and `Failed to stop units [X]. err: ...`, exit code 1.
 */
export function driveRegisteredCommand(deps: CommandDeps, spec: DriveCommandSpec): CommandModule<GlobalArgs, DriveArgs> {
  return {
    command: `${spec.verb} [units..]`,
    describe: spec.describe,
    builder: (y) => withBlockFlags(y.positional('units', unitsPositional), deps.env, spec.help),
    handler: async (args) => {
      const names = unitArgs(args);
      if (noUnitsGiven(deps, names)) return;
      const attempts = blockAttempts(args);
      const ctx = waitContext(deps, await connect(deps, args));
      const units = await findUnits(ctx.client, names);
      if (noUnitsFound(deps, units)) return;
      const waiting: string[] = [];
      for (const unit of units) {
        const global = isGlobalUnit(unit);
        const decision = global ? 'drive' : spec.decide(unit);
        if (decision === 'refuse') throw new CommandFailed([`Unable to ${spec.verb} unit ${unit.name} in state ${unit.currentState}`]);
        if (decision === 'skip') continue;
        try {
          await ctx.client.setDesiredState(unit.name, spec.target);
        } catch (err) {
          throw new CommandFailed([`Error setting target state for unit ${unit.name}: ${goError(err)}`], 1, { cause: err });
        }
        if (global) deps.output.out(`Triggered global unit ${unit.name} ${spec.verb}\n`);
        else waiting.push(unit.name);
      }
      const failure = await waitForUnitStates(ctx, waiting, spec.verb, spec.target, attempts, { untilStopped: spec.untilStopped === true });
      if (failure !== undefined) {
        throw new CommandFailed(failureLines(ctx, failure, `Failed to ${spec.verb} units ${goList(waiting)}. err: `));
      }
      deps.output.err(`Successfully ${spec.done} units ${goList(waiting)}.\n`);
    },
  };
}
