import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Clock } from '@fleet/core';
import type { WireMachine, WireUnitOption, WireUnitState } from '@fleet/core/wire';
import type { ApiUnit } from '../api-client.js';
import { hashUnitFile, type UnitOption } from '@fleet/core/model';
import { isGlobalUnit } from '../unit-info.js';

/** A request the fake API received. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query, e.g. `/fleet/v1/units?nextPageToken=2`. */
  readonly url: string;
  readonly body: unknown;
}

/** A unit as the fake stores it (with the optional `reason` of our API). */
export type FakeUnit = { -readonly [K in keyof ApiUnit]: ApiUnit[K] };

/** A canned error answer. */
export interface CannedError {
  readonly status: number;
  readonly message: string;
}

/** What the fake's status endpoint answers for one unit on one machine. */
export interface FakeSystemdStatus {
  readonly text: string;
  readonly unit: unknown;
}

/**
 * An in-process fleet API v1 on a unix socket, for fleetctl's tests: serves units, states and
 * machines from plain fields, pages lists by `pageSize`, and records every request. Also serves our
 * `machines/<id>/units/<unit>/status` (from `systemdStatus`, else text made up from the state
 * entry) and `.../journal` (from `journals`; `follow=true` keeps the answer open and
 * {@link FakeFleetApi.appendJournal} streams to it); machines in `unreachable` answer 502.
 * With `autoConverge` (the default), every read first moves each unit to its desired state on the
 * first machine (systemd `active/running` when launched, `failed/failed` for units in `failing`);
 * global units get no `machineID` and a state on every machine.
 */
export class FakeFleetApi {
  readonly units = new Map<string, FakeUnit>();
  machines: WireMachine[] = [];
  states: WireUnitState[] = [];
  readonly requests: RecordedRequest[] = [];
  autoConverge = true;
  readonly failing = new Set<string>();
  pageSize = 2;
  /** Answer the next request with this error instead. */
  failNext: CannedError | undefined;
  /** Called before each request is answered; tests advance the world here. */
  onRequest: ((req: RecordedRequest) => void) | undefined;
  /** systemd status per `<machine>/<unit>`; unset entries are made up from `states`. */
  readonly systemdStatus = new Map<string, FakeSystemdStatus>();
  /** Log lines (without line breaks) per `<machine>/<unit>`. */
  readonly journals = new Map<string, string[]>();
  /** Machines whose fleetd "cannot be reached": their status and journal answer 502. */
  readonly unreachable = new Set<string>();
  private readonly followers = new Map<ServerResponse, string>();
  private followerWaiters: (() => void)[] = [];

  private constructor(
    private readonly server: Server,
    /** The `--endpoint` value for this server. */
    readonly endpoint: string,
  ) {}

  /** Starts listening on `<dir>/fleet.sock`. */
  static async start(dir: string): Promise<FakeFleetApi> {
    const socketPath = join(dir, 'fleet.sock');
    let api: FakeFleetApi | undefined;
    const server = createServer((req, res) => void api?.handle(req, res));
    api = new FakeFleetApi(server, `unix://${socketPath}`);
    await listen(server, socketPath);
    return api;
  }

  /**
   * Starts listening with TLS on 127.0.0.1 (a free port); the endpoint is `https://localhost:PORT`.
   * With `ca` and `requestCert`, only clients with a certificate signed by `ca` get answers.
   */
  static async startHttps(tls: { key: string; cert: string; ca?: string; requestCert?: boolean }): Promise<FakeFleetApi> {
    let api: FakeFleetApi | undefined;
    const server = createHttpsServer(
      { key: tls.key, cert: tls.cert, ...(tls.ca === undefined ? {} : { ca: tls.ca }), requestCert: tls.requestCert === true, rejectUnauthorized: tls.requestCert === true },
      (req, res) => void api?.handle(req, res),
    );
    await listen(server, 0, '127.0.0.1');
    const port = (server.address() as AddressInfo).port;
    api = new FakeFleetApi(server, `https://localhost:${port}`);
    return api;
  }

  /** Adds a unit (desired and current state `inactive` unless given). */
  addUnit(name: string, options: UnitOption[], fields: Partial<FakeUnit> = {}): FakeUnit {
    const unit: FakeUnit = { name, options, desiredState: 'inactive', currentState: 'inactive', ...fields };
    this.units.set(name, unit);
    return unit;
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
   * Moves every unit to its desired state, as a healthy cluster would. Global units have no current
   * state, as in fleet's API.
   */
  converge(): void {
    const first = this.machines[0];
    for (const unit of this.units.values()) {
      this.states = this.states.filter((s) => s.name !== unit.name);
      const global = isGlobalUnit(unit);
      if (unit.desiredState === 'inactive' || first === undefined) {
        unit.currentState = global ? '' : 'inactive';
        delete unit.machineID;
        continue;
      }
      unit.currentState = global ? '' : unit.desiredState;
      if (global) delete unit.machineID;
      else unit.machineID = first.id;
      for (const machine of global ? this.machines : [first]) this.states.push(this.stateOf(unit, machine.id));
    }
  }

  private stateOf(unit: FakeUnit, machineID: string): WireUnitState {
    const [active, sub] = unit.desiredState !== 'launched' ? ['inactive', 'dead'] : this.failing.has(unit.name) ? ['failed', 'failed'] : ['active', 'running'];
    return {
      name: unit.name,
      hash: hashUnitFile(unit.options),
      machineID,
      systemdLoadState: 'loaded',
      systemdActiveState: active as string,
      systemdSubState: sub as string,
    };
  }

  /** Adds log lines of `unit` on `machine`, and streams them to the requests following that log. */
  appendJournal(machine: string, unit: string, ...lines: string[]): void {
    const key = `${machine}/${unit}`;
    this.journals.set(key, [...(this.journals.get(key) ?? []), ...lines]);
    for (const [res, followed] of this.followers) if (followed === key) res.write(lines.map((l) => `${l}\n`).join(''));
  }

  /** How many `follow=true` journal requests are open. */
  get followerCount(): number {
    return this.followers.size;
  }

  /** Resolves once the number of open `follow=true` journal requests is `count`. */
  async whenFollowers(count: number): Promise<void> {
    while (this.followers.size !== count) await new Promise<void>((resolve) => this.followerWaiters.push(resolve));
  }

  /** Ends every open `follow=true` journal answer normally, as a server shutting down would. */
  endJournals(): void {
    for (const res of this.followers.keys()) res.end();
  }

  async close(): Promise<void> {
    this.endJournals();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    const record: RecordedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', body: text === '' ? undefined : JSON.parse(text) };
    this.requests.push(record);
    this.onRequest?.(record);
    if (this.failNext !== undefined) {
      const { status, message } = this.failNext;
      this.failNext = undefined;
      return send(res, status, { error: { code: status, message } });
    }
    if (record.method === 'GET' && this.autoConverge) this.converge();
    const url = new URL(record.url, 'http://fake');
    const unitMatch = /^\/fleet\/v1\/units\/([^/]+)$/.exec(url.pathname);
    const machineUnit = /^\/fleet\/v1\/machines\/([^/]+)\/units\/([^/]+)\/(status|journal)$/.exec(url.pathname);
    if (record.method === 'GET' && machineUnit !== null) {
      const [, machine = '', unitName = '', what] = machineUnit;
      return this.machineUnit(res, url, decodeURIComponent(machine), decodeURIComponent(unitName), what === 'journal');
    }
    if (record.method === 'GET' && url.pathname === '/fleet/v1/units') return this.page(res, url, 'units', [...this.units.values()]);
    if (record.method === 'GET' && url.pathname === '/fleet/v1/machines') return this.page(res, url, 'machines', this.machines);
    if (record.method === 'GET' && url.pathname === '/fleet/v1/state') {
      const unitName = url.searchParams.get('unitName');
      const machineID = url.searchParams.get('machineID');
      const states = this.states.filter((s) => (unitName === null || s.name === unitName) && (machineID === null || s.machineID === machineID));
      return this.page(res, url, 'states', states);
    }
    if (unitMatch === null) return send(res, 404, { error: { code: 404, message: 'not found' } });
    const name = decodeURIComponent(unitMatch[1] ?? '');
    const unit = this.units.get(name);
    if (record.method === 'GET') {
      return unit === undefined ? send(res, 404, { error: { code: 404, message: 'unit does not exist' } }) : send(res, 200, unit);
    }
    if (record.method === 'DELETE') {
      if (unit === undefined) return send(res, 404, { error: { code: 404, message: 'unit does not exist' } });
      this.units.delete(name);
      return send(res, 204);
    }
    if (record.method === 'PUT') return this.put(res, name, unit, record.body as { desiredState?: string; options?: WireUnitOption[] });
    return send(res, 405, { error: { code: 405, message: 'method not allowed' } });
  }

  private machineUnit(res: ServerResponse, url: URL, machine: string, unit: string, journal: boolean): void {
    const lines = url.searchParams.get('lines') ?? '10';
    if (journal && !/^\d+$/.test(lines)) return send(res, 400, { error: { code: 400, message: 'lines must be an integer from 0 to 100000' } });
    if (!this.machines.some((m) => m.id === machine)) return send(res, 404, { error: { code: 404, message: `machine ${machine} is not in the cluster` } });
    if (this.unreachable.has(machine)) {
      return send(res, 502, { error: { code: 502, message: `machine ${machine} could not be reached at http://fake: connect ECONNREFUSED` } });
    }
    const key = `${machine}/${unit}`;
    if (!journal) return send(res, 200, { machineID: machine, ...(this.systemdStatus.get(key) ?? this.madeUpStatus(machine, unit)) });
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    const all = this.journals.get(key) ?? [];
    const newest = Number(lines) === 0 ? [] : all.slice(-Number(lines));
    if (newest.length > 0) res.write(newest.map((l) => `${l}\n`).join(''));
    if (url.searchParams.get('follow') !== 'true') return void res.end();
    this.followers.set(res, key);
    this.wakeFollowerWaiters();
    res.on('close', () => {
      this.followers.delete(res);
      this.wakeFollowerWaiters();
    });
  }

  private wakeFollowerWaiters(): void {
    const waiters = this.followerWaiters;
    this.followerWaiters = [];
    for (const wake of waiters) wake();
  }

  // What a machine's systemd would say, from the state entry (or "not found" without one).
  private madeUpStatus(machine: string, unit: string): FakeSystemdStatus {
    const state = this.states.find((s) => s.name === unit && s.machineID === machine);
    const load = state?.systemdLoadState ?? 'not-found';
    const active = state?.systemdActiveState ?? 'inactive';
    const sub = state?.systemdSubState ?? 'dead';
    const description = this.units.get(unit)?.options.find((o) => o.section === 'Unit' && o.name === 'Description')?.value ?? '';
    const glyph = active === 'failed' ? '×' : active === 'inactive' ? '○' : '●';
    const text = [
      `${glyph} ${unit}${description === '' ? '' : ` - ${description}`}`,
      `     Loaded: ${load === 'loaded' ? `loaded (/run/fleet/units/${unit}; linked-runtime)` : load}`,
      // As systemctl: the sub-state is left out where it only repeats the state.
      `     Active: ${sub === active ? active : `${active} (${sub})`}`,
    ].join('\n');
    return { text, unit: { name: unit, description, loadState: load, activeState: active, subState: sub } };
  }

  // As our API: no desired state creates (or, with other options, replaces) the unit `inactive`.
  private put(res: ServerResponse, name: string, unit: FakeUnit | undefined, body: { desiredState?: string; options?: WireUnitOption[] }): void {
    const desired = body.desiredState;
    if (desired !== undefined && !['inactive', 'loaded', 'launched'].includes(desired)) {
      return send(res, 400, { error: { code: 400, message: `invalid desiredState: ${desired}` } });
    }
    if (/@\./.test(name) && desired !== undefined && desired !== 'inactive') {
      return send(res, 400, { error: { code: 400, message: `unit ${name} is a template: its desired state can only be inactive` } });
    }
    const options = body.options === undefined || body.options.length === 0 ? undefined : completeOptions(body.options);
    if (unit === undefined) {
      if (options === undefined) return send(res, 409, { error: { code: 409, message: `unit ${name} does not exist and options field is empty` } });
      this.addUnit(name, options, { desiredState: desired ?? 'inactive' });
      return send(res, 201);
    }
    if (options !== undefined && hashUnitFile(options) !== hashUnitFile(unit.options)) {
      unit.options = options;
      unit.desiredState = desired ?? 'inactive';
      return send(res, 201);
    }
    if (desired === undefined) return send(res, 409, { error: { code: 409, message: `must provide desiredState to update existing unit ${name}` } });
    unit.desiredState = desired;
    send(res, 204);
  }

  private page(res: ServerResponse, url: URL, key: string, items: readonly unknown[]): void {
    const start = Number(url.searchParams.get('nextPageToken') ?? '0');
    const end = start + this.pageSize;
    const body: Record<string, unknown> = { [key]: items.slice(start, end) };
    if (end < items.length) body['nextPageToken'] = String(end);
    send(res, 200, body);
  }
}

/** A clock for tests: `sleep` resolves at once and moves `now` forward. */
export class SteppingClock implements Clock {
  private t = 0;
  readonly sleeps: number[] = [];
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
  }
}

/** A captured `Output`. */
export class CapturedOutput {
  stdout = '';
  stderr = '';
  readonly out = (text: string): void => {
    this.stdout += text;
  };
  readonly err = (text: string): void => {
    this.stderr += text;
  };
}

function listen(server: Server, where: string | number, host?: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (typeof where === 'string') server.listen(where, resolve);
    else server.listen(where, host, resolve);
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

/** Options as sent (empty `section`/`value` left out), completed. */
function completeOptions(options: readonly WireUnitOption[]): UnitOption[] {
  return options.map((o) => ({ section: o.section ?? '', name: o.name, value: o.value ?? '' }));
}
