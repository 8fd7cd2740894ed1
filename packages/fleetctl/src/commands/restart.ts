import type { CommandModule } from 'yargs';
import type { ApiUnit } from '../api-client.js';
import { CommandFailed, goError, logLine } from '../fleet-text.js';
import { isGlobalUnit } from '../unit-info.js';
import { failureLines, waitForUnitStates } from '../wait.js';
import type { JobState, WaitContext, WaitOptions } from '../wait.js';
import { blockAttempts, blockHelp, connect, rawAttempts, unitArgs, unitsPositional, withBlockFlags } from './context.js';
import type { BlockArgs, CommandDeps, GlobalArgs } from './context.js';
import { createOrFail, noUnitsGiven, waitContext } from './drive.js';
import { findUnits } from './find-units.js';

type RestartArgs = GlobalArgs & BlockArgs & { units: string[] | undefined };

/**
 * `fleetctl restart UNIT...`: a rolling restart, one unit after the other in argument order, with
 * fleet's output. The units are those registered when the command starts (arguments that name a
 * local file of an unregistered unit are submitted, as fleet does, and left alone).
 *
 * - launched: set `loaded` and wait until fleet reports `loaded` and (ours) systemd no longer runs
 *   the unit, then set `launched` and wait for it. fleet prints `Unit X launched on <machine>`
 *   after both halves (its stop half does not really wait), then logs `Unit(X) was restarted.`;
 *   so does this.
 * - loaded (stopped): only the start half, as fleet does ("if they are stopped it starts them").
 * - inactive: `Unable to restart unit X in state inactive` on stderr; the others go on, exit 0.
 * - global units (fleet restarts them over SSH and prints nothing): set `loaded` then `launched`,
 *   not waited for, so the restart is best effort.
 * - `--no-block` (ours; fleet's restart has none): the stop is still waited for (an agent that
 *   never saw the intermediate `loaded` would leave the unit running), then `launched` is set:
 *   `Triggered unit X restart` for each half.
 *
 * The first unit that fails to stop or start ends the command with fleet's lines, exit code 1.
 */
export function restartCommand(deps: CommandDeps): CommandModule<GlobalArgs, RestartArgs> {
  return {
    command: 'restart [units..]',
    describe: 'Instruct systemd to rolling restart one or more units in the cluster.',
    builder: (y) => withBlockFlags(y.positional('units', unitsPositional), deps.env, blockHelp('stopped/started', { noBlock: 'Do not wait until the units have started again before exiting' })),
    handler: async (args) => {
      const names = unitArgs(args);
      if (noUnitsGiven(deps, names)) return;
      const attempts = blockAttempts(args);
      const ctx = waitContext(deps, await connect(deps, args));
      const units = await findUnits(ctx.client, names);
      await createOrFail(ctx, deps, names, 'restart', false, rawAttempts(args));
      const globals: ApiUnit[] = [];
      for (const unit of units) {
        if (isGlobalUnit(unit)) {
          globals.push(unit);
          continue;
        }
        if (unit.currentState === 'inactive') {
          deps.output.err(`Unable to restart unit ${unit.name} in state inactive\n`);
          continue;
        }
        if (unit.currentState !== 'loaded') {
          await setAndWait(ctx, unit.name, 'loaded', attempts < 0 ? 0 : attempts, { untilStopped: true, reportAs: 'launched', silent: attempts < 0 });
          if (attempts < 0) deps.output.out(`Triggered unit ${unit.name} restart\n`);
        }
        await setAndWait(ctx, unit.name, 'launched', attempts);
        if (unit.currentState !== 'loaded') deps.output.err(logLine(deps.clock, 'INFO', 'restart.go:100', `Unit(${unit.name}) was restarted.`));
      }
      for (const unit of globals) {
        if (unit.desiredState === 'launched') await setOrFail(ctx, unit.name, 'loaded');
        await setOrFail(ctx, unit.name, 'launched');
      }
    },
  };
}

/** fleet's `setUnitStateAndWait`: its lines and exit code 1 when either part fails. */
async function setAndWait(ctx: WaitContext, name: string, state: JobState, attempts: number, options: WaitOptions = {}): Promise<void> {
  await setOrFail(ctx, name, state);
  const failure = await waitForUnitStates(ctx, [name], 'restart', state, attempts, options);
  if (failure !== undefined) throw new CommandFailed(failureLines(ctx, failure, 'Error waiting for unit states, exit status: '));
}

async function setOrFail(ctx: WaitContext, name: string, state: JobState): Promise<void> {
  try {
    await ctx.client.setDesiredState(name, state);
  } catch (err) {
    throw new CommandFailed([`Error setting target state for unit ${name}: ${goError(err)}`], 1, { cause: err });
  }
}
