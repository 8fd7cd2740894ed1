import type { CommandModule } from 'yargs';
import { blockHelp } from './context.js';
import type { CommandDeps, GlobalArgs } from './context.js';
import { driveRegisteredCommand } from './drive-registered.js';
import type { DriveArgs } from './drive-registered.js';

/**
 * `fleetctl stop UNIT...`: set the desired state `loaded` and wait until fleet reports `loaded`
 * (and, ours, systemd no longer runs the unit). Units already loaded are skipped; a unit whose
 * current state is inactive ends the command, as in fleet.
 */
export function stopCommand(deps: CommandDeps): CommandModule<GlobalArgs, DriveArgs> {
  return driveRegisteredCommand(deps, {
    verb: 'stop',
    target: 'loaded',
    describe: 'Instruct systemd to stop one or more units in the cluster.',
    help: blockHelp('stopped'),
    done: 'stopped',
    decide: (unit) => (unit.currentState === 'inactive' ? 'refuse' : unit.currentState === 'loaded' ? 'skip' : 'drive'),
    untilStopped: true,
  });
}
