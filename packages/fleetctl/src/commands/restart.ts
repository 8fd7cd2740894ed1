import type { ApiUnit } from '../api-client.js';
import { FleetError } from '@fleet/engine';

import type { CommandModule } from 'yargs';
import { isGlobalUnit } from '../unit-info.js';
import { blockAttempts, unitArgs, unitsPositional, withBlockFlags } from './context.js';
import type { BlockArgs, CommandDeps, GlobalArgs } from './context.js';
import { driver, waitOrTrigger } from './drive.js';
import type { Driver } from './drive.js';
import { findUnits } from './find-units.js';

type RestartArgs = GlobalArgs & BlockArgs & { units: string[] };

/**
 * `fleetctl restart UNIT...`: restart units one after the other (a rolling restart, as fleet's
 * restart.go). For each unit, in argument order:
 *
 * - launched: set the desired state `loaded` and wait until fleet reports `loaded` and systemd no
 *   longer runs the unit (`Unit X loaded on <machine>`), then set `launched` and wait until systemd
 *   reports it `active` (`Unit X launched on <machine>`): the lines `stop` and `start` print;
 * - loaded (stopped): only the start half, as fleet does ("if they are stopped it starts them");
 * - global units (fleet restarts them with `systemctl restart` over SSH on every machine): set
 *   `loaded` then `launched` without waiting, `Triggered global unit X restart`;
 * - `--no-block`: the stop is still waited for (an agent that never saw the intermediate `loaded`
 *   would leave the unit running), then `launched` is set without waiting: `Triggered unit X restart`.
 *
 * Global units are not waited for, so their restart is best effort: an agent that misses the
 * intermediate `loaded` keeps its copy running. Units that do not exist are skipped
 * (as `stop` does); a unit whose desired state is `inactive` is refused before anything changes.
 * The first unit that fails to stop or start ends the command with an error; later units are left
 * alone.
 */
export function restartCommand(deps: CommandDeps): CommandModule<GlobalArgs, RestartArgs> {
  return {
    command: 'restart <units..>',
    describe: 'Instruct systemd to restart one or more units in the cluster, one after the other (stop, then start)',
    builder: (y) => withBlockFlags(y.positional('units', unitsPositional), deps.env, 'stopped and started again'),
    handler: async (args) => {
      const attempts = blockAttempts(args);
      const client = await deps.client(args);
      const units = await findUnits(client, unitArgs(args));
      for (const unit of units) {
        if (unit.desiredState === 'inactive') {
          throw new FleetError('INVALID_TARGET_STATE', `Unable to restart unit ${unit.name} in state inactive (load or start it first)`);
        }
      }
      const d = driver(deps, client, attempts);
      for (const unit of units) await restartUnit(d, unit);
    },
  };
}

async function restartUnit(d: Driver, unit: ApiUnit): Promise<void> {
  const { client, deps, attempts } = d;
  const running = unit.desiredState === 'launched';
  const verb = running ? 'restart' : 'start';
  if (isGlobalUnit(unit)) {
    if (running) await client.setDesiredState(unit.name, 'loaded');
    await client.setDesiredState(unit.name, 'launched');
    deps.output.out(`Triggered global unit ${unit.name} ${verb}\n`);
    return;
  }
  if (running) {
    await client.setDesiredState(unit.name, 'loaded');
    // Even with --no-block the stop is waited for: an agent that never saw `loaded` would leave
    // the unit running, and the restart would silently not happen.
    await waitOrTrigger({ ...d, attempts: Math.max(attempts, 0) }, [unit.name], 'stop');
  }
  await client.setDesiredState(unit.name, 'launched');
  if (attempts < 0) {
    deps.output.out(`Triggered unit ${unit.name} ${verb}\n`);
    return;
  }
  await waitOrTrigger(d, [unit.name], 'start');
}
