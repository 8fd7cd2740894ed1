import { FleetError } from '@fleet/core';
import { isMachineId } from '@fleet/core/model';
import type { Argv, CommandModule } from 'yargs';
import type { FleetApiClient } from '../api-client.js';
import { isGlobalUnit } from '../unit-info.js';
import { CommandFailed, goError } from '../fleet-text.js';
import { unitNameMangle } from '../unit-source.js';
import { connect, lastNumber, lastString, unitArgs, unitsPositional } from './context.js';
import type { CommandDeps, GlobalArgs } from './context.js';

type JournalArgs = GlobalArgs & {
  units: string[] | undefined;
  lines: number;
  follow: boolean;
  machine?: string;
  output: string;
  sudo: boolean;
  'ssh-port': number;
};

/**
 * `fleetctl journal [--lines N] [-f] [--machine ID] UNIT`: the unit's log on the machine that
 * runs it, read through the API (fleet ran `journalctl` over SSH), printed line by line as it
 * arrives. `-f` keeps printing new lines until Ctrl-C, which ends the command with exit code 0.
 * The machine is the unit's; a global unit needs `--machine` (ours: full ID or unique prefix).
 * fleet's `--sudo` and `--ssh-port` are accepted and ignored, `--output` accepts only `short`.
 *
 * As in fleet, exactly one unit (`One unit file must be provided.`), which must exist (`Unit X
 * does not exist.`), not be global without `--machine` (`Unable to retrieve journal of global
 * unit X.`) and not be inactive (`Unit X does not appear to be running.`); each exit code 1.
 */
export function journalCommand(deps: CommandDeps): CommandModule<GlobalArgs, JournalArgs> {
  return {
    command: 'journal [units..]',
    describe: 'Print the journal of a unit in the cluster, from the machine that runs it (no SSH)',
    builder: (y) =>
      y
        .positional('units', { ...unitsPositional, describe: 'Unit name or file; ".service" is added to names without a unit type' })
        .option('lines', { type: 'number', coerce: lastNumber, default: 10, describe: 'Number of recent log lines to print' })
        .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'Keep printing new log lines as they come, until Ctrl-C' })
        .option('machine', { type: 'string', coerce: lastString, describe: 'Machine ID (or a unique prefix of it) whose log to read; required for global units' })
        .option('output', { type: 'string', coerce: lastString, default: 'short', describe: 'Output mode of the log; only "short" (journalctl -o short) is supported' })
        .option('sudo', { type: 'boolean', default: false, describe: 'Accepted for compatibility with fleet; ignored (no SSH)' })
        .option('ssh-port', { type: 'number', coerce: lastNumber, default: 22, describe: 'Accepted for compatibility with fleet; ignored (no SSH)' }) as Argv<JournalArgs>,
    handler: async (args) => {
      const given = unitArgs(args);
      if (given.length !== 1) throw new CommandFailed(['One unit file must be provided.']);
      const lines = args.lines;
      if (!Number.isInteger(lines) || lines < 0) {
        throw new FleetError('INVALID_REQUEST', `--lines must be a whole number >= 0, got ${String(lines)}`);
      }
      if (args.output !== 'short') throw new FleetError('INVALID_REQUEST', `--output ${args.output} is not supported: only "short" is`);
      const name = unitNameMangle(given[0] as string);
      const client = await connect(deps, args);
      const machine = await journalMachine(client, name, args.machine, deps.interactive);
      // Only a followed log waits for Ctrl-C; otherwise Ctrl-C ends fleetctl as usual.
      const interrupt = args.follow ? deps.interrupts.capture() : undefined;
      try {
        const options = { lines, follow: args.follow, ...(interrupt === undefined ? {} : { signal: interrupt.signal }) };
        for await (const line of client.unitJournal(machine, name, options)) deps.output.out(`${line}\n`);
      } finally {
        interrupt?.release();
      }
    },
  };
}

/**
 * The machine whose log of unit `name` to read: `requested` (a full ID, or a unique prefix of a
 * machine's ID), else the machine the unit is scheduled to. Throws fleet's {@link CommandFailed}
 * when the unit does not exist, is global without `--machine` (on a terminal, naming the machines
 * that report it), or is not running.
 */
async function journalMachine(client: FleetApiClient, name: string, requested: string | undefined, interactive: boolean): Promise<string> {
  let unit;
  try {
    unit = await client.getUnit(name);
  } catch (err) {
    throw new CommandFailed([`Error retrieving unit ${name}: ${goError(err)}`], 1, { cause: err });
  }
  if (unit === undefined) throw new CommandFailed([`Unit ${name} does not exist.`]);
  if (requested !== undefined) return resolveMachine(client, requested);
  if (isGlobalUnit(unit)) {
    const hint = interactive ? [await globalHint(client, name)] : [];
    throw new CommandFailed([`Unable to retrieve journal of global unit ${name}.`, ...hint]);
  }
  if (unit.currentState === 'inactive' || unit.machineID === undefined || unit.machineID === '') {
    throw new CommandFailed([`Unit ${name} does not appear to be running.`]);
  }
  return unit.machineID;
}

// Ours, on a terminal: which machines run the global unit, to pick one with --machine.
async function globalHint(client: FleetApiClient, name: string): Promise<string> {
  const states = await client.listUnitStates({ unitName: name }).catch(() => []);
  const machines = [...new Set(states.map((s) => s.machineID))].filter((m) => m !== '').sort();
  if (machines.length === 0) return `${name} runs on no machine yet; pick one with --machine`;
  return `${name} runs on every matching machine; pick one with --machine: ${machines.join(', ')}`;
}

async function resolveMachine(client: FleetApiClient, requested: string): Promise<string> {
  const wanted = requested.trim().toLowerCase();
  if (isMachineId(wanted)) return wanted;
  if (wanted === '') throw new FleetError('INVALID_REQUEST', '--machine needs a machine ID');
  const matches = (await client.listMachines()).map((m) => m.id).filter((id) => id.startsWith(wanted));
  if (matches.length === 1) return matches[0] as string;
  if (matches.length === 0) throw new FleetError('INVALID_REQUEST', `no machine ID starts with ${JSON.stringify(requested)}`);
  throw new FleetError('INVALID_REQUEST', `--machine ${requested} matches several machines: ${matches.sort().join(', ')}`);
}
