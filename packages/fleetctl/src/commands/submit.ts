import type { CommandModule } from 'yargs';
import { ensureUnits } from '../ensure-units.js';
import { unitArgs, unitsPositional, withReplaceFlag } from './context.js';
import type { CommandDeps, GlobalArgs, ReplaceArgs } from './context.js';

type SubmitArgs = GlobalArgs & ReplaceArgs & { units: string[] };

/** `fleetctl submit UNIT...`: upload unit files; new units get the desired state `inactive`. */
export function submitCommand(deps: CommandDeps): CommandModule<GlobalArgs, SubmitArgs> {
  return {
    command: 'submit <units..>',
    describe: 'Upload one or more units to the cluster without starting them',
    builder: (y) => withReplaceFlag(y.positional('units', unitsPositional)),
    handler: async (args) => {
      await ensureUnits(unitArgs(args), {
        client: deps.client(args),
        readFile: deps.readFile,
        output: deps.output,
        replace: args.replace,
      });
    },
  };
}
