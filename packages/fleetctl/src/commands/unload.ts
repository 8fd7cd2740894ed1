import type { CommandModule } from 'yargs';
import { blockHelp } from './context.js';
import type { CommandDeps, GlobalArgs } from './context.js';
import { driveRegisteredCommand } from './drive-registered.js';
import type { DriveArgs } from './drive-registered.js';

/**
 * `fleetctl unload UNIT...`: set the desired state `inactive` and wait until fleet reports it.
 * Units already inactive are skipped, as in fleet.
 */
export function unloadCommand(deps: CommandDeps): CommandModule<GlobalArgs, DriveArgs> {
  return driveRegisteredCommand(deps, {
    verb: 'unload',
    target: 'inactive',
    describe: 'Unschedule one or more units in the cluster.',
    help: blockHelp('inactive', { globalNote: false, noBlock: 'Do not wait until the units have become inactive before exiting' }),
    done: 'unloaded',
    decide: (unit) => (unit.currentState === 'inactive' ? 'skip' : 'drive'),
  });
}
