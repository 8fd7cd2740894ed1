import type { UnitFile, UnitName } from '@fleet/core/model';

/** systemd's three state columns for one unit, verbatim (`loaded`/`active`/`running`, ...). */
export interface SystemdUnitState {
  readonly loadState: string;
  readonly activeState: string;
  readonly subState: string;
}

/**
 * Everything the agent may ask of the local init system. The only implementation that talks to a real
 * systemd is `SystemdUnitManager` (D-Bus); `InMemoryUnitManager` is its fake for unit tests.
 *
 * Errors: methods throw `SystemdError` (from `@fleet/engine`); `transient` tells whether a retry may help.
 */
export interface UnitManager {
  /**
   * Writes the unit file into the units directory and makes it visible to systemd (a runtime link);
   * a unit with an `[Install]` section is also enabled (runtime), as fleet does. Does not reload
   * systemd: call {@link reloadUnitFiles} after a batch of loads/unloads. Idempotent.
   */
  load(name: UnitName, file: UnitFile): Promise<void>;
  /** Disables the unit, removes its link and file. Does not stop the unit or reload systemd. Idempotent. */
  unload(name: UnitName): Promise<void>;
  /** systemd `Reload` (daemon-reload). */
  reloadUnitFiles(): Promise<void>;
  /** Starts the unit (`StartUnit(name, "replace")`); resolves once the job is queued, not finished. */
  start(name: UnitName): Promise<void>;
  /** Stops the unit (`StopUnit(name, "replace")`); resolves once the job is queued. */
  stop(name: UnitName): Promise<void>;
  /** Units whose files this manager holds in its units directory, with the hash of each file. */
  loadedUnits(): Promise<ReadonlyMap<UnitName, string>>;
  /** systemd states of the named units, read in one bulk call. Unknown units report `not-found`/`inactive`/`dead`. */
  unitStates(names: readonly UnitName[]): Promise<ReadonlyMap<UnitName, SystemdUnitState>>;
  /**
   * Calls `onChange` whenever systemd reports that some unit changed (job finished, properties changed).
   * A wake-up only: callers re-read states. Returns an unsubscribe function.
   */
  subscribe(onChange: () => void): () => void;
  /** Releases the bus connection. */
  close(): Promise<void>;
}
