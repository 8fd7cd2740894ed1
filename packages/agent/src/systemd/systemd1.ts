import { EventEmitter } from 'node:events';
import { Message, MessageType, sessionBus, systemBus, Variant, type MessageBus } from '@jellybrick/dbus-next';
import { SystemdError } from '@fleet/core';
import { dbusErrorName, DBusDisconnectedError, DBusTimeoutError, errorsOf, isNoSuchUnitError, malformed, parseChanges, PropertyBag, toSystemdError } from './dbus-replies.js';

export { dbusErrorName, isNoSuchUnitError } from './dbus-replies.js';

// Every D-Bus name the project uses lives in this file, but for error names (dbus-replies.ts).
const systemdService = 'org.freedesktop.systemd1';
const managerPath = '/org/freedesktop/systemd1';
const managerInterface = 'org.freedesktop.systemd1.Manager';
const unitPathPrefix = '/org/freedesktop/systemd1/unit/';
const propertiesInterface = 'org.freedesktop.DBus.Properties';
const unitInterface = 'org.freedesktop.systemd1.Unit';
const serviceInterface = 'org.freedesktop.systemd1.Service';
const alreadySubscribed = 'org.freedesktop.systemd1.AlreadySubscribed';


/** How systemd queues a job; fleet always uses `replace`. */
export type JobMode = 'replace' | 'fail' | 'isolate' | 'ignore-dependencies' | 'ignore-requirements';

/** One row of `ListUnitsByNames`: systemd's three state columns, verbatim. */
export interface UnitRow {
  readonly name: string;
  readonly loadState: string;
  readonly activeState: string;
  readonly subState: string;
}

/** One change reported by `LinkUnitFiles`/`EnableUnitFiles`/`DisableUnitFiles` (`symlink`/`unlink`, path, link target). */
export interface UnitFileChange {
  readonly type: string;
  readonly path: string;
  readonly source: string;
}

/**
 * A unit's detailed status, read from its D-Bus object (`org.freedesktop.systemd1.Unit`, plus
 * `org.freedesktop.systemd1.Service` for a service), as `systemctl status` shows it. Strings are
 * systemd's verbatim; an unset string is `''`. Timestamps are microseconds since the epoch
 * (CLOCK_REALTIME), 0 = never since systemd loaded the unit.
 */
export interface UnitProperties {
  /** The unit's primary name (`Id`); differs from the name asked for when that was an alias. */
  readonly id: string;
  readonly description: string;
  readonly loadState: string;
  readonly activeState: string;
  readonly subState: string;
  /** `linked-runtime`, `enabled-runtime`, `static`, ...; `''` for a unit without a file. */
  readonly unitFileState: string;
  /** The unit file systemd loaded (a link's target is not resolved); `''` when none. */
  readonly fragmentPath: string;
  readonly activeEnterTimestamp: number;
  readonly activeExitTimestamp: number;
  readonly inactiveEnterTimestamp: number;
  readonly inactiveExitTimestamp: number;
  /** Set when the unit is a service (its name ends in `.service`), else undefined. */
  readonly service: ServiceProperties | undefined;
}

/** The `org.freedesktop.systemd1.Service` properties of {@link UnitProperties}. */
export interface ServiceProperties {
  /** PID of the running main process; 0 when none runs. */
  readonly mainPid: number;
  /** PID of the last main process started (kept after it exits); 0 when none was. */
  readonly execMainPid: number;
  /** How the last main process ended, as waitid's `si_code`: 0 = still running or never ran, 1 CLD_EXITED, 2 CLD_KILLED, 3 CLD_DUMPED. */
  readonly execMainCode: number;
  /** Its exit status (CLD_EXITED) or signal number (CLD_KILLED, CLD_DUMPED). */
  readonly execMainStatus: number;
  /** `success`, `exit-code`, `signal`, `timeout`, `core-dump`, ... */
  readonly result: string;
  /** The unit's cgroup path as systemd names it (e.g. `/fleet-abc-m1/app.slice/hello.service`); `''` while it has none (not running). */
  readonly controlGroup: string;
  /** The slice the unit belongs to, e.g. `app.slice` (also while the unit does not run). */
  readonly slice: string;
}

/** A systemd signal, reduced to what a wake-up needs. Never carries state to act on: re-read it. */
export type Systemd1Signal =
  | { readonly kind: 'job-removed'; readonly unit: string; readonly result: string }
  | { readonly kind: 'properties-changed'; readonly path: string };

export interface Systemd1Options {
  /** A D-Bus address such as `unix:path=/run/user/1000/bus`; `undefined` means the system bus. */
  readonly busAddress?: string | undefined;
  /** Deadline of one method call. dbus-next has none of its own; 25 s is the D-Bus default. */
  readonly callTimeoutMs?: number | undefined;
  /** Deadline for the socket, authentication and `Hello`. */
  readonly connectTimeoutMs?: number | undefined;
}

/**
 * A typed facade over `org.freedesktop.systemd1.Manager` on one D-Bus connection: the only code that
 * knows dbus-next. Values are plain (no Variants, no proxies); every failure is a `SystemdError`
 * whose `transient` is true for a lost connection, a timeout or a bus that does not answer.
 *
 * A connection that breaks stays broken: {@link isOpen} turns false, pending and later calls fail
 * with a transient error, and the owner opens a new one. (dbus-next itself would leave calls
 * pending forever after the socket ends.)
 */
export class Systemd1 {
  readonly #bus: MessageBus;
  readonly #callTimeoutMs: number;
  readonly #signalListeners = new Set<(signal: Systemd1Signal) => void>();
  readonly #closeListeners = new Set<(cause: Error) => void>();
  /** Rejects once, when the connection ends; raced against every call. */
  readonly #closed: Promise<never>;
  #markClosed: (cause: Error) => void = () => undefined;
  #open = true;
  #matchRule: Promise<void> | undefined;

  private constructor(bus: MessageBus, callTimeoutMs: number) {
    this.#bus = bus;
    this.#callTimeoutMs = callTimeoutMs;
    this.#closed = new Promise<never>((_, reject) => {
      this.#markClosed = (cause) => {
        if (!this.#open) return;
        this.#open = false;
        reject(cause);
        for (const listener of this.#closeListeners) listener(cause);
        this.#closeListeners.clear();
      };
    });
    this.#closed.catch(() => undefined); // observed by the calls that race it, if any
    // Any bus error after connect (socket reset, garbage on the wire) ends this connection: a fresh
    // one is cheap and leaves no doubt about which replies and signals were lost.
    errorsOf(bus).on('error', (err: unknown) => {
      this.#markClosed(new DBusDisconnectedError('the D-Bus connection failed', { cause: err }));
      bus.disconnect();
    });
    // dbus-next does not forward the socket's end to the MessageBus; its internal connection emits it.
    const connection = (bus as unknown as { _connection?: unknown })._connection;
    if (connection instanceof EventEmitter) {
      connection.on('end', () => this.#markClosed(new DBusDisconnectedError('the D-Bus connection was closed by the peer')));
    }
    bus.on('message', (message: Message) => this.#dispatchSignal(message));
  }

  /** Connects and authenticates. Throws a transient `SystemdError` when the bus cannot be reached. */
  static async connect(options: Systemd1Options = {}): Promise<Systemd1> {
    const bus = options.busAddress === undefined ? systemBus() : sessionBus({ busAddress: options.busAddress });
    const where = options.busAddress ?? 'the system bus';
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    let onError: ((err: unknown) => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        // Without an 'error' listener a failed connect would crash the process (EventEmitter rule).
        onError = (err) => reject(err);
        errorsOf(bus).once('error', onError);
        bus.once('connect', () => resolve());
        timer = setTimeout(() => reject(new DBusTimeoutError(`no answer from ${where} within ${timeoutMs} ms`)), timeoutMs);
      });
    } catch (err) {
      // The socket may still report an error after we gave up; keep it from crashing the process.
      errorsOf(bus).on('error', () => undefined);
      bus.disconnect();
      throw toSystemdError(`connect to ${where}`, err);
    } finally {
      clearTimeout(timer);
      if (onError !== undefined) errorsOf(bus).off('error', onError);
    }
    return new Systemd1(bus, options.callTimeoutMs ?? 25_000);
  }

  /** False once the connection has ended; every call then fails with a transient `SystemdError`. */
  get isOpen(): boolean {
    return this.#open;
  }

  /** Runs `listener` once when the connection ends (not after {@link close}). */
  onClose(listener: (cause: Error) => void): void {
    if (this.#open) this.#closeListeners.add(listener);
  }

  /** `Manager.Subscribe`: asks systemd to emit its signals (JobRemoved needs it). Idempotent. */
  async subscribe(): Promise<void> {
    try {
      await this.#call('Subscribe', '', []);
    } catch (err) {
      if (dbusErrorName(err) !== alreadySubscribed) throw err;
    }
  }

  /** `Manager.Reload` (daemon-reload); resolves when systemd has re-read its unit files. */
  async reload(): Promise<void> {
    await this.#call('Reload', '', []);
  }

  /** `Manager.LinkUnitFiles`: symlinks unit files (absolute paths) into the (runtime) unit directory. */
  async linkUnitFiles(paths: readonly string[], runtime: boolean, force: boolean): Promise<UnitFileChange[]> {
    const body = await this.#call('LinkUnitFiles', 'asbb', [[...paths], runtime, force]);
    return parseChanges('LinkUnitFiles', body[0]);
  }

  /**
   * `Manager.EnableUnitFiles`: creates the links the files' `[Install]` sections ask for (`WantedBy=` →
   * `<target>.wants/`, `RequiredBy=`, `Alias=`, `Also=`), in the runtime directory when `runtime`.
   * `files` are unit names or absolute paths; a path also links the file itself. `carriesInstallInfo`
   * is false when the files have no `[Install]` rules systemd can apply (then nothing is enabled).
   */
  async enableUnitFiles(files: readonly string[], runtime: boolean, force: boolean): Promise<{ carriesInstallInfo: boolean; changes: UnitFileChange[] }> {
    const body = await this.#call('EnableUnitFiles', 'asbb', [[...files], runtime, force]);
    const [carriesInstallInfo, changes] = body;
    if (typeof carriesInstallInfo !== 'boolean') throw malformed('EnableUnitFiles', body);
    return { carriesInstallInfo, changes: parseChanges('EnableUnitFiles', changes) };
  }

  /**
   * `Manager.GetUnitFileState`: `enabled`, `enabled-runtime`, `linked`, `linked-runtime`, `static`,
   * `disabled`, ... as `systemctl is-enabled` shows it, read from disk (no reload needed). Throws a
   * `NoSuchUnit`-like error (`org.freedesktop.DBus.Error.FileNotFound`) when systemd finds no file.
   */
  async getUnitFileState(name: string): Promise<string> {
    const body = await this.#call('GetUnitFileState', 's', [name]);
    if (typeof body[0] !== 'string') throw malformed('GetUnitFileState', body);
    return body[0];
  }

  /** `Manager.DisableUnitFiles`: removes every link to the named units (also `.wants/` links). Throws a `NoSuchUnit` error (see {@link isNoSuchUnitError}) when a name is not linked. */
  async disableUnitFiles(names: readonly string[], runtime: boolean): Promise<UnitFileChange[]> {
    const body = await this.#call('DisableUnitFiles', 'asb', [[...names], runtime]);
    return parseChanges('DisableUnitFiles', body[0]);
  }

  /** `Manager.StartUnit`; resolves with the job's object path once the job is queued. */
  async startUnit(name: string, mode: JobMode): Promise<string> {
    return String((await this.#call('StartUnit', 'ss', [name, mode]))[0]);
  }

  /** `Manager.StopUnit`. Throws `NoSuchUnit` for a unit that is neither loaded nor active. */
  async stopUnit(name: string, mode: JobMode): Promise<string> {
    return String((await this.#call('StopUnit', 'ss', [name, mode]))[0]);
  }

  /**
   * `Manager.ListUnitsByNames`: one row per name systemd accepts; unknown units come back as
   * `not-found`, names systemd considers invalid are left out.
   */
  async listUnitsByNames(names: readonly string[]): Promise<UnitRow[]> {
    const body = await this.#call('ListUnitsByNames', 'as', [[...names]]);
    const rows = body[0];
    if (!Array.isArray(rows)) throw malformed('ListUnitsByNames', rows);
    return rows.map((row: unknown) => {
      if (!Array.isArray(row) || row.length < 5 || !row.slice(0, 5).every((v) => typeof v === 'string')) {
        throw malformed('ListUnitsByNames', row);
      }
      const [name, , loadState, activeState, subState] = row as string[];
      return { name: name ?? '', loadState: loadState ?? '', activeState: activeState ?? '', subState: subState ?? '' };
    });
  }

  /**
   * A unit's detailed status: the object path from `Manager.GetUnit`, or `Manager.LoadUnit` when the
   * unit is not loaded (then systemd loads it: a unit without a file reports `loadState`
   * `not-found`, which is a value, not an error), then `Properties.GetAll` on the Unit interface
   * and, for a service, the Service interface. Throws a terminal `SystemdError` for a name systemd
   * rejects as invalid.
   */
  async getUnitProperties(name: string): Promise<UnitProperties> {
    let path: string;
    try {
      path = String((await this.#call('GetUnit', 's', [name]))[0]);
    } catch (err) {
      if (!isNoSuchUnitError(err)) throw err;
      path = String((await this.#call('LoadUnit', 's', [name]))[0]);
    }
    const unit = new PropertyBag(`GetAll ${unitInterface} ${name}`, await this.#getAll(path, unitInterface, name));
    const id = unit.string('Id');
    let service: ServiceProperties | undefined;
    if (id.endsWith('.service')) {
      const props = new PropertyBag(`GetAll ${serviceInterface} ${name}`, await this.#getAll(path, serviceInterface, name));
      service = {
        mainPid: props.number('MainPID'),
        execMainPid: props.number('ExecMainPID'),
        execMainCode: props.number('ExecMainCode'),
        execMainStatus: props.number('ExecMainStatus'),
        result: props.string('Result'),
        controlGroup: props.string('ControlGroup'),
        slice: props.string('Slice'),
      };
    }
    return {
      id,
      description: unit.string('Description'),
      loadState: unit.string('LoadState'),
      activeState: unit.string('ActiveState'),
      subState: unit.string('SubState'),
      unitFileState: unit.string('UnitFileState'),
      fragmentPath: unit.string('FragmentPath'),
      activeEnterTimestamp: unit.number('ActiveEnterTimestamp'),
      activeExitTimestamp: unit.number('ActiveExitTimestamp'),
      inactiveEnterTimestamp: unit.number('InactiveEnterTimestamp'),
      inactiveExitTimestamp: unit.number('InactiveExitTimestamp'),
      service,
    };
  }

  /**
   * The manager's own cgroup (`Manager.ControlGroup`), e.g. `/fleet-abc-m1` for a user instance
   * in its own cgroup: its units' cgroups are `<this>/<slice path>/<unit>`. `''` when systemd
   * reports none.
   */
  async getManagerControlGroup(): Promise<string> {
    const message = new Message({
      destination: systemdService,
      path: managerPath,
      interface: propertiesInterface,
      member: 'Get',
      signature: 'ss',
      body: [managerInterface, 'ControlGroup'],
    });
    const [value] = await this.#send(`Get ${managerInterface}.ControlGroup`, message);
    const unwrapped = value instanceof Variant ? (value.value as unknown) : value;
    if (typeof unwrapped !== 'string') throw malformed('Get ControlGroup', value);
    return unwrapped;
  }

  /**
   * Delivers systemd's `JobRemoved` and units' `PropertiesChanged` signals to `listener`. The first
   * call installs the connection's match rules; later calls share them. Signals flow only after
   * {@link subscribe}. Returns a function that removes the listener.
   */
  async watchSignals(listener: (signal: Systemd1Signal) => void): Promise<() => void> {
    this.#matchRule ??= this.#addMatchRule().catch((err: unknown) => {
      this.#matchRule = undefined;
      throw err;
    });
    await this.#matchRule;
    this.#signalListeners.add(listener);
    return () => this.#signalListeners.delete(listener);
  }

  /** Disconnects. Pending calls fail with a transient error. Idempotent. */
  close(): void {
    this.#closeListeners.clear();
    this.#markClosed(new DBusDisconnectedError('the D-Bus connection was closed'));
    this.#signalListeners.clear();
    this.#bus.disconnect();
  }

  /**
   * Only what a wake-up needs: `JobRemoved`, and the `Unit` interface's `PropertiesChanged` (Load,
   * Active and SubState). Each unit change also sends its `Service` interface's (a hundred
   * properties): thousands while a hundred units start, for the bus and fleetd to carry and parse.
   */
  async #addMatchRule(): Promise<void> {
    const rules = [
      `type='signal',sender='${systemdService}',path='${managerPath}',interface='${managerInterface}',member='JobRemoved'`,
      `type='signal',sender='${systemdService}',path_namespace='${unitPathPrefix.slice(0, -1)}',interface='${propertiesInterface}',member='PropertiesChanged',arg0='${unitInterface}'`,
    ];
    for (const rule of rules) {
      const bus = { destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus' };
      await this.#send('AddMatch', new Message({ ...bus, member: 'AddMatch', signature: 's', body: [rule] }));
    }
  }

  #dispatchSignal(message: Message): void {
    if (message.type !== MessageType.SIGNAL || this.#signalListeners.size === 0) return;
    let signal: Systemd1Signal;
    if (message.interface === managerInterface && message.member === 'JobRemoved') {
      // JobRemoved(u id, o job, s unit, s result)
      signal = { kind: 'job-removed', unit: String(message.body[2]), result: String(message.body[3]) };
    } else if (message.interface === propertiesInterface && message.member === 'PropertiesChanged' && message.path.startsWith(unitPathPrefix)) {
      signal = { kind: 'properties-changed', path: message.path };
    } else {
      return;
    }
    for (const listener of this.#signalListeners) listener(signal);
  }

  async #getAll(path: string, iface: string, unit: string): Promise<unknown> {
    const message = new Message({ destination: systemdService, path, interface: propertiesInterface, member: 'GetAll', signature: 's', body: [iface] });
    return (await this.#send(`GetAll ${iface} ${unit}`, message))[0];
  }

  #call(member: string, signature: string, body: unknown[]): Promise<unknown[]> {
    const message = new Message({ destination: systemdService, path: managerPath, interface: managerInterface, member, signature, body });
    return this.#send(member, message);
  }

  async #send(operation: string, message: Message): Promise<unknown[]> {
    if (!this.#open) throw new SystemdError(operation, true, { cause: new DBusDisconnectedError('the D-Bus connection is closed') });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DBusTimeoutError(`no reply within ${this.#callTimeoutMs} ms`)), this.#callTimeoutMs);
    });
    try {
      const reply = await Promise.race([this.#bus.call(message), this.#closed, timeout]);
      return reply?.body ?? [];
    } catch (err) {
      throw toSystemdError(operation, err);
    } finally {
      clearTimeout(timer);
    }
  }
}
