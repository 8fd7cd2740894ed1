import type { CommandModule } from 'yargs';
import { ensureUnits, refuseTemplates } from '../ensure-units.js';
import { blockAttempts, refuseSign, unitArgs, unitsPositional, withBlockFlags, withReplaceFlag, withSignFlag } from './context.js';
import type { BlockArgs, CommandDeps, GlobalArgs, ReplaceArgs, SignArgs } from './context.js';
import { driveUnits } from './drive.js';

type LoadArgs = GlobalArgs & BlockArgs & ReplaceArgs & SignArgs & { units: string[] };

/** `fleetctl load UNIT...`: submit if needed, then schedule the units (desired state `loaded`). */
export function loadCommand(deps: CommandDeps): CommandModule<GlobalArgs, LoadArgs> {
  return {
    command: 'load <units..>',
    describe: 'Schedule one or more units in the cluster, first submitting them if necessary',
    builder: (y) =>
      withSignFlag(withReplaceFlag(withBlockFlags(y.positional('units', unitsPositional), deps.env, 'loaded'))),
    handler: async (args) => {
      refuseSign(args);
      const names = unitArgs(args);
      const attempts = blockAttempts(args);
      refuseTemplates(names, 'load');
      const client = await deps.client(args);
      const units = await ensureUnits(names, { client, readFile: deps.readFile, output: deps.output, replace: args.replace });
      const replaced = new Set(units.filter((u) => u.outcome === 'replaced').map((u) => u.name));
      await driveUnits(deps, client, units.map((u) => u.unit), 'loaded', 'load', attempts, replaced);
    },
  };
}
