import type { Argv, CommandModule } from 'yargs';
import type { FleetApiClient } from '../api-client.js';
import { machineIps } from '../machine-directory.js';
import { machineLegend } from '../output.js';
import { formatStatusText, statusJson } from '../status-format.js';
import type { MachineLegend } from '../status-format.js';
import { collectUnitStatus, withSystemdReports } from '../unit-status.js';
import type { UnitStatus } from '../unit-status.js';
import { CommandFailed, goError } from '../fleet-text.js';
import { unitNameMangle } from '../unit-source.js';
import { connect, lastString, lastNumber, unitArgs, unitsPositional } from './context.js';
import type { CommandDeps, GlobalArgs } from './context.js';

/** `fleetctl status -o`: the text blocks, or a JSON array. */
const statusFormats = ['text', 'json'] as const;
type StatusFormat = (typeof statusFormats)[number];

type StatusArgs = GlobalArgs & { units: string[] | undefined; output: string; full: boolean; 'ssh-port': number };

/**
 * `fleetctl status UNIT...`: what the cluster knows about each unit, from the API alone (fleet's
 * `status` runs `systemctl status` over SSH instead). For each unit, in argument order, a block
 * (see `formatStatusBlock`): fleet's view, then systemd's status from each machine that reports
 * the unit (read through the API, which forwards to that machine's fleetd). A machine whose
 * systemd status cannot be read gets one line `systemd status unavailable: <message>` and does not
 * change the exit code.
 *
 * As in fleet, the first unit that does not exist (`Unit X does not exist.`) or is not global and
 * currently inactive (`Unit X does not appear to be loaded.`) ends the command with exit code 1,
 * after the blocks of the units before it; on a terminal, the API's reason why such a unit is not
 * scheduled follows. With `-o json` (ours), every unit that exists is in the JSON array, and each
 * unit that does not is named on stderr after it (exit code 1).
 *
 * The data comes through `FleetApiClient` only (`collectUnitStatus`, `withSystemdReports`) and
 * rendering is pure (`status-format.ts`).
 */
export function statusCommand(deps: CommandDeps): CommandModule<GlobalArgs, StatusArgs> {
  return {
    command: 'status [units..]',
    describe: 'Output the status of one or more units in the cluster',
    builder: (y) =>
      y
        .positional('units', unitsPositional)
        .option('output', { alias: 'o', type: 'string', coerce: lastString, choices: statusFormats, default: 'text', describe: 'Output format (ours: fleet prints systemctl status)' })
        .option('full', { alias: 'l', type: 'boolean', default: false, describe: 'Print full machine IDs (ours)' })
        .option('ssh-port', { type: 'number', coerce: lastNumber, default: 22, describe: 'Connect to remote hosts over SSH using this TCP port. (accepted for compatibility; unused: fleetctl does not use SSH)' }) as Argv<StatusArgs>,
    handler: async (args) => {
      const names = unitArgs(args).map((arg) => unitNameMangle(arg));
      if (names.length === 0) return;
      const client = await connect(deps, args);
      const json = (args.output as StatusFormat) === 'json';
      const found: UnitStatus[] = [];
      const missing: string[] = [];
      let failure: CommandFailed | undefined;
      for (const name of json ? [...new Set(names)] : names) {
        let status: UnitStatus | undefined;
        try {
          status = await collectUnitStatus(client, name);
        } catch (err) {
          failure = new CommandFailed([`Error retrieving unit: ${goError(err)}`], 1, { cause: err });
          break;
        }
        if (status === undefined && json) missing.push(name);
        else if (status === undefined) failure = new CommandFailed([`Unit ${name} does not exist.`]);
        else if (!json && !status.global && status.currentState === 'inactive') failure = notLoaded(deps, status);
        else found.push(await withSystemdReports(client, status));
        if (failure !== undefined) break;
      }
      if (json) deps.output.out(`${JSON.stringify(statusJson(found), null, 2)}\n`);
      else if (found.length > 0) deps.output.out(formatStatusText(found, await machineLegends(client, found, args.full)));
      if (failure !== undefined) throw failure;
      if (missing.length > 0) throw new CommandFailed(missing.map((name) => `Unit ${name} does not exist.`));
    },
  };
}

/** fleet's `Unit X does not appear to be loaded.`, and on a terminal why it is not scheduled. */
function notLoaded(deps: CommandDeps, status: UnitStatus): CommandFailed {
  const line = `Unit ${status.unit} does not appear to be loaded.`;
  const why = deps.interactive && status.reason !== undefined ? [`${status.unit} is not scheduled: ${status.reason}`] : [];
  return new CommandFailed([line, ...why]);
}

// Looks up the IPs of every machine the blocks name (one machine list, best effort) up front,
// so that rendering stays synchronous.
async function machineLegends(client: FleetApiClient, statuses: readonly UnitStatus[], full: boolean): Promise<MachineLegend> {
  const named = statuses.some((s) => (!s.global && s.machine !== undefined) || s.states.some((state) => state.machine !== ''));
  const ips = named ? await machineIps(client).catch(() => new Map<string, string>()) : new Map<string, string>();
  return (id) => machineLegend(id, ips.get(id), full);
}
