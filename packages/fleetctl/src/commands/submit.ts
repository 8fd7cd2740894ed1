import type { CommandModule } from 'yargs';
import { ensureUnits } from '../ensure-units.js';
import { refuseSign, unitArgs, unitsPositional, withReplaceFlag, withSignFlag } from './context.js';
import type { CommandDeps, GlobalArgs, ReplaceArgs, SignArgs } from './context.js';

type SubmitArgs = GlobalArgs & ReplaceArgs & SignArgs & { units: string[] };

/** `fleetctl submit UNIT...`: upload unit files; new units get the desired state `inactive`. */
export function submitCommand(deps: CommandDeps): CommandModule<GlobalArgs, SubmitArgs> {
  return {
    command: 'submit <units..>',
    describe: 'Upload one or more units to the cluster without starting them',
    builder: (y) => withSignFlag(withReplaceFlag(y.positional('units', unitsPositional))),
    handler: async (args) => {
      refuseSign(args);
      await ensureUnits(unitArgs(args), {
        client: await deps.client(args),
        readFile: deps.readFile,
        output: deps.output,
        replace: args.replace,
        clock: deps.clock,
      });
    },
  };
}
