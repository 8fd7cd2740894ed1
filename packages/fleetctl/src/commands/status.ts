import { FleetError } from '@fleet/engine';
import type { Argv, CommandModule } from 'yargs';
import type { FleetApiClient } from '../api-client.js';
import { machineIps } from '../machine-directory.js';
import { machineLegend } from '../output.js';
import { formatStatusText, statusJson } from '../status-format.js';
import type { MachineLegend } from '../status-format.js';
import { collectUnitStatus, withSystemdReports } from '../unit-status.js';
import type { UnitStatus } from '../unit-status.js';
import { unitNameFromArg } from '../unit-source.js';
import { lastString, lastNumber, unitArgs, unitsPositional } from './context.js';
import type { CommandDeps, GlobalArgs } from './context.js';

/** `fleetctl status -o`: the text blocks, or a JSON array. */
const statusFormats = ['text', 'json'] as const;
type StatusFormat = (typeof statusFormats)[number];

type StatusArgs = GlobalArgs & { units: string[]; output: string; full: boolean; 'ssh-port': number };

/**
 * `fleetctl status UNIT...`: what the cluster knows about each unit, from the API alone (fleet's
 * `status` runs `systemctl status` over SSH instead). For each unit, in argument order, a block
 * (see `formatStatusBlock`): fleet's view, then systemd's status from each machine that reports
 * the unit (read through the API, which forwards to that machine's fleetd); with `-o json`, one
 * object of a JSON array. A machine whose systemd status cannot be read gets one line
 * `systemd status unavailable: <message>` and does not change the exit code. Units that do not
 * exist are reported after the others by one error, `unit X does not exist` (exit code 1).
 *
 * The data comes through `FleetApiClient` only (`collectUnitStatus`, `withSystemdReports`) and
 * rendering is pure (`status-format.ts`).
 */
export function statusCommand(deps: CommandDeps): CommandModule<GlobalArgs, StatusArgs> {
  return {
    command: 'status <units..>',
    describe: 'Output the status of one or more units in the cluster (from the fleet API, no SSH)',
    builder: (y) =>
      y
        .positional('units', unitsPositional)
        .option('output', { alias: 'o', type: 'string', coerce: lastString, choices: statusFormats, default: 'text', describe: 'Output format' })
        .option('full', { alias: 'l', type: 'boolean', default: false, describe: 'Print full machine IDs' })
        .option('ssh-port', { type: 'number', coerce: lastNumber, default: 22, describe: 'Accepted for compatibility with fleet; ignored (no SSH)' }) as Argv<StatusArgs>,
    handler: async (args) => {
      const names = [...new Set(unitArgs(args).map((arg) => unitNameFromArg(arg)))];
      const client = await deps.client(args);
      const found: UnitStatus[] = [];
      const missing: string[] = [];
      for (const name of names) {
        const status = await collectUnitStatus(client, name);
        if (status === undefined) missing.push(name);
        else found.push(await withSystemdReports(client, status));
      }
      if ((args.output as StatusFormat) === 'json') {
        deps.output.out(`${JSON.stringify(statusJson(found), null, 2)}\n`);
      } else if (found.length > 0) {
        const legend = await machineLegends(client, found, args.full);
        deps.output.out(formatStatusText(found, legend));
      }
      if (missing.length > 0) throw new FleetError('UNIT_NOT_FOUND', notFoundMessage(missing));
    },
  };
}

/** `unit X does not exist`, or `units X, Y do not exist`. */
function notFoundMessage(missing: readonly string[]): string {
  return missing.length === 1 ? `unit ${missing[0] ?? ''} does not exist` : `units ${missing.join(', ')} do not exist`;
}

// Looks up the IPs of every machine the blocks name (one machine list, best effort) up front,
// so that rendering stays synchronous.
async function machineLegends(client: FleetApiClient, statuses: readonly UnitStatus[], full: boolean): Promise<MachineLegend> {
  const named = statuses.some((s) => (!s.global && s.machine !== undefined) || s.states.some((state) => state.machine !== ''));
  const ips = named ? await machineIps(client).catch(() => new Map<string, string>()) : new Map<string, string>();
  return (id) => machineLegend(id, ips.get(id), full);
}
