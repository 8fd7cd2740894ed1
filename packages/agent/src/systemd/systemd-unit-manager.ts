import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { InvalidUnitNameError, SystemdError, silentLogger, type Logger } from '@fleet/core';
import { hasInstallSection, parseUnitFile, serializeUnitFile, unitNameProblem, type UnitFile, type UnitName } from '@fleet/core/model';
import type { SystemdUnitState, UnitManager } from '../unit-manager.js';
import { writeFileAtomically } from './atomic-file.js';
import { LinkBatcher } from './link-batcher.js';
import { SystemdConnection } from './systemd-connection.js';
import { isNoSuchUnitError, type Systemd1 } from './systemd1.js';
import { removeWatchdogDropIn, writeWatchdogDropIn, type WatchdogBinding } from './systemd-watchdog.js';

export interface SystemdUnitManagerOptions {
  /** Where unit files are written; systemd sees them through runtime links. Must not be a systemd unit directory. */
  readonly unitsDirectory: string;
  readonly logger?: Logger | undefined;
  /**
   * Binds every unit it loads to fleetd's watchdog (a drop-in beside the unit's link), so that
   * systemd stops the units when fleetd stops answering (see `SystemdWatchdog`). Absent: unbound.
   */
  readonly watchdog?: WatchdogBinding | undefined;
}

/** Options of {@link SystemdUnitManager.connect}, which opens a connection of the manager's own. */
export interface OwnSystemdConnectionOptions extends SystemdUnitManagerOptions {
  /** D-Bus address of the bus systemd listens on (a user instance's `unix:path=…/bus`); `undefined` = the system bus. */
  readonly busAddress?: string | undefined;
  /** Deadline of one D-Bus call (default 25 s). */
  readonly callTimeoutMs?: number | undefined;
}

const notFound: SystemdUnitState = { loadState: 'not-found', activeState: 'inactive', subState: 'dead' };

/**
 * The {@link UnitManager} for a real systemd, as fleet does it: unit files live in our own directory
 * and are linked into systemd's runtime unit directory (`/run/systemd/system`, or
 * `$XDG_RUNTIME_DIR/systemd/user` for a user instance), so they vanish at reboot. A unit with an
 * `[Install]` section is also enabled, at runtime too (fleet then cannot track the units it pulls in).
 *
 * It talks over a {@link SystemdConnection} it is given (fleetd's one connection, shared with the
 * unit inspector) and does not close it. When the connection breaks, the call in flight fails with a
 * transient `SystemdError`, subscribers get a wake-up, and the next call reconnects (re-subscribing
 * signals).
 */
export class SystemdUnitManager implements UnitManager {
  readonly #connection: SystemdConnection;
  /** Whether {@link close} closes the connection too (one opened by {@link connect}). */
  readonly #ownsConnection: boolean;
  readonly #dir: string;
  readonly #log: Logger;
  readonly #watchdog: WatchdogBinding | undefined;
  readonly #listeners = new Set<() => void>();
  /** What {@link loadedUnits} last read of each file: its stat (inode, size, times) and hash. */
  readonly #fileHashes = new Map<UnitName, { readonly version: string; readonly hash: string }>();
  readonly #stopWaking: () => void;
  /** Signal setup (match rule + Subscribe) of the current connection; resolves false if it failed. */
  #signals: { readonly bus: Systemd1; readonly ready: Promise<boolean>; unwatch?: () => void } | undefined;
  #closed = false;
  /** Links of concurrent loads go to systemd in one call (see LinkBatcher). */
  readonly #links = new LinkBatcher(async (paths) => {
    await (await this.#ready()).linkUnitFiles(paths, true, true);
  });

  constructor(connection: SystemdConnection, options: SystemdUnitManagerOptions, ownsConnection = false) {
    this.#connection = connection;
    this.#ownsConnection = ownsConnection;
    this.#dir = resolve(options.unitsDirectory);
    this.#log = options.logger ?? silentLogger;
    this.#watchdog = options.watchdog;
    this.#stopWaking = connection.onLost(() => this.#wake()); // let the loop re-read now; its next call reconnects
  }

  /**
   * A manager on a connection of its own, closed with it (tests, tools). Throws a transient
   * `SystemdError` when the bus cannot be reached.
   */
  static async connect(options: OwnSystemdConnectionOptions): Promise<SystemdUnitManager> {
    const connection = await SystemdConnection.open({ busAddress: options.busAddress, callTimeoutMs: options.callTimeoutMs, logger: options.logger });
    return new SystemdUnitManager(connection, options, true);
  }

  /**
   * Writes the file and links it into the runtime unit directory; a file with an `[Install]` section is
   * also enabled (`EnableUnitFiles(path, runtime, force)`, e.g. `WantedBy=` links in
   * `<target>.wants/`), as fleet does. Replacing a file that was enabled first undoes its old links.
   *
   * Throws `InvalidUnitNameError` for a name that would not resolve to a file directly in the units
   * directory, and a terminal `SystemdError` when the `[Install]` section has no rule systemd can apply
   * (fleet refuses such units too). After a failure nothing of the unit is left behind.
   */
  async load(name: UnitName, file: UnitFile): Promise<void> {
    const path = this.#pathOf(name);
    const enable = hasInstallSection(file);
    const bus = await this.#ready();
    // A plain link does not remove the `.wants/` links of a replaced file that was enabled.
    if (await wasEnabled(path)) await this.#disable(bus, name);
    try {
      await mkdir(this.#dir, { recursive: true });
      await writeFileAtomically(path, serializeUnitFile(file));
    } catch (err) {
      throw new SystemdError(`write unit file ${path}`, false, { cause: err });
    }
    try {
      // Before the link: systemd must never see the unit without its binding.
      if (this.#watchdog !== undefined) await writeWatchdogDropIn(this.#watchdog, name);
      await this.#links.linkFile(path);
      if (enable) {
        const { carriesInstallInfo } = await bus.enableUnitFiles([path], true, true);
        if (!carriesInstallInfo) {
          throw new SystemdError(`EnableUnitFiles ${name}`, false, {
            cause: new Error('its [Install] section has no rule systemd can apply (a WantedBy=, RequiredBy= or Alias=)'),
          });
        }
      }
    } catch (err) {
      // loadedUnits() reads the directory: a file left behind unlinked (or half enabled) would look
      // loaded and the agent would never retry. A dangling link from a link that did land is harmless.
      if (enable) await this.#disable(bus, name).catch(() => undefined);
      await rm(path, { force: true }).catch(() => undefined);
      if (this.#watchdog !== undefined) await removeWatchdogDropIn(this.#watchdog, name).catch(() => undefined);
      throw err;
    }
  }

  /** Disables the unit (which removes its link and any `[Install]` links, e.g. in `<target>.wants/`), then removes the file. */
  async unload(name: UnitName): Promise<void> {
    const path = this.#pathOf(name);
    await this.#disable(await this.#ready(), name);
    try {
      await rm(path, { force: true });
    } catch (err) {
      throw new SystemdError(`remove unit file ${path}`, false, { cause: err });
    }
    if (this.#watchdog !== undefined) await removeWatchdogDropIn(this.#watchdog, name);
  }

  /**
   * Binds the units already in the units directory to the watchdog (those loaded by a fleetd that
   * had none, or whose drop-in was removed), reloading systemd once if any was missing. Returns
   * the units it bound.
   */
  async bindLoadedUnits(): Promise<UnitName[]> {
    const binding = this.#watchdog;
    if (binding === undefined) return [];
    const unbound: UnitName[] = [];
    for (const name of (await this.loadedUnits()).keys()) if (await writeWatchdogDropIn(binding, name)) unbound.push(name);
    if (unbound.length > 0) await this.reloadUnitFiles();
    return unbound;
  }

  async reloadUnitFiles(): Promise<void> {
    await (await this.#ready()).reload();
  }

  async start(name: UnitName): Promise<void> {
    await (await this.#ready()).startUnit(name, 'replace');
  }

  /** Stopping a unit systemd does not know (not loaded and inactive) succeeds: it is already stopped. */
  async stop(name: UnitName): Promise<void> {
    try {
      await (await this.#ready()).stopUnit(name, 'replace');
    } catch (err) {
      if (!isNoSuchUnitError(err)) throw err;
    }
  }

  /**
   * Files named like units in the units directory, with the SHA1 of their bytes (= `hashUnitFile`,
   * as load writes the serialised form). A file is read and hashed again only when its inode, size
   * or modification time changed since the last call: the agent and the state publisher ask at
   * every pass, and reading a hundred files each time was a good part of a pass.
   */
  async loadedUnits(): Promise<ReadonlyMap<UnitName, string>> {
    let entries;
    try {
      entries = await readdir(this.#dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw new SystemdError(`read units directory ${this.#dir}`, false, { cause: err });
    }
    const names = entries.filter((e) => e.isFile() && unitNameProblem(e.name) === undefined).map((e) => e.name as UnitName);
    const hashes = await Promise.all(names.map((name) => this.#hashOf(name)));
    const units = new Map<UnitName, string>();
    for (const [i, name] of names.entries()) {
      const hash = hashes[i];
      if (hash !== undefined) units.set(name, hash);
    }
    for (const name of this.#fileHashes.keys()) if (!units.has(name)) this.#fileHashes.delete(name);
    return units;
  }

  /** The hash of the unit file `name`, from {@link #fileHashes} while its stat is unchanged; `undefined` when it is gone. */
  async #hashOf(name: UnitName): Promise<string | undefined> {
    const path = join(this.#dir, name);
    try {
      const st = await stat(path, { bigint: true });
      const version = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
      const known = this.#fileHashes.get(name);
      if (known?.version === version) return known.hash;
      const hash = createHash('sha1').update(await readFile(path)).digest('hex');
      this.#fileHashes.set(name, { version, hash });
      return hash;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // unloaded meanwhile
      throw new SystemdError(`read unit file ${name}`, false, { cause: err });
    }
  }

  async unitStates(names: readonly UnitName[]): Promise<ReadonlyMap<UnitName, SystemdUnitState>> {
    const states = new Map<UnitName, SystemdUnitState>();
    if (names.length === 0) return states;
    const rows = await (await this.#ready()).listUnitsByNames([...new Set(names)]);
    const byName = new Map(rows.map((row) => [row.name, row]));
    for (const name of names) {
      const row = byName.get(name);
      states.set(name, row === undefined ? notFound : { loadState: row.loadState, activeState: row.activeState, subState: row.subState });
    }
    return states;
  }

  subscribe(onChange: () => void): () => void {
    this.#listeners.add(onChange);
    // Calls made after this wait for the setup (see #ready), so no signal of theirs is missed.
    const bus = this.#closed ? undefined : this.#connection.current;
    if (bus !== undefined) void this.#enableSignals(bus);
    return () => {
      this.#listeners.delete(onChange);
    };
  }

  /** Stops using the connection (and closes it if it is the manager's own). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    this.#stopWaking();
    this.#signals?.unwatch?.();
    this.#signals = undefined;
    if (this.#ownsConnection) await this.#connection.close();
  }

  /** `DisableUnitFiles(name, runtime)`: removes every runtime link to the unit. A unit not linked is fine. */
  async #disable(bus: Systemd1, name: UnitName): Promise<void> {
    try {
      await bus.disableUnitFiles([name], true);
    } catch (err) {
      if (!isNoSuchUnitError(err)) throw err; // not linked: nothing to undo
    }
  }

  /** The open connection, reconnecting if the last one broke; signals set up when someone listens. */
  async #ready(): Promise<Systemd1> {
    const closed = (): SystemdError => new SystemdError('call', false, { cause: new Error('the unit manager is closed') });
    if (this.#closed) throw closed();
    const bus = await this.#connection.bus();
    if (this.#closed) throw closed();
    if (this.#listeners.size > 0) await this.#enableSignals(bus);
    return bus;
  }

  /** Match rule first, then Subscribe, so no signal emitted after Subscribe is lost. Never rejects. */
  #enableSignals(bus: Systemd1): Promise<boolean> {
    if (this.#signals?.bus !== bus) {
      this.#signals?.unwatch?.(); // the old connection's, if it still delivers anything
      const ready = (async () => {
        const unwatch = await bus.watchSignals(() => this.#wake());
        if (this.#signals?.bus !== bus) {
          unwatch(); // the manager closed meanwhile
          return false;
        }
        this.#signals.unwatch = unwatch;
        try {
          await bus.subscribe();
        } catch (err) {
          unwatch(); // the retry registers again
          throw err;
        }
        return true;
      })().catch((err: unknown) => {
        this.#log.warn('cannot subscribe to systemd signals; relying on the poll interval', { err });
        if (this.#signals?.bus === bus) this.#signals = undefined; // retried by the next call
        return false;
      });
      this.#signals = { bus, ready };
    }
    return this.#signals.ready;
  }

  #wake(): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch (err) {
        this.#log.error('unit change listener threw', { err });
      }
    }
  }

  /** Defence in depth: names are validated upstream, but a path must never leave the units directory. */
  #pathOf(name: UnitName): string {
    const path = resolve(this.#dir, name);
    if (name.includes('\0') || dirname(path) !== this.#dir || basename(path) !== name) {
      throw new InvalidUnitNameError(name, `resolves outside the units directory ${this.#dir}`);
    }
    return path;
  }
}

/** Whether the unit file at `path` (if any) was enabled on load: it has an `[Install]` section, or cannot be read as a unit file. */
async function wasEnabled(path: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new SystemdError(`read unit file ${path}`, false, { cause: err });
  }
  try {
    return hasInstallSection(parseUnitFile(text));
  } catch {
    return true; // not ours to judge: disabling is harmless
  }
}
