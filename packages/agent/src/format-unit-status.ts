import { constants } from 'node:os';
import type { ServiceStatusDetail, UnitStatusDetail } from './unit-inspector.js';

/**
 * Renders the header of `systemctl status NAME` (systemd 252) from a {@link UnitStatusDetail}:
 *
 * ```
 * ● hello.service - Hello World
 *      Loaded: loaded (/run/fleet/units/hello.service; linked-runtime)
 *      Active: active (running) since Sun 2026-11-22 02:37:09 UTC; 2s ago
 *    Main PID: 12053
 *      CGroup: /fleet-abc-m1/app.slice/hello.service
 * ```
 *
 * Pure: times are printed in UTC, and the relative part (`2s ago`) is computed from `now`
 * (milliseconds since the epoch). Unlike systemctl it prints no process tree, no colours and no
 * log lines. Lines are joined with `\n`, without a trailing newline.
 */
export function formatUnitStatus(detail: UnitStatusDetail, now: number): string {
  const title = detail.description === '' || detail.description === detail.name ? detail.name : `${detail.name} - ${detail.description}`;
  const lines = [`${glyph(detail.activeState)} ${title}`];
  lines.push(field('Loaded', loadedText(detail)));
  lines.push(field('Active', activeText(detail, now)));
  const mainPid = detail.service === null ? undefined : mainPidText(detail.service);
  if (mainPid !== undefined) lines.push(field('Main PID', mainPid));
  if (detail.controlGroup !== null && detail.controlGroup !== '') lines.push(field('CGroup', detail.controlGroup));
  return lines.join('\n');
}

/** systemctl's status glyph for an ActiveState (systemd's `unit_active_state_to_glyph`). */
function glyph(activeState: string): string {
  switch (activeState) {
    case 'reloading':
      return '↻';
    case 'inactive':
    case 'maintenance':
      return '○';
    case 'failed':
      return '×';
    default:
      return '●'; // active, activating, deactivating, and anything newer
  }
}

/** systemctl right-aligns its labels so that the colons line up in column 12. */
function field(label: string, value: string): string {
  return `${`${label}:`.padStart(12)} ${value}`;
}

function loadedText(detail: UnitStatusDetail): string {
  if (detail.fragmentPath === '') return detail.loadState;
  const where = detail.unitFileState === '' ? detail.fragmentPath : `${detail.fragmentPath}; ${detail.unitFileState}`;
  return `${detail.loadState} (${where})`;
}

function activeText(detail: UnitStatusDetail, now: number): string {
  // The sub-state is left out where it only repeats the state ("failed (failed)").
  let text = detail.subState === '' || detail.subState === detail.activeState ? detail.activeState : `${detail.activeState} (${detail.subState})`;
  const result = detail.service?.result ?? '';
  if (result !== '' && result !== 'success') text += ` (Result: ${result})`;
  const since = sinceTimestamp(detail);
  if (since !== null) text += ` since ${formatTimestamp(since)}; ${formatRelative(since, now)}`;
  return text;
}

/** The timestamp systemctl prints after "since": the last change into (or out of) the current state. */
function sinceTimestamp(detail: UnitStatusDetail): number | null {
  switch (detail.activeState) {
    case 'active':
    case 'reloading':
      return detail.activeEnterTimestamp;
    case 'inactive':
    case 'failed':
      return detail.inactiveEnterTimestamp;
    case 'activating':
      return detail.inactiveExitTimestamp;
    default:
      return detail.activeExitTimestamp;
  }
}

function mainPidText(service: ServiceStatusDetail): string | undefined {
  if (service.mainPid !== null) return String(service.mainPid);
  const exit = service.lastExit;
  if (exit === null) return undefined;
  const how = exit.code === 'exited' ? `status=${exitStatusText(exit.status)}` : `signal=${signalName(exit.status)}`;
  return `${exit.pid} (code=${exit.code}, ${how})`;
}

/** The exit statuses systemctl names in "Main PID" (a few of systemd's own 2xx codes included). */
const exitStatusNames: Readonly<Record<number, string>> = {
  0: 'SUCCESS',
  1: 'FAILURE',
  200: 'CHDIR',
  203: 'EXEC',
  209: 'STDOUT',
  217: 'USER',
};

function exitStatusText(status: number): string {
  const name = exitStatusNames[status];
  return name === undefined ? String(status) : `${status}/${name}`;
}

const signalNames = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name.replace(/^SIG/, '')]));

function signalName(signal: number): string {
  return signalNames.get(signal) ?? String(signal);
}

const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** `Sun 2026-11-22 02:37:09 UTC`: systemd's default timestamp style, in UTC. */
export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  const date = `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  return `${weekdays[d.getUTCDay()] ?? ''} ${date} ${time} UTC`;
}

const second = 1_000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;
const week = 7 * day;
// systemd's month and year: 30.44 and 365.25 days.
const month = 2_629_800 * second;
const year = 31_557_600 * second;

/** systemd's `format_timestamp_relative`, to the millisecond: `2s ago`, `1min 30s ago`, `3 days left`. */
export function formatRelative(ms: number, now: number): string {
  const future = ms > now;
  const d = Math.abs(now - ms);
  const suffix = future ? 'left' : 'ago';
  const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
  const whole = (unit: number): number => Math.floor(d / unit);
  const rest = (unit: number, sub: number): number => Math.floor((d % unit) / sub);
  if (d >= year) return `${plural(whole(year), 'year', 'years')} ${plural(rest(year, month), 'month', 'months')} ${suffix}`;
  if (d >= month) return `${plural(whole(month), 'month', 'months')} ${plural(rest(month, day), 'day', 'days')} ${suffix}`;
  if (d >= week) return `${plural(whole(week), 'week', 'weeks')} ${plural(rest(week, day), 'day', 'days')} ${suffix}`;
  if (d >= 2 * day) return `${whole(day)} days ${suffix}`;
  if (d >= 25 * hour) return `1 day ${rest(day, hour)}h ${suffix}`;
  if (d >= 6 * hour) return `${whole(hour)}h ${suffix}`;
  if (d >= hour) return `${whole(hour)}h ${rest(hour, minute)}min ${suffix}`;
  if (d >= 5 * minute) return `${whole(minute)}min ${suffix}`;
  if (d >= minute) return `${whole(minute)}min ${rest(minute, second)}s ${suffix}`;
  if (d >= second) return `${whole(second)}s ${suffix}`;
  if (d > 0) return `${d}ms ${suffix}`;
  return 'now';
}
