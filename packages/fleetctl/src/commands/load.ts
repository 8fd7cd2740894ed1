import type { CommandModule } from 'yargs';
import type { CommandDeps, GlobalArgs } from './context.js';
import { submitAndDriveCommand } from './drive.js';
import type { SubmitAndDriveArgs } from './drive.js';

/** `fleetctl load UNIT...`: submit if needed, then schedule the units (desired state `loaded`). */
export function loadCommand(deps: CommandDeps): CommandModule<GlobalArgs, SubmitAndDriveArgs> {
  return submitAndDriveCommand(deps, 'load', 'loaded', 'Schedule one or more units in the cluster, first submitting them if necessary.');
}
