import type { CommandModule } from 'yargs';
import { unitArgs, unitsPositional, withReplaceFlag, withSignFlag, connect } from './context.js';
import type { CommandDeps, GlobalArgs, ReplaceArgs } from './context.js';
import { createOrFail, noUnitsGiven, waitContext } from './drive.js';

type SubmitArgs = GlobalArgs & ReplaceArgs & { units: string[] | undefined };

/**
 * `fleetctl submit UNIT...`: upload unit files (fleet's `lazyCreateUnits`); new units get the
 * desired state `inactive` and are waited for until they report it (`Unit X inactive`).
 */
export function submitCommand(deps: CommandDeps): CommandModule<GlobalArgs, SubmitArgs> {
  return {
    command: 'submit [units..]',
    describe: 'Upload one or more units to the cluster without starting them',
    builder: (y) => withSignFlag(withReplaceFlag(y.positional('units', unitsPositional), 'submit')),
    handler: async (args) => {
      const names = unitArgs(args);
      if (noUnitsGiven(deps, names)) return;
      const ctx = waitContext(deps, await connect(deps, args));
      // fleet's submit has no --block-attempts: it waits for `inactive` as long as it takes.
      await createOrFail(ctx, deps, names, 'submit', args.replace, 0);
    },
  };
}
