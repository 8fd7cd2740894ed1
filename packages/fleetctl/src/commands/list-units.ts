import type { WireUnitState } from '@fleet/core/wire';
import type { CommandModule } from 'yargs';
import { machineIps } from '../machine-directory.js';
import { CommandFailed, goError } from '../fleet-text.js';
import { compareText, hashLegend, machineLegend, orDash, renderListing } from '../output.js';
import type { FieldTable } from '../output.js';
import { connect, fieldsOrFail, listingOptions, withListingFlags } from './context.js';
import type { CommandDeps, GlobalArgs, ListingArgs } from './context.js';

/** One line of `list-units`: systemd's state of a unit on one machine. */
export interface UnitStateRow {
  readonly state: WireUnitState;
  /** The machine's IP, when known. */
  readonly ip: string | undefined;
}

/** `list-units` fields (fleet's listUnitsFields). */
export const listUnitsFields: FieldTable<UnitStateRow> = {
  unit: { text: (r) => r.state.name },
  load: { text: (r) => orDash(r.state.systemdLoadState) },
  active: { text: (r) => orDash(r.state.systemdActiveState) },
  sub: { text: (r) => orDash(r.state.systemdSubState) },
  machine: { text: (r, full) => (r.state.machineID === '' ? '-' : machineLegend(r.state.machineID, r.ip, full)) },
  hash: { text: (r, full) => hashLegend(r.state.hash, full) },
};

const defaultListUnitsFields = 'unit,machine,active,sub';

/** Rows sorted by unit name, then machine ID. */
export function unitStateRows(states: readonly WireUnitState[], ips: ReadonlyMap<string, string>): UnitStateRow[] {
  return [...states]
    .sort((a, b) => compareText(a.name, b.name) || compareText(a.machineID, b.machineID))
    .map((state) => ({ state, ip: ips.get(state.machineID) }));
}

/** `fleetctl list-units`: the systemd state of every unit on every machine. Arguments are ignored, as in fleet. */
export function listUnitsCommand(deps: CommandDeps): CommandModule<GlobalArgs, GlobalArgs & ListingArgs> {
  return {
    command: 'list-units',
    describe: 'List the current state of units in the cluster',
    builder: (y) => withListingFlags(y, defaultListUnitsFields, 'Unit', 'active,hash,load,machine,sub,unit').strict(false),
    handler: async (args) => {
      const options = listingOptions(args);
      const fields = fieldsOrFail(deps, options.fields, listUnitsFields);
      const client = await connect(deps, args);
      let states: WireUnitState[];
      try {
        states = await client.listUnitStates();
      } catch (err) {
        throw new CommandFailed([`Error retrieving list of units from repository: ${goError(err)}`], 1, { cause: err });
      }
      // Best effort, as fleet's legends: without the list, machines show without their IP.
      const ips = fields.includes('machine') ? await machineIps(client).catch(() => new Map<string, string>()) : new Map<string, string>();
      deps.output.out(renderListing(unitStateRows(states, ips), listUnitsFields, options));
    },
  };
}
