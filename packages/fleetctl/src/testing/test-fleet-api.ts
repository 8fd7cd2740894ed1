import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type ApiServer } from '@fleet/api';
import { silentLogger } from '@fleet/core';
import {
  hashUnitFile, parseRequirements, parseUnitName, storedUnitFile, type MachineId, type TargetState, type UnitFile, type UnitName, type UnitOption,
} from '@fleet/core/model';
import { InMemoryRegistry } from '@fleet/core/testing';
import type { ScheduleChange } from '@fleet/core/registry';
import type { WireMachine, WireUnitState } from '@fleet/core/wire';
import { FakeInspection } from './fake-inspection.js';

/** A request fleetctl sent. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query, e.g. `/fleet/v1/units?nextPageToken=Mg`. */
  readonly url: string;
  readonly body: unknown;
}

/** A canned error answer. */
export interface CannedError {
  readonly status: number;
  readonly message: string;
}

/** What a test may say about a unit it adds, besides its file. */
export interface UnitFields {
  readonly desiredState?: string;
  /** With `machineID`: what that machine's agent has brought the unit to (`loaded`/`launched`). */
  readonly currentState?: string;
  readonly machineID?: string;
  readonly reason?: string;
}

/** A unit as the registry holds it, with its file as options (what `fleetctl submit` sent, as stored). */
export interface StoredUnit {
  readonly name: string;
  readonly options: UnitFile;
  readonly desiredState: TargetState;
}

/** Page size of the API under test: small, so that every listing takes several pages. */
export const testTokenLimit = 2;

/**
 * Our real API server over `registry`, on a unix socket (and TCP with `tcp`/`tls`). The one place
 * fleetctl's tests construct it: if the server's dependencies change, adapt them here.
 */
export function startRealApiServer(
  registry: InMemoryRegistry,
  inspection: FakeInspection,
  listen: { socketPath: string; tcp?: string; tls?: { cert: Buffer; key: Buffer; ca?: Buffer } },
): Promise<ApiServer> {
  return startApiServer({ units: registry, cluster: registry, machines: registry, tokenLimit: testTokenLimit, inspection }, listen, silentLogger);
}

/**
 * fleetctl's tests' cluster: our real API server (routes, PUT semantics, page tokens, sorting) over
 * an in-memory registry, behind a small recording proxy on `<dir>/fleet.sock` that records every
 * request, can answer one with a canned error, and first runs {@link converge} (with `autoConverge`,
 * the default) so that every read finds the units as healthy agents would have made them. Unit
 * status and logs come from a {@link FakeInspection} (`systemdStatus`, `journals`, `unreachable`).
 * The test's arrangements (units, schedule, reasons, states, machines) are written through the
 * registry's own methods, never into its maps, so an API that reads a watch-fed view sees them.
 */
export class TestFleetApi {
  readonly requests: RecordedRequest[] = [];
  autoConverge = true;
  /** Units that converge to `failed/failed` instead of `active/running`. */
  readonly failing = new Set<string>();
  /** Units whose machine's systemd refuses them for good, with the agent's failure (reported `loaded`, `not-found`). */
  readonly refused = new Map<string, string>();
  /** Answer the next request with this error instead of passing it to the API. */
  failNext: CannedError | undefined;
  /** Called before each request is passed on; tests advance the world here. */
  onRequest: ((req: RecordedRequest) => void) | undefined;
  /** The machines in the order they were given (the first is where {@link converge} schedules). */
  #machines: MachineId[] = [];
  #proxy: Server | undefined;
  #calls = { count: 0 };
  /** No engine runs here: the test cluster holds the leader's term and writes the schedule itself. */
  readonly #fence = { key: 'test-fleet-api/leader', createRevision: '1' };

  private constructor(
    readonly registry: InMemoryRegistry,
    readonly inspection: FakeInspection,
    private readonly server: ApiServer,
    /** The `--endpoint` value. */
    readonly endpoint: string,
    private readonly apiSocket: string | undefined,
    private readonly dir: string | undefined,
  ) {}

  /** The real API on `<dir>/api.sock`, recorded through `<dir>/fleet.sock` (the endpoint). */
  static async start(dir: string): Promise<TestFleetApi> {
    const apiSocket = join(dir, 'api.sock');
    const proxySocket = join(dir, 'fleet.sock');
    const api = await TestFleetApi.#create((registry, inspection) => startRealApiServer(registry, inspection, { socketPath: apiSocket }), `unix://${proxySocket}`, apiSocket);
    const proxy = createServer((req, res) => void api.#relay(req, res));
    await new Promise<void>((resolve, reject) => proxy.once('error', reject).listen(proxySocket, resolve));
    api.#proxy = proxy;
    return api;
  }

  /**
   * The real API serving HTTPS on 127.0.0.1 (a free port); the endpoint is `https://localhost:PORT`.
   * With `requestCert`, only clients with a certificate signed by `ca` get answers. Not recorded.
   */
  static async startHttps(tls: { key: string; cert: string; ca: string; requestCert: boolean }): Promise<TestFleetApi> {
    const dir = await mkdtemp(join(tmpdir(), 'fleetctl-tls-'));
    let port = '';
    const api = await TestFleetApi.#create(
      async (registry, inspection) => {
        const server = await startRealApiServer(registry, inspection, {
          socketPath: join(dir, 'api.sock'), tcp: '127.0.0.1:0',
          tls: { key: Buffer.from(tls.key), cert: Buffer.from(tls.cert), ...(tls.requestCert ? { ca: Buffer.from(tls.ca) } : {}) },
        });
        port = (server.tcpAddress ?? '').split(':').pop() ?? '';
        return server;
      },
      () => `https://localhost:${port}`,
      undefined,
      dir,
    );
    return api;
  }

  static async #create(
    start: (registry: InMemoryRegistry, inspection: FakeInspection) => Promise<ApiServer>,
    endpoint: string | (() => string),
    apiSocket: string | undefined,
    dir?: string,
  ): Promise<TestFleetApi> {
    const registry = new InMemoryRegistry();
    const inspection = new FakeInspection(registry);
    const calls = { count: 0 };
    // The API sees the registry through this proxy, which counts its calls (see `registryCalls`).
    const counted = new Proxy(registry, {
      get: (target, prop) => {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.count++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const server = await start(counted, inspection);
    const api = new TestFleetApi(registry, inspection, server, typeof endpoint === 'string' ? endpoint : endpoint(), apiSocket, dir);
    api.#calls = calls;
    registry.leaderFence = api.#fence;
    return api;
  }

  /** How many registry calls the API has made: 0 when no request got through (an HTTPS one refused in the handshake). */
  get registryCalls(): number {
    return this.#calls.count;
  }

  get systemdStatus() {
    return this.inspection.systemdStatus;
  }
  get journals() {
    return this.inspection.journals;
  }
  get unreachable() {
    return this.inspection.unreachable;
  }
  appendJournal(machine: string, unit: string, ...lines: string[]): void {
    this.inspection.appendJournal(machine, unit, ...lines);
  }
  get followerCount(): number {
    return this.inspection.followerCount;
  }
  whenFollowers(count: number): Promise<void> {
    return this.inspection.whenFollowers(count);
  }
  endJournals(): void {
    this.inspection.endJournals();
  }

  /** The cluster's machines (present, with an API URL the forwarding path names in its errors). */
  set machines(machines: readonly WireMachine[]) {
    for (const id of this.#machines) this.registry.removeMachine(id);
    this.#machines = machines.map((m) => m.id as MachineId);
    for (const m of machines) {
      this.registry.putMachine({ id: m.id as MachineId, publicIp: m.primaryIP, metadata: { ...m.metadata }, version: 'test', apiUrl: 'http://fake' });
    }
  }

  /** The units as stored, by name (frozen copies: arrange units with {@link addUnit} and {@link place}). */
  get units(): ReadonlyMap<string, StoredUnit> {
    const out = new Map<string, StoredUnit>();
    for (const [name, record] of this.registry.units) {
      out.set(name, Object.freeze({ name, options: this.registry.files.get(record.hash) ?? [], desiredState: record.desiredState }));
    }
    return out;
  }

  /**
   * Adds a unit (desired state `inactive` unless given). With `machineID` it is scheduled there and,
   * when `currentState` is `loaded` or `launched`, reported by that machine's agent as such.
   */
  addUnit(name: string, options: UnitOption[], fields: UnitFields = {}): void {
    const file = storedOrAsGiven(options);
    const hash = hashUnitFile(file);
    const unit = parseUnitName(name);
    const desiredState = (fields.desiredState ?? 'inactive') as TargetState;
    if (this.registry.units.has(unit)) void this.registry.destroyUnit(unit);
    void this.registry.createUnit({ name: unit, file, hash, desiredState });
    if (fields.reason !== undefined) this.#schedule([{ kind: 'set-reason', name: unit, reason: fields.reason }]);
    if (fields.machineID === undefined) return;
    const current = fields.currentState === 'loaded' || fields.currentState === 'launched' ? fields.currentState : undefined;
    this.place(name, fields.machineID, current ?? (desiredState === 'inactive' ? 'loaded' : desiredState), current !== undefined);
  }

  /**
   * Schedules an added unit on `machineID` with `target`; with `reported` (the default), that
   * machine's agent also reports it as brought there (systemd `active/running` when launched,
   * `inactive/dead` when loaded), so that the API's current state is `target`.
   */
  place(name: string, machineID: string, target: 'loaded' | 'launched', reported = true): void {
    const unit = parseUnitName(name);
    const hash = this.registry.units.get(unit)?.hash;
    if (hash === undefined) throw new Error(`place: add ${name} first`);
    const machineId = machineID as MachineId;
    this.#schedule([{ kind: 'schedule', entry: { name: unit, machineId, targetState: target, hash } }]);
    if (reported) this.#report(unit, machineId, hash, target);
  }

  /** Records a unit state as a machine's agent would publish it (what its agent reached: the schedule's target). */
  putState(state: WireUnitState): void {
    const name = parseUnitName(state.name);
    const machineId = state.machineID as MachineId;
    const agentState = this.registry.schedule.get(`${machineId}/${name}`)?.targetState;
    void this.registry.stateSink(machineId).publishState({
      name, machineId, hash: state.hash, loadState: state.systemdLoadState, activeState: state.systemdActiveState, subState: state.systemdSubState,
      ...(agentState === undefined ? {} : { agentState }),
    });
  }

  /** Replaces every unit state. */
  setStates(states: readonly WireUnitState[]): void {
    for (const s of [...this.registry.states.values()]) void this.registry.stateSink(s.machineId).deleteState(s.name);
    for (const s of states) this.putState(s);
  }

  /** The unit states, as `/state` lists them: copies, frozen so that a test cannot mistake them for the registry's (use {@link putState}). */
  get states(): readonly Readonly<WireUnitState>[] {
    return [...this.registry.states.values()].map((s) => Object.freeze({
      name: s.name, hash: s.hash, machineID: s.machineId, systemdLoadState: s.loadState, systemdActiveState: s.activeState, systemdSubState: s.subState,
    }));
  }

  /** Requests other than reads, as `METHOD path` lines with the PUT body's desired state. */
  writes(): string[] {
    return this.requests
      .filter((r) => r.method !== 'GET')
      .map((r) => {
        const body = r.body as { desiredState?: string; options?: unknown[] } | undefined;
        return [r.method, r.url, body?.desiredState, body?.options === undefined ? undefined : '+options'].filter((p) => p !== undefined).join(' ');
      });
  }

  /**
   * Does what a healthy cluster's engine and agents would: every unit that is not `inactive` is
   * scheduled on the first machine (global units on every machine) and reported there as its
   * desired state, systemd `active/running` when launched (`failed/failed` for units in `failing`),
   * `inactive/dead` when loaded; everything else is unscheduled and its states are gone.
   */
  converge(): void {
    const { registry } = this;
    const first = this.#machines[0];
    const changes: ScheduleChange[] = [];
    for (const entry of registry.schedule.values()) {
      const record = registry.units.get(entry.name);
      if (record === undefined || record.desiredState === 'inactive' || first === undefined) changes.push({ kind: 'unschedule', machineId: entry.machineId, name: entry.name });
    }
    const reports: Array<() => void> = [];
    for (const [name, record] of registry.units) {
      if (record.desiredState === 'inactive' || first === undefined) continue;
      const global = parseRequirements(name, registry.files.get(record.hash) ?? []).global;
      const machines = global ? this.#machines : [first];
      for (const entry of registry.schedule.values()) {
        if (entry.name === name && !machines.includes(entry.machineId)) changes.push({ kind: 'unschedule', machineId: entry.machineId, name });
      }
      for (const machineId of machines) {
        changes.push({ kind: 'schedule', entry: { name, machineId, targetState: record.desiredState, hash: record.hash } });
        reports.push(() => this.#report(name, machineId, record.hash, record.desiredState as 'loaded' | 'launched'));
      }
    }
    this.#schedule(changes);
    // Only the machines a unit is scheduled to report it, with what their agents reached.
    for (const state of [...registry.states.values()]) {
      if (!registry.schedule.has(`${state.machineId}/${state.name}`)) void registry.stateSink(state.machineId).deleteState(state.name);
    }
    for (const report of reports) report();
  }

  async close(): Promise<void> {
    this.inspection.endJournals();
    if (this.#proxy !== undefined) {
      const proxy = this.#proxy;
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
    await this.server.close();
    if (this.dir !== undefined) await rm(this.dir, { recursive: true, force: true });
  }

  /** Publishes a unit state through the machine's state sink, as its agent would. */
  #report(name: UnitName, machineId: MachineId, hash: string, agentState: 'loaded' | 'launched'): void {
    const failure = this.refused.get(name);
    if (failure !== undefined) {
      void this.registry.stateSink(machineId).publishState({ name, machineId, hash, loadState: 'not-found', activeState: 'inactive', subState: 'dead', agentState: 'loaded', failure });
      return;
    }
    const [activeState, subState] = agentState !== 'launched' ? ['inactive', 'dead'] : this.failing.has(name) ? ['failed', 'failed'] : ['active', 'running'];
    void this.registry.stateSink(machineId).publishState({ name, machineId, hash, loadState: 'loaded', activeState: activeState as string, subState: subState as string, agentState });
  }

  /**
   * Writes schedule entries and reasons as the engine would, fenced by the term the test cluster
   * holds. Like every write here it goes through the registry's own methods, which bump the
   * revision and wake watchers as etcd would (they change the maps before their first await, so
   * the write is done when this returns); a failed one is an unhandled rejection that fails the test.
   */
  #schedule(changes: readonly ScheduleChange[]): void {
    void this.registry.applyScheduleChanges(changes, this.#fence);
  }

  async #relay(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    const record: RecordedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', body: text === '' ? undefined : parseJson(text) };
    this.requests.push(record);
    this.onRequest?.(record);
    if (this.failNext !== undefined) {
      const { status, message } = this.failNext;
      this.failNext = undefined;
      const body = JSON.stringify({ error: { code: status, message } });
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      return;
    }
    if (record.method === 'GET' && this.autoConverge) this.converge();
    const upstream = request({ socketPath: this.apiSocket, path: record.url, method: record.method, headers: req.headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    res.on('close', () => upstream.destroy());
    upstream.on('error', () => res.destroy());
    upstream.end(text);
  }
}

/**
 * The file as the API would store it; a file the API could not store (a value with a bare line
 * break) is kept as given, as a registry written by another client could hold it.
 */
function storedOrAsGiven(options: UnitOption[]): UnitFile {
  try {
    return storedUnitFile(options);
  } catch {
    return options.map(({ section, name, value }) => ({ section, name, value }));
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
