import type { CommandModule } from 'yargs';
import { CommandFailed, goError } from '../fleet-text.js';
import { blockHelp, connect, unitArgs, unitsPositional, withBlockFlags } from './context.js';
import type { BlockArgs, CommandDeps, GlobalArgs } from './context.js';
import { noUnitsFound, noUnitsGiven } from './drive.js';
import { findUnits } from './find-units.js';

type DestroyArgs = GlobalArgs & BlockArgs & { units: string[] | undefined };

/**
 * `fleetctl destroy UNIT...`, as fleet runs it: the registered units the arguments name (`Units
 * not found in registry` on stderr, exit code 0, when none) are removed one after the other, then
 * `Destroyed <name>` is printed for each. A unit another client removed meanwhile is skipped; a
 * unit that cannot be removed prints `Error destroying units: ...` and makes the exit code 1, the
 * others are still removed. The API removes a unit from the registry before it answers, so there
 * is nothing to wait for: `--block-attempts` and `--no-block` are accepted for fleet's sake.
 */
export function destroyCommand(deps: CommandDeps): CommandModule<GlobalArgs, DestroyArgs> {
  return {
    command: 'destroy [units..]',
    describe: 'Destroy one or more units in the cluster',
    builder: (y) => withBlockFlags(y.positional('units', unitsPositional), deps.env, blockHelp('destroyed', { noBlock: 'Do not wait until the units are destroyed before exiting' })),
    handler: async (args) => {
      const names = unitArgs(args);
      if (noUnitsGiven(deps, names)) return;
      const client = await connect(deps, args);
      const units = await findUnits(client, names);
      if (noUnitsFound(deps, units)) return;
      const destroyed: string[] = [];
      let failed = false;
      for (const unit of units) {
        try {
          if (await client.destroyUnit(unit.name)) destroyed.push(unit.name);
        } catch (err) {
          deps.output.err(`Error destroying units: ${goError(err)}\n`);
          failed = true;
        }
      }
      for (const name of destroyed) deps.output.out(`Destroyed ${name}\n`);
      if (failed) throw new CommandFailed([]);
    },
  };
}
