import type { CommandModule } from 'yargs';
import { ensureUnits, refuseTemplates } from '../ensure-units.js';
import { blockAttempts, refuseSign, unitArgs, unitsPositional, withBlockFlags, withReplaceFlag, withSignFlag } from './context.js';
import type { BlockArgs, CommandDeps, GlobalArgs, ReplaceArgs, SignArgs } from './context.js';
import { driveUnits } from './drive.js';

type StartArgs = GlobalArgs & BlockArgs & ReplaceArgs & SignArgs & { units: string[] };

/**
 * `fleetctl start UNIT...`: submit and load if needed, set the desired state `launched`, then wait
 * until fleet reports `launched` and systemd reports the unit `active` on its machine.
 */
export function startCommand(deps: CommandDeps): CommandModule<GlobalArgs, StartArgs> {
  return {
    command: 'start <units..>',
    describe: 'Start one or more units in the cluster, first submitting and loading them if necessary',
    builder: (y) =>
      withSignFlag(withReplaceFlag(withBlockFlags(y.positional('units', unitsPositional), deps.env, 'launched'))),
    handler: async (args) => {
      refuseSign(args);
      const names = unitArgs(args);
      const attempts = blockAttempts(args);
      refuseTemplates(names, 'start');
      const client = await deps.client(args);
      const units = await ensureUnits(names, { client, readFile: deps.readFile, output: deps.output, replace: args.replace });
      const replaced = new Set(units.filter((u) => u.outcome === 'replaced').map((u) => u.name));
      await driveUnits(deps, client, units.map((u) => u.unit), 'launched', 'start', attempts, replaced);
    },
  };
}
