import { orDash } from './output.js';
import type { SystemdReport, UnitStatus } from './unit-status.js';

/** Turns a full machine ID into its legend (`c31e44e1.../10.10.1.1`). */
export type MachineLegend = (machineId: string) => string;

// Values start in the same column: "   State:   loaded ..." lines up with "   Desired: ...".
const indent = '   ';
const valueColumn = `${indent}         `;

/**
 * One unit's block of `fleetctl status`, each line ending in `\n`:
 *
 * ```text
 * ● hello.service - Hello World
 *    Desired: launched   Current: launched
 *    Machine: c31e44e1.../10.10.1.1
 *    Reason:  3 machines: 2 rejected by MachineMetadata rack=r3, 1 by Conflicts=db*
 *    State:   loaded active running on c31e44e1.../10.10.1.1
 *             loaded inactive dead on 595989bb.../10.10.1.2
 * ```
 *
 * ` - <description>` is left out when the unit has none; `Machine:` is `global` for global units
 * and `-` when the unit is not scheduled; the `Reason:` line appears only when the API gives one;
 * `State:` has one line per machine reporting the unit, or says `no state reported`.
 *
 * When `status.systemd` is set, each machine's report follows (in the order of the `State:`
 * lines), after one empty line: systemd's text as the machine rendered it, or one line
 * `   systemd status unavailable: <message>`; when there are several (a global unit), each is
 * headed by `   on <machine>:`:
 *
 * ```text
 *
 * ● hello.service - Hello World
 *      Loaded: loaded (/run/fleet/units/hello.service; linked-runtime)
 *      Active: active (running) since Sun 2026-11-22 02:37:09 UTC; 2s ago
 * ```
 */
export function formatStatusBlock(status: UnitStatus, legend: MachineLegend): string {
  const title = status.description === undefined ? status.unit : `${status.unit} - ${oneLine(status.description)}`;
  const machine = status.global ? 'global' : status.machine === undefined ? '-' : legend(status.machine);
  const lines = [
    `● ${title}`,
    `${indent}Desired: ${orDash(status.desiredState)}   Current: ${orDash(status.currentState)}`,
    `${indent}Machine: ${machine}`,
  ];
  if (status.reason !== undefined) lines.push(`${indent}Reason:  ${oneLine(status.reason)}`);
  const states = status.states.map(
    (s) => `${orDash(s.load)} ${orDash(s.active)} ${orDash(s.sub)} on ${s.machine === '' ? '-' : legend(s.machine)}`,
  );
  const [first = 'no state reported', ...rest] = states;
  lines.push(`${indent}State:   ${first}`, ...rest.map((line) => `${valueColumn}${line}`));
  const reports = status.systemd ?? [];
  for (const report of reports) {
    // A unit on several machines (a global one) gets one section per machine: name the machine.
    const header = reports.length > 1 ? [`${indent}on ${legend(report.machine)}:`] : [];
    lines.push('', ...header, ...systemdLines(report));
  }
  return lines.map((line) => `${line}\n`).join('');
}

function systemdLines(report: SystemdReport): string[] {
  if (!report.ok) return [`${indent}systemd status unavailable: ${oneLine(report.error)}`];
  // As the machine rendered it, minus trailing line breaks (each line gets its own).
  return report.text.replace(/[\r\n]+$/, '').split(/\r?\n/);
}

/** The blocks of several units, separated by an empty line (as `systemctl status` does). */
export function formatStatusText(statuses: readonly UnitStatus[], legend: MachineLegend): string {
  return statuses.map((s) => formatStatusBlock(s, legend)).join('\n');
}

/** One unit in `fleetctl status -o json`. Machine IDs are full; "none" is `null`. */
export interface StatusJson {
  unit: string;
  description: string | null;
  desiredState: string;
  currentState: string;
  machine: string | null;
  global: boolean;
  reason: string | null;
  states: { machine: string; load: string; active: string; sub: string; hash: string }[];
  /**
   * systemd's status from each machine of `states` (when it was read): its text and data, or
   * `text` and `unit` `null` and the `error` that kept it from being read.
   */
  systemd?: { machine: string; text: string | null; unit: unknown; error: string | null }[];
}

/** The JSON objects of `fleetctl status -o json`, in the order given. */
export function statusJson(statuses: readonly UnitStatus[]): StatusJson[] {
  return statuses.map((s) => ({
    unit: s.unit,
    description: s.description ?? null,
    desiredState: s.desiredState,
    currentState: s.currentState,
    machine: s.machine ?? null,
    global: s.global,
    reason: s.reason ?? null,
    states: s.states.map(({ machine, load, active, sub, hash }) => ({ machine, load, active, sub, hash })),
    ...(s.systemd === undefined ? {} : { systemd: s.systemd.map(systemdJson) }),
  }));
}

function systemdJson(report: SystemdReport): NonNullable<StatusJson['systemd']>[number] {
  return report.ok
    ? { machine: report.machine, text: report.text, unit: report.unit, error: null }
    : { machine: report.machine, text: null, unit: null, error: report.error };
}

// A line break or TAB in a description or reason would break the block.
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').replace(/\t/g, ' ');
}
