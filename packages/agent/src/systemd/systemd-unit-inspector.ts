import { SystemdError } from '@fleet/core';
import type { UnitName } from '@fleet/core/model';
import type { MainProcessExit, UnitInspector, UnitJournalOptions, UnitStatusDetail } from '../unit-inspector.js';
import { readJournal } from './journal-reader.js';
import type { SystemdConnection } from './systemd-connection.js';
import type { Systemd1, UnitProperties } from './systemd1.js';

/**
 * How journal entries are attributed to a unit:
 * - `unit-name`: `journalctl -u NAME`, for the system instance of a production host;
 * - `control-group`: `journalctl _SYSTEMD_CGROUP=<the unit's cgroup>`, for a user instance that
 *   runs outside `user@.service` (the local cluster, the tests), whose units journald cannot name.
 */
export type JournalMatch = 'unit-name' | 'control-group';

export interface SystemdUnitInspectorOptions {
  /** Default `unit-name`; a user instance in its own cgroup needs `control-group`. */
  readonly journalMatch?: JournalMatch | undefined;
  /** The journalctl binary; default `journalctl` from PATH. */
  readonly journalctl?: string | undefined;
}

/**
 * The {@link UnitInspector} of a real systemd: status over D-Bus (`Systemd1.getUnitProperties`),
 * logs through journalctl ({@link readJournal}). It shares fleetd's {@link SystemdConnection} with
 * the unit manager and does not close it; after the connection broke, the failed call throws a
 * transient `SystemdError` and the next one reconnects.
 */
export class SystemdUnitInspector implements UnitInspector {
  readonly #connection: SystemdConnection;
  readonly #options: SystemdUnitInspectorOptions;
  /** The manager's cgroup, per connection (it does not change while systemd runs). */
  #managerCgroup: { readonly bus: Systemd1; readonly value: Promise<string> } | undefined;
  #closed = false;

  constructor(connection: SystemdConnection, options: SystemdUnitInspectorOptions = {}) {
    this.#connection = connection;
    this.#options = options;
  }

  async status(name: UnitName): Promise<UnitStatusDetail> {
    return toUnitStatusDetail(await (await this.#ready()).getUnitProperties(name));
  }

  /**
   * With `journalMatch: 'control-group'` the cgroup is the unit's `ControlGroup`; a unit that does
   * not run has none, so it is derived the way systemd names it: the manager's cgroup, the slice
   * path and the unit name (the journal keeps the lines of the unit's last run under that path).
   */
  async *journal(name: UnitName, options: UnitJournalOptions): AsyncGenerator<string, void, undefined> {
    let cgroup: string | undefined;
    if (this.#options.journalMatch === 'control-group') {
      const bus = await this.#ready();
      const props = await bus.getUnitProperties(name);
      cgroup = props.service?.controlGroup || unitControlGroup(await this.#managerControlGroup(bus), props.service?.slice || 'app.slice', props.id);
    }
    yield* readJournal({ unit: name, cgroup, lines: options.lines, follow: options.follow, signal: options.signal, journalctl: this.#options.journalctl });
  }

  /** Stops using the connection (its owner closes it). Later calls throw a terminal `SystemdError`. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#managerCgroup = undefined;
  }

  #managerControlGroup(bus: Systemd1): Promise<string> {
    if (this.#managerCgroup?.bus !== bus) this.#managerCgroup = { bus, value: bus.getManagerControlGroup() };
    const entry = this.#managerCgroup;
    // A failed read is not cached: the next call asks again.
    entry.value.catch(() => {
      if (this.#managerCgroup === entry) this.#managerCgroup = undefined;
    });
    return entry.value;
  }

  async #ready(): Promise<Systemd1> {
    const closed = (): SystemdError => new SystemdError('call', false, { cause: new Error('the unit inspector is closed') });
    if (this.#closed) throw closed();
    const bus = await this.#connection.bus();
    if (this.#closed) throw closed();
    return bus;
  }
}

/** D-Bus properties to the plain {@link UnitStatusDetail}: µs timestamps to ms (0 = never → null), PID 0 → null. Pure. */
export function toUnitStatusDetail(props: UnitProperties): UnitStatusDetail {
  const ms = (us: number): number | null => (us > 0 ? Math.floor(us / 1000) : null);
  const service = props.service;
  return {
    name: props.id,
    description: props.description,
    loadState: props.loadState,
    activeState: props.activeState,
    subState: props.subState,
    unitFileState: props.unitFileState,
    fragmentPath: props.fragmentPath,
    activeEnterTimestamp: ms(props.activeEnterTimestamp),
    activeExitTimestamp: ms(props.activeExitTimestamp),
    inactiveEnterTimestamp: ms(props.inactiveEnterTimestamp),
    inactiveExitTimestamp: ms(props.inactiveExitTimestamp),
    controlGroup: service === undefined || service.controlGroup === '' ? null : service.controlGroup,
    service:
      service === undefined
        ? null
        : {
            mainPid: service.mainPid > 0 ? service.mainPid : null,
            result: service.result,
            lastExit: service.mainPid > 0 ? null : mainProcessExit(service.execMainPid, service.execMainCode, service.execMainStatus),
          },
  };
}

/** waitid's si_code values systemd reports in ExecMainCode. */
const exitCodes: Readonly<Record<number, MainProcessExit['code']>> = { 1: 'exited', 2: 'killed', 3: 'dumped' };

function mainProcessExit(pid: number, code: number, status: number): MainProcessExit | null {
  const kind = exitCodes[code];
  return pid > 0 && kind !== undefined ? { pid, code: kind, status } : null;
}

/**
 * The cgroup systemd gives `unit` in `slice` under a manager whose own cgroup is `managerCgroup`:
 * `/fleet-abc-m1` + `app.slice` + `hello.service` → `/fleet-abc-m1/app.slice/hello.service`. A
 * nested slice `a-b.slice` is `a.slice/a-b.slice`; the root slice `-.slice` adds nothing. Pure.
 * (systemd also escapes names that clash with cgroupfs files, e.g. ones starting with `_` or `.`;
 * fleet's unit names never need it, so this does not.)
 */
export function unitControlGroup(managerCgroup: string, slice: string, unit: string): string {
  const parts = [managerCgroup.replace(/\/+$/, ''), ...slicePath(slice), unit];
  return parts.join('/').replace(/^(?!\/)/, '/');
}

function slicePath(slice: string): string[] {
  if (slice === '' || slice === '-.slice') return [];
  const base = slice.replace(/\.slice$/, '');
  const dashes = base.split('-');
  return dashes.map((_, i) => `${dashes.slice(0, i + 1).join('-')}.slice`);
}
