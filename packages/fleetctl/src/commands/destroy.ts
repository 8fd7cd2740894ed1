import type { CommandModule } from 'yargs';
import { unitNameFromArg } from '../unit-source.js';
import { blockAttempts, unitArgs, unitsPositional, withBlockFlags } from './context.js';
import type { BlockArgs, CommandDeps, GlobalArgs } from './context.js';
import { driver, waitOrTrigger } from './drive.js';

type DestroyArgs = GlobalArgs & BlockArgs & { units: string[] };

/**
 * `fleetctl destroy UNIT...`: remove units from the cluster and wait until they are gone, printing
 * `Destroyed <name>`. Units that do not exist are skipped, so destroying twice succeeds.
 */
export function destroyCommand(deps: CommandDeps): CommandModule<GlobalArgs, DestroyArgs> {
  return {
    command: 'destroy <units..>',
    describe: 'Destroy one or more units in the cluster',
    builder: (y) => withBlockFlags(y.positional('units', unitsPositional), deps.env, 'destroyed'),
    handler: async (args) => {
      const attempts = blockAttempts(args);
      const names = [...new Set(unitArgs(args).map((arg) => unitNameFromArg(arg)))];
      const client = await deps.client(args);
      const destroyed: string[] = [];
      for (const name of names) {
        if (await client.destroyUnit(name)) destroyed.push(name);
      }
      await waitOrTrigger(driver(deps, client, attempts), destroyed, 'destroy');
    },
  };
}
