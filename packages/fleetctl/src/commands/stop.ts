import { FleetError } from '@fleet/engine';
import type { CommandModule } from 'yargs';
import { isGlobalUnit } from '../unit-info.js';
import { blockAttempts, unitArgs, unitsPositional, withBlockFlags } from './context.js';
import type { BlockArgs, CommandDeps, GlobalArgs } from './context.js';
import { driveUnits } from './drive.js';
import { findUnits } from './find-units.js';

type StopArgs = GlobalArgs & BlockArgs & { units: string[] };

/**
 * `fleetctl stop UNIT...`: set the desired state `loaded` and wait until fleet reports `loaded` and
 * systemd no longer runs the unit. Unknown units are skipped; a unit that is not loaded is an error.
 */
export function stopCommand(deps: CommandDeps): CommandModule<GlobalArgs, StopArgs> {
  return {
    command: 'stop <units..>',
    describe: 'Instruct systemd to stop one or more units in the cluster',
    builder: (y) => withBlockFlags(y.positional('units', unitsPositional), deps.env, 'stopped'),
    handler: async (args) => {
      const attempts = blockAttempts(args);
      const client = await deps.client(args);
      const units = await findUnits(client, unitArgs(args));
      for (const unit of units) {
        if (!isGlobalUnit(unit.options) && unit.desiredState === 'inactive') {
          throw new FleetError('INVALID_TARGET_STATE', `Unable to stop unit ${unit.name} in state inactive (load or start it first)`);
        }
      }
      await driveUnits(deps, client, units, 'loaded', 'stop', attempts);
    },
  };
}
