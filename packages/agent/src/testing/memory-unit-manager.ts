import { InvalidUnitNameError, SystemdError } from '@fleet/core';
import { hasInstallSection, hashUnitFile, serializeUnitFile, unitNameProblem, type UnitFile, type UnitName } from '@fleet/core/model';
import type { SystemdUnitState, UnitManager } from '../unit-manager.js';

/** The `UnitManager` methods whose next call {@link InMemoryUnitManager.failNext} can make fail. */
export type UnitManagerMethod = 'load' | 'unload' | 'reloadUnitFiles' | 'start' | 'stop' | 'loadedUnits' | 'unitStates';

const notFound: SystemdUnitState = { loadState: 'not-found', activeState: 'inactive', subState: 'dead' };

/**
 * systemd's `EnableUnitFiles` "carries install info" (as measured on systemd 252): some `WantedBy=`,
 * `RequiredBy=` or `Alias=` is left after empty assignments reset their lists. `UpheldBy=` and `Also=`
 * alone do not count.
 */
function carriesInstallInfo(file: UnitFile): boolean {
  const rules = new Map<string, number>();
  for (const { section, name, value } of file) {
    if (section !== 'Install' || !['WantedBy', 'RequiredBy', 'Alias'].includes(name)) continue;
    const words = value.split(/\s+/).filter((w) => w !== '').length;
    rules.set(name, words === 0 ? 0 : (rules.get(name) ?? 0) + words);
  }
  return [...rules.values()].some((n) => n > 0);
}

/**
 * A fake systemd for unit tests; passes the same `unitManagerContract` as `SystemdUnitManager`.
 *
 * It models what the agent relies on: a loaded file of a unit "systemd" holds no definition of (never
 * seen, or `not-found`) is visible at once (`loaded`/`inactive`/`dead`), as systemd ≥ 246 loads a new
 * file on first use; a file replacing a definition it holds counts from `reloadUnitFiles` on (the
 * state does not change: the fake keeps no definitions); `start` makes a loaded unit `active`/`running` at
 * once; `stop` makes it `inactive`/`dead`; after `unload` + reload an inactive unit is forgotten
 * (`not-found`), a running one keeps running as `not-found`. Starting a unit that is not loaded fails
 * (terminal, like systemd's `NoSuchUnit`); stopping an unknown unit succeeds.
 *
 * Like fleet on systemd, `load` enables a unit whose file has an `[Install]` section ({@link isEnabled});
 * loading it with a file without one, or `unload`, disables it. An `[Install]` section without a rule
 * systemd applies (a non-empty `WantedBy=`, `RequiredBy=` or `Alias=`) fails the load (terminal) and
 * leaves nothing loaded.
 *
 * Subscribers are woken (on a microtask, like a signal arriving) after every start, stop, reload and
 * {@link setState}.
 */
export class InMemoryUnitManager implements UnitManager {
  /**
   * Every mutating call in order, failed ones included: `load a.service`, `unload a.service`,
   * `reload`, `start a.service`, `stop a.service`; a load that enables the unit (its file has an
   * `[Install]` section) is followed by `enable a.service`. Reads (`loadedUnits`, `unitStates`) are
   * left out: a level-triggered loop reads on every pass, and tests should not depend on how often.
   */
  readonly calls: string[] = [];
  /** Unit files as `load` wrote them, with their hash. */
  readonly #files = new Map<UnitName, { readonly text: string; readonly hash: string }>();
  readonly #units = new Map<UnitName, SystemdUnitState>();
  readonly #enabled = new Set<UnitName>();
  readonly #failures = new Map<UnitManagerMethod, Error>();
  readonly #listeners = new Set<() => void>();
  #closed = false;

  /** Makes the next call of `method` throw `error` (default: a transient `SystemdError`) instead of acting. */
  failNext(method: UnitManagerMethod, error: Error = new SystemdError(`${method} (injected failure)`, true)): void {
    this.#failures.set(method, error);
  }

  /** The unit file text `load` wrote for `name`, or `undefined`. */
  fileOf(name: UnitName): string | undefined {
    return this.#files.get(name)?.text;
  }

  /** True while the unit is enabled: loaded with a file that has an `[Install]` section, and not unloaded since. */
  isEnabled(name: UnitName): boolean {
    return this.#enabled.has(name);
  }

  /** Simulates systemd changing a unit by itself (a crash, an exit) and wakes subscribers. */
  setState(name: UnitName, state: Partial<SystemdUnitState>): void {
    this.#units.set(name, { ...(this.#units.get(name) ?? notFound), ...state });
    this.#wake();
  }

  async load(name: UnitName, file: UnitFile): Promise<void> {
    this.#enter('load', `load ${name}`);
    checkName(name);
    this.#enabled.delete(name); // a replaced file's [Install] links go first
    this.#files.set(name, { text: serializeUnitFile(file), hash: hashUnitFile(file) });
    if (hasInstallSection(file)) {
      this.calls.push(`enable ${name}`);
      if (!carriesInstallInfo(file)) {
        this.#files.delete(name);
        throw new SystemdError(`EnableUnitFiles ${name}`, false, { cause: new Error('its [Install] section has no rule systemd can apply') });
      }
      this.#enabled.add(name);
    }
    const state = this.#units.get(name);
    if (state === undefined || state.loadState === 'not-found') this.#units.set(name, { ...(state ?? notFound), loadState: 'loaded' });
  }

  async unload(name: UnitName): Promise<void> {
    this.#enter('unload', `unload ${name}`);
    checkName(name);
    this.#files.delete(name);
    this.#enabled.delete(name);
  }

  async reloadUnitFiles(): Promise<void> {
    this.#enter('reloadUnitFiles', 'reload');
    for (const name of new Set([...this.#files.keys(), ...this.#units.keys()])) {
      const state = this.#units.get(name) ?? notFound;
      if (this.#files.has(name)) this.#units.set(name, { ...state, loadState: 'loaded' });
      else if (state.activeState === 'inactive') this.#units.delete(name);
      else this.#units.set(name, { ...state, loadState: 'not-found' });
    }
    this.#wake();
  }

  async start(name: UnitName): Promise<void> {
    this.#enter('start', `start ${name}`);
    const state = this.#units.get(name);
    if (state?.loadState !== 'loaded') {
      throw new SystemdError(`StartUnit ${name}`, false, { cause: new Error(`Unit ${name} not found.`) });
    }
    this.#units.set(name, { ...state, activeState: 'active', subState: 'running' });
    this.#wake();
  }

  async stop(name: UnitName): Promise<void> {
    this.#enter('stop', `stop ${name}`);
    const state = this.#units.get(name);
    if (state === undefined) return; // systemd: "not loaded", i.e. already stopped
    this.#units.set(name, { ...state, activeState: 'inactive', subState: 'dead' });
    this.#wake();
  }

  async loadedUnits(): Promise<ReadonlyMap<UnitName, string>> {
    this.#enter('loadedUnits');
    return new Map([...this.#files].map(([name, { hash }]) => [name, hash]));
  }

  async unitStates(names: readonly UnitName[]): Promise<ReadonlyMap<UnitName, SystemdUnitState>> {
    this.#enter('unitStates');
    return new Map(names.map((name) => [name, this.#units.get(name) ?? notFound]));
  }

  subscribe(onChange: () => void): () => void {
    this.#listeners.add(onChange);
    return () => {
      this.#listeners.delete(onChange);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
  }

  #enter(method: UnitManagerMethod, call?: string): void {
    if (call !== undefined) this.calls.push(call);
    if (this.#closed) throw new SystemdError(method, false, { cause: new Error('the unit manager is closed') });
    const failure = this.#failures.get(method);
    if (failure === undefined) return;
    this.#failures.delete(method);
    throw failure;
  }

  #wake(): void {
    const listeners = [...this.#listeners];
    queueMicrotask(() => {
      for (const listener of listeners) listener();
    });
  }
}

/** Same refusal as `SystemdUnitManager`: a name that is not a plain unit file name never gets stored. */
function checkName(name: UnitName): void {
  const problem = unitNameProblem(name);
  if (problem !== undefined) throw new InvalidUnitNameError(name, problem);
}
