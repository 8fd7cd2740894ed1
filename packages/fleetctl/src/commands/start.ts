import type { CommandModule } from 'yargs';
import type { CommandDeps, GlobalArgs } from './context.js';
import { submitAndDriveCommand } from './drive.js';
import type { SubmitAndDriveArgs } from './drive.js';

/**
 * `fleetctl start UNIT...`: submit and load if needed, set the desired state `launched`, then wait
 * until fleet reports `launched` and systemd reports the unit `active` on its machine.
 */
export function startCommand(deps: CommandDeps): CommandModule<GlobalArgs, SubmitAndDriveArgs> {
  return submitAndDriveCommand(
    deps,
    'start',
    'launched',
    'Instruct systemd to start one or more units in the cluster, first submitting and loading if necessary.',
  );
}
