import type { UnitName } from '@fleet/core/model';

/**
 * A unit's detailed status as systemd reports it (what `systemctl status` shows in its header),
 * as plain data that serialises to JSON as is. Strings are systemd's verbatim; `''` means systemd
 * reports none.
 */
export interface UnitStatusDetail {
  /** The unit's primary name; differs from the name asked for when that was an alias. */
  readonly name: string;
  readonly description: string;
  /** `loaded`, `not-found`, `bad-setting`, `error`, `masked`. A unit systemd does not know is `not-found`. */
  readonly loadState: string;
  /** `active`, `reloading`, `inactive`, `failed`, `activating`, `deactivating`. */
  readonly activeState: string;
  /** Type-specific, e.g. `running`, `exited`, `dead`, `failed`. */
  readonly subState: string;
  /** `linked-runtime` (fleet's units), `enabled-runtime` (with `[Install]`), `static`, ...; `''` for none. */
  readonly unitFileState: string;
  /** The unit file as systemd names it (for fleet's units, the link in the runtime unit directory); `''` when none. */
  readonly fragmentPath: string;
  /**
   * When the unit last entered or left the active and inactive states, in milliseconds since the
   * epoch; null = not since systemd loaded the unit (a stopped unit that systemd garbage-collected
   * reports all four as null).
   */
  readonly activeEnterTimestamp: number | null;
  readonly activeExitTimestamp: number | null;
  readonly inactiveEnterTimestamp: number | null;
  readonly inactiveExitTimestamp: number | null;
  /** The cgroup of the unit's processes, e.g. `/fleet-abc-m1/app.slice/hello.service`; null while it has none (not running, or not a service). */
  readonly controlGroup: string | null;
  /** Set for a service, null for other unit types. */
  readonly service: ServiceStatusDetail | null;
}

/** The service part of {@link UnitStatusDetail}. */
export interface ServiceStatusDetail {
  /** PID of the running main process; null when none runs. */
  readonly mainPid: number | null;
  /** `success`, `exit-code`, `signal`, `timeout`, `core-dump`, ... (systemd's `Result`). */
  readonly result: string;
  /** How the last main process ended; null while it runs or when none ran since systemd loaded the unit. */
  readonly lastExit: MainProcessExit | null;
}

/** The end of a service's main process. */
export interface MainProcessExit {
  readonly pid: number;
  /** `exited`: `status` is the exit status; `killed`/`dumped` (core dump): `status` is the signal number. */
  readonly code: 'exited' | 'killed' | 'dumped';
  readonly status: number;
}

/** Options of {@link UnitInspector.journal}. */
export interface UnitJournalOptions {
  /** How many of the most recent lines to return first; 0 = none (useful with `follow`). */
  readonly lines: number;
  /** Keep returning lines as the unit writes them, until `signal` aborts. */
  readonly follow: boolean;
  /** Aborting ends the iteration (without an error) and releases what reads the log. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Read-only views of one machine's units for `fleetctl status` and `fleetctl journal`: systemd's
 * detailed status and the unit's log. Implemented over D-Bus and journalctl by
 * `SystemdUnitInspector`. Neither method changes anything on the machine.
 *
 * Errors: methods throw `SystemdError` (from `@fleet/engine`) when systemd or the journal cannot
 * be read; `transient` tells whether a retry may help. A unit systemd does not know is not an
 * error: its status reports `loadState: 'not-found'` and its journal is empty.
 */
export interface UnitInspector {
  /** The unit's detailed status, read now (a snapshot, not a subscription). */
  status(name: UnitName): Promise<UnitStatusDetail>;
  /**
   * The unit's log lines, oldest first, formatted like `journalctl -o short`
   * (`Nov 22 02:37:09 host sh[12053]: line-1`). Without `follow` the iteration ends after the last
   * `lines` lines; with it, only when `signal` aborts. Leaving the iteration early (or aborting)
   * releases everything it holds.
   */
  journal(name: UnitName, options: UnitJournalOptions): AsyncIterable<string>;
}
