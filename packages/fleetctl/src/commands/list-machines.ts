import type { WireMachine } from '@fleet/core/wire';
import type { CommandModule } from 'yargs';
import { CommandFailed, goError } from '../fleet-text.js';
import { compareText, machineIdLegend, metadataLegend, orDash, renderListing } from '../output.js';
import type { FieldTable } from '../output.js';
import { connect, fieldsOrFail, listingOptions, withListingFlags } from './context.js';
import type { CommandDeps, GlobalArgs, ListingArgs } from './context.js';

/** `list-machines` fields (fleet's listMachinesFields). */
export const listMachinesFields: FieldTable<WireMachine> = {
  machine: { text: (m, full) => machineIdLegend(m.id, full) },
  ip: { text: (m) => orDash(m.primaryIP) },
  // Keys sorted, as in the table: stable whatever order the API sends them in.
  metadata: {
    text: (m) => metadataLegend(m.metadata ?? {}),
    json: (m) => Object.fromEntries(Object.entries(m.metadata ?? {}).sort(([a], [b]) => compareText(a, b))),
  },
};

const defaultListMachinesFields = 'machine,ip,metadata';

/** Machines sorted by ID. */
export function machineRows(machines: readonly WireMachine[]): WireMachine[] {
  return [...machines].sort((a, b) => compareText(a.id, b.id));
}

/** `fleetctl list-machines`: the machines of the cluster. */
export function listMachinesCommand(deps: CommandDeps): CommandModule<GlobalArgs, GlobalArgs & ListingArgs> {
  return {
    command: 'list-machines',
    describe: 'Enumerate the current hosts in the cluster',
    builder: (y) => withListingFlags(y, defaultListMachinesFields, 'Machine', 'machine,ip,metadata').strict(false),
    handler: async (args) => {
      const options = listingOptions(args);
      fieldsOrFail(deps, options.fields, listMachinesFields);
      const client = await connect(deps, args);
      let machines: WireMachine[];
      try {
        machines = await client.listMachines();
      } catch (err) {
        throw new CommandFailed([
          `Error retrieving list of active machines from fleet API (${goError(err)})`,
          'Possible issues:',
          '  etcd is unhealthy and/or lost quorum',
          '  connection cannot be established to any etcd servers',
        ], 1, { cause: err });
      }
      deps.output.out(renderListing(machineRows(machines), listMachinesFields, options));
    },
  };
}
