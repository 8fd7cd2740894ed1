import { serializeUnitFile } from '@fleet/core/model';
import type { CommandModule } from 'yargs';
import type { ApiUnit } from '../api-client.js';
import { CommandFailed, goError } from '../fleet-text.js';
import { unitNameMangle } from '../unit-source.js';
import { connect, unitArgs, unitsPositional } from './context.js';
import type { CommandDeps, GlobalArgs } from './context.js';

type CatArgs = GlobalArgs & { units: string[] | undefined };

/**
 * `fleetctl cat UNIT`: print the unit file as the registry holds it (serialised as fleet does).
 * Exactly one unit, else fleet's `One unit file must be provided`; `Unit X not found` when it is
 * not registered; both exit code 1.
 */
export function catCommand(deps: CommandDeps): CommandModule<GlobalArgs, CatArgs> {
  return {
    command: 'cat [units..]',
    describe: 'Output the contents of a submitted unit',
    builder: (y) => y.positional('units', { ...unitsPositional, describe: 'The unit' }),
    handler: async (args) => {
      const given = unitArgs(args);
      if (given.length !== 1) throw new CommandFailed(['One unit file must be provided']);
      const name = unitNameMangle(given[0] as string);
      const client = await connect(deps, args);
      let unit: ApiUnit | undefined;
      try {
        unit = await client.getUnit(name);
      } catch (err) {
        throw new CommandFailed([`Error retrieving Unit ${name}: ${goError(err)}`], 1, { cause: err });
      }
      if (unit === undefined) throw new CommandFailed([`Unit ${name} not found`]);
      deps.output.out(serializeUnitFile(unit.options));
    },
  };
}
