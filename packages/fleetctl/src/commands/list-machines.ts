import type { WireMachine } from '@fleet/engine/api';
import type { CommandModule } from 'yargs';
import { compareText, machineIdLegend, metadataLegend, orDash, parseFields, renderListing } from '../output.js';
import type { FieldTable } from '../output.js';
import { listingOptions, withListingFlags } from './context.js';
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
    builder: (y) => withListingFlags(y, defaultListMachinesFields, Object.keys(listMachinesFields)),
    handler: async (args) => {
      const options = listingOptions(args);
      parseFields(options.fields, listMachinesFields);
      const client = await deps.client(args);
      const machines = await client.listMachines();
      deps.output.out(renderListing(machineRows(machines), listMachinesFields, options));
    },
  };
}
