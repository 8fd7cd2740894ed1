import type { ApiUnit } from '../api-client.js';

import { hashUnitFile } from '@fleet/core/model';
import type { CommandModule } from 'yargs';
import { machineIps } from '../machine-directory.js';
import { CommandFailed, goError } from '../fleet-text.js';
import { compareText, hashLegend, machineLegend, orDash, renderListing } from '../output.js';
import type { FieldTable } from '../output.js';
import { isGlobalUnit, unitDescription, unitReason } from '../unit-info.js';
import { connect, fieldsOrFail, listingOptions, withListingFlags } from './context.js';
import type { CommandDeps, GlobalArgs, ListingArgs } from './context.js';

/** One line of `list-unit-files`: a unit in the registry. */
export interface UnitFileRow {
  readonly unit: ApiUnit;
  readonly global: boolean;
  readonly hash: string;
  /** IP of the machine the unit is scheduled to, when known. */
  readonly ip: string | undefined;
}

const target = (r: UnitFileRow, full: boolean): string => {
  if (r.global) return 'global';
  return r.unit.machineID === undefined || r.unit.machineID === '' ? '-' : machineLegend(r.unit.machineID, r.ip, full);
};

/**
 * `list-unit-files` fields (fleet's listUnitFilesFields); `tmachine` is fleet's deprecated `target`.
 * `reason` is ours: why the engine cannot place the unit (`-`, or `null` in JSON, when the API gives none).
 */
export const listUnitFilesFields: FieldTable<UnitFileRow> = {
  unit: { text: (r) => r.unit.name },
  global: { text: (r) => String(r.global), json: (r) => r.global },
  dstate: { text: (r) => orDash(r.unit.desiredState) },
  target: { text: target },
  tmachine: { text: target },
  state: { text: (r) => (r.global ? '-' : orDash(r.unit.currentState)) },
  hash: { text: (r, full) => hashLegend(r.hash, full) },
  desc: { text: (r) => orDash(unitDescription(r.unit.options)) },
  reason: { text: (r) => orDash(unitReason(r.unit)), json: (r) => unitReason(r.unit) ?? null },
};

const defaultListUnitFilesFields = 'unit,hash,dstate,state,target';

/** Rows sorted by unit name. */
export function unitFileRows(units: readonly ApiUnit[], ips: ReadonlyMap<string, string>): UnitFileRow[] {
  return [...units]
    .sort((a, b) => compareText(a.name, b.name))
    .map((unit) => ({
      unit,
      global: isGlobalUnit(unit),
      hash: hashUnitFile(unit.options),
      ip: unit.machineID === undefined ? undefined : ips.get(unit.machineID),
    }));
}

/** `fleetctl list-unit-files`: every unit in the registry, scheduled or not. */
export function listUnitFilesCommand(deps: CommandDeps): CommandModule<GlobalArgs, GlobalArgs & ListingArgs> {
  return {
    command: 'list-unit-files',
    describe: 'List the units that exist in the cluster.',
    builder: (y) => withListingFlags(y, defaultListUnitFilesFields, 'Unit file', 'desc,dstate,global,hash,state,target,tmachine,unit').strict(false),
    handler: async (args) => {
      const options = listingOptions(args);
      const fields = fieldsOrFail(deps, options.fields, listUnitFilesFields, (name) => {
        if (name === 'tmachine') deps.output.err('WARNING: The "tmachine" field is deprecated. Use "target" instead\n');
      });
      const client = await connect(deps, args);
      let units: ApiUnit[];
      try {
        units = await client.listUnits();
      } catch (err) {
        throw new CommandFailed([`Error retrieving list of units from repository: ${goError(err)}`], 1, { cause: err });
      }
      const legends = fields.includes('target') || fields.includes('tmachine');
      const ips = legends ? await machineIps(client).catch(() => new Map<string, string>()) : new Map<string, string>();
      deps.output.out(renderListing(unitFileRows(units, ips), listUnitFilesFields, options));
    },
  };
}
