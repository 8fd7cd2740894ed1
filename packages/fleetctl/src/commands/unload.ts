import type { CommandModule } from 'yargs';
import type { CommandDeps, GlobalArgs } from './context.js';
import { driveRegisteredCommand } from './drive.js';
import type { DriveArgs } from './drive.js';

/** `fleetctl unload UNIT...`: set the desired state `inactive` and wait until fleet reports it. */
export function unloadCommand(deps: CommandDeps): CommandModule<GlobalArgs, DriveArgs> {
  return driveRegisteredCommand(deps, { verb: 'unload', target: 'inactive', describe: 'Unschedule one or more units in the cluster', waitsUntil: 'unloaded' });
}
