import type { CommandModule } from 'yargs';
import { blockAttempts, unitArgs, unitsPositional, withBlockFlags } from './context.js';
import type { BlockArgs, CommandDeps, GlobalArgs } from './context.js';
import { driveUnits } from './drive.js';
import { findUnits } from './find-units.js';

type UnloadArgs = GlobalArgs & BlockArgs & { units: string[] };

/** `fleetctl unload UNIT...`: set the desired state `inactive` and wait until fleet reports it. */
export function unloadCommand(deps: CommandDeps): CommandModule<GlobalArgs, UnloadArgs> {
  return {
    command: 'unload <units..>',
    describe: 'Unschedule one or more units in the cluster',
    builder: (y) => withBlockFlags(y.positional('units', unitsPositional), deps.env, 'unloaded'),
    handler: async (args) => {
      const attempts = blockAttempts(args);
      const client = await deps.client(args);
      const units = await findUnits(client, unitArgs(args));
      await driveUnits(deps, client, units, 'inactive', 'unload', attempts);
    },
  };
}
