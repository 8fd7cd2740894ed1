import { FleetError } from '@fleet/engine';
import type { CommandModule } from 'yargs';
import { isGlobalUnit } from '../unit-info.js';
import type { CommandDeps, GlobalArgs } from './context.js';
import { driveRegisteredCommand } from './drive.js';
import type { DriveArgs } from './drive.js';

/**
 * `fleetctl stop UNIT...`: set the desired state `loaded` and wait until fleet reports `loaded` and
 * systemd no longer runs the unit. Unknown units are skipped; a unit that is not loaded is an error.
 */
export function stopCommand(deps: CommandDeps): CommandModule<GlobalArgs, DriveArgs> {
  return driveRegisteredCommand(deps, {
    verb: 'stop',
    target: 'loaded',
    describe: 'Instruct systemd to stop one or more units in the cluster',
    waitsUntil: 'stopped',
    check: (unit) => {
      if (!isGlobalUnit(unit) && unit.desiredState === 'inactive') {
        throw new FleetError('INVALID_TARGET_STATE', `Unable to stop unit ${unit.name} in state inactive (load or start it first)`);
      }
    },
  });
}
