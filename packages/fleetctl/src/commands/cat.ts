import { FleetError } from '@fleet/engine';
import { serializeUnitFile } from '@fleet/engine/model';
import type { CommandModule } from 'yargs';
import { unitNameFromArg } from '../unit-source.js';
import type { CommandDeps, GlobalArgs } from './context.js';

type CatArgs = GlobalArgs & { unit: string };

/** `fleetctl cat UNIT`: print the unit file as the registry holds it (serialised as fleet does). */
export function catCommand(deps: CommandDeps): CommandModule<GlobalArgs, CatArgs> {
  return {
    command: 'cat <unit>',
    describe: 'Output the contents of a submitted unit',
    builder: (y) => y.positional('unit', { type: 'string', demandOption: true }),
    handler: async (args) => {
      const name = unitNameFromArg(String(args.unit));
      const client = await deps.client(args);
      const unit = await client.getUnit(name);
      if (unit === undefined) throw new FleetError('UNIT_NOT_FOUND', `Unit ${name} not found`);
      deps.output.out(serializeUnitFile(unit.options));
    },
  };
}
