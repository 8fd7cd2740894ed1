import { FleetError } from '@fleet/core';
import type { UnitOption } from '@fleet/core/model';
import type { WireError, WireMachine, WireMachinePage, WireUnit, WireUnitOption, WireUnitPage, WireUnitPut, WireUnitState, WireUnitStatePage } from '@fleet/core/wire';
import { openHttpStream, parseEndpoint, sendHttp, TransportError } from './http-transport.js';
import type { Endpoint, HttpStream, TlsMaterial } from './http-transport.js';
import { goDialText, goRequestUrl } from './go-request.js';
import { splitLines } from './line-splitter.js';

/**
 * A unit as fleetctl works with it: every option complete. fleet's servers leave an option's
 * empty `section` or `value` out of their answers; here they are `""` again.
 */
export interface ApiUnit extends Omit<WireUnit, 'options' | 'currentState'> {
  readonly options: UnitOption[];
  /** `""` when the server leaves it out (fleet does for global units). */
  readonly currentState: string;
}

/** Filters of `GET /fleet/v1/state`. */
export interface UnitStateFilter {
  readonly unitName?: string;
  readonly machineID?: string;
}

/**
 * `GET /fleet/v1/machines/<id>/units/<name>/status` (ours): systemd's status of a unit, as the
 * machine that runs it renders it.
 */
export interface MachineUnitStatus {
  /** The machine that answered. */
  readonly machineID: string;
  /** `systemctl status`-like text (lines separated by `\n`, no trailing newline needed). */
  readonly text: string;
  /** The same as plain data (names, states, timestamps...), passed on as the machine sent it. */
  readonly unit: unknown;
}

/** Options of {@link FleetApiClient.unitJournal}. */
export interface JournalOptions {
  /** How many of the newest lines to start with (the API's default is 10). */
  readonly lines?: number;
  /** Keep the connection open and yield new lines as they are logged. */
  readonly follow?: boolean;
  /** Aborting closes the connection; the iteration then ends quietly. */
  readonly signal?: AbortSignal;
}

/**
 * fleetctl's view of fleet's HTTP API v1. Every method rejects with an {@link ApiError} when the
 * API answers with an error, or an {@link ApiUnreachableError} when it does not answer at all.
 * List methods follow `nextPageToken` and return every page.
 */
/** A unit to create: its name, options and, if given, desired state (see {@link FleetApiClient.createUnits}). */
export interface NewUnit {
  readonly name: string;
  readonly options: readonly UnitOption[];
  readonly desiredState?: string | undefined;
}

export interface FleetApiClient {
  /** All units (`GET /fleet/v1/units`), in the API's order. */
  listUnits(): Promise<ApiUnit[]>;
  /** One unit, or `undefined` when it does not exist (404). */
  getUnit(name: string): Promise<ApiUnit | undefined>;
  /**
   * Creates the unit with these options (`PUT` with options), with `desiredState` if given; fleet's
   * client gives none (the API then stores `inactive`). On an existing unit whose options differ,
   * the API replaces its options (fleetctl's `--replace`; `inactive` again without a state).
   */
  createUnit(name: string, options: readonly UnitOption[], desiredState?: string): Promise<void>;
  /**
   * Ours: creates many units in one request (`POST /units`), each unless it exists; resolves, by
   * name, whether each was created, or `undefined` when the API has no such method (fleet's
   * answers 405). Rejects like the other calls, e.g. on a 400 for an invalid unit.
   */
  createUnits(units: readonly NewUnit[]): Promise<ReadonlyMap<string, boolean> | undefined>;
  /** Sets the desired state of an existing unit (`PUT` without options). */
  setDesiredState(name: string, desiredState: string): Promise<void>;
  /** Removes a unit; `false` when there was no such unit (404). */
  destroyUnit(name: string): Promise<boolean>;
  /** systemd states reported by the machines, optionally filtered. */
  listUnitStates(filter?: UnitStateFilter): Promise<WireUnitState[]>;
  /** The machines of the cluster. */
  listMachines(): Promise<WireMachine[]>;
  /**
   * systemd's status of `unit` on machine `machineID` (ours; any fleetd forwards to the one on that
   * machine). API errors: 404 unknown machine, 502 that machine's fleetd cannot be reached, 503
   * etcd down.
   */
  unitStatus(machineID: string, unit: string): Promise<MachineUnitStatus>;
  /**
   * The unit's log lines on machine `machineID` (journalctl's short format), without their line
   * breaks, as they arrive (ours). With `follow` the iteration goes on until `signal` aborts, the
   * consumer stops iterating (either closes the connection), or the server ends the answer.
   * Iterating throws an {@link ApiError} when the API refuses (400 bad `lines`, 404, 502, 503),
   * and an {@link ApiUnreachableError} when there is no answer or the connection breaks midway.
   */
  unitJournal(machineID: string, unit: string, options?: JournalOptions): AsyncIterable<string>;
}

/**
 * The API answered with an error; `message` is the API's own message. `rawBody` is set when the
 * answer carried no JSON error message (the message then says so), as fleet's client words it
 * differently.
 */
export class ApiError extends FleetError {
  override readonly name = 'ApiError';
  constructor(readonly status: number, message: string, readonly rawBody?: string) {
    super('API_ERROR', message);
  }
}

/** The request fleet's client would have sent, as Go prints it in its errors. */
export interface GoRequest {
  /** `GET`, `PUT`, `DELETE`. */
  readonly method: string;
  /** `http://domain-sock/fleet/v1/units?alt=json` for a unix socket, the endpoint's URL otherwise. */
  readonly url: string;
}

/** The API could not be reached (no socket, connection refused, timeout...). */
export class ApiUnreachableError extends FleetError {
  override readonly name = 'ApiUnreachableError';
  /** The request that failed, when there was one. */
  readonly request: GoRequest | undefined;
  /** Why, in the words of Go's dialer (`dial unix /x.sock: connect: no such file or directory`), when known. */
  readonly goReason: string | undefined;
  constructor(
    readonly endpoint: string,
    readonly reason: string,
    options?: { cause?: unknown; request?: GoRequest; goReason?: string },
  ) {
    super('API_ERROR', `cannot reach fleet API at ${endpoint}: ${reason}`, options);
    this.request = options?.request;
    this.goReason = options?.goReason;
  }
}

/** Options of {@link HttpFleetApiClient}. */
export interface HttpClientOptions {
  /** Per-request timeout (fleetctl's `--request-timeout`). */
  readonly timeoutMs: number;
  /** Receives one line per request when `--debug` is on. */
  readonly debug?: (line: string) => void;
  /** Certificates for an `https:` endpoint (`--ca-file`, `--cert-file`, `--key-file`). */
  readonly tls?: TlsMaterial;
}

/** Everything needed to reach the API, from the global flags (see `clientConfig`). */
export interface ClientConfig extends HttpClientOptions {
  /** `--endpoint`: `unix:///path`, `http://host:port`, `https://host:port`. */
  readonly endpoint: string;
}

const prefix = '/fleet/v1';
// A stuck server repeating its page token must not loop us forever.
const maxPages = 10_000;

/** {@link FleetApiClient} over HTTP, on a unix socket or TCP. */
export class HttpFleetApiClient implements FleetApiClient {
  private readonly endpoint: Endpoint;

  /** Throws a `FleetError` (`INVALID_CONFIG`) when `endpoint` cannot be parsed. */
  constructor(endpoint: string, private readonly options: HttpClientOptions) {
    this.endpoint = parseEndpoint(endpoint);
  }

  async listUnits(): Promise<ApiUnit[]> {
    return (await this.collect<WireUnitPage, WireUnit>('/units', new URLSearchParams(), 'units')).map(fromWireUnit);
  }

  async getUnit(name: string): Promise<ApiUnit | undefined> {
    const res = await this.call('GET', `/units/${unitPath(name)}`, undefined, [200, 404]);
    if (res.status === 404) return undefined;
    return fromWireUnit(expectObject<WireUnit>(res.body, 'unit'));
  }

  async createUnit(name: string, options: readonly UnitOption[], desiredState?: string): Promise<void> {
    const body: WireUnitPut = { name, ...(desiredState === undefined ? {} : { desiredState }), options: options.map(toWireOption) };
    await this.call('PUT', `/units/${unitPath(name)}`, body, [200, 201, 204]);
  }

  async createUnits(units: readonly NewUnit[]): Promise<ReadonlyMap<string, boolean> | undefined> {
    const body = { units: units.map((u) => ({ name: u.name, ...(u.desiredState === undefined ? {} : { desiredState: u.desiredState }), options: u.options.map(toWireOption) })) };
    const res = await this.call('POST', '/units', body, [200, 404, 405]);
    if (res.status !== 200) return undefined;
    const answer = expectObject<{ units?: unknown }>(res.body, 'created units');
    if (!Array.isArray(answer.units)) throw new FleetError('API_ERROR', 'malformed answer to POST /units: no "units" array');
    return new Map(answer.units.map((u: { name?: unknown; created?: unknown }) => [String(u.name), u.created === true]));
  }

  async setDesiredState(name: string, desiredState: string): Promise<void> {
    const body: WireUnitPut = { name, desiredState };
    await this.call('PUT', `/units/${unitPath(name)}`, body, [200, 201, 204]);
  }

  async destroyUnit(name: string): Promise<boolean> {
    const res = await this.call('DELETE', `/units/${unitPath(name)}`, undefined, [200, 204, 404]);
    return res.status !== 404;
  }

  async listUnitStates(filter: UnitStateFilter = {}): Promise<WireUnitState[]> {
    const query = new URLSearchParams();
    if (filter.unitName !== undefined) query.set('unitName', filter.unitName);
    if (filter.machineID !== undefined) query.set('machineID', filter.machineID);
    return this.collect<WireUnitStatePage, WireUnitState>('/state', query, 'states');
  }

  async listMachines(): Promise<WireMachine[]> {
    return this.collect<WireMachinePage, WireMachine>('/machines', new URLSearchParams(), 'machines');
  }

  async unitStatus(machineID: string, unit: string): Promise<MachineUnitStatus> {
    const res = await this.call('GET', machineUnitPath(machineID, unit, 'status'), undefined, [200]);
    const body = expectObject<Record<string, unknown>>(res.body, 'unit status');
    const text = body['text'];
    if (typeof text !== 'string') throw new ApiError(res.status, 'malformed API answer: unit status has no "text"');
    const answered = body['machineID'];
    return { machineID: typeof answered === 'string' && answered !== '' ? answered : machineID, text, unit: body['unit'] ?? null };
  }

  async *unitJournal(machineID: string, unit: string, options: JournalOptions = {}): AsyncIterable<string> {
    const query = new URLSearchParams();
    if (options.lines !== undefined) query.set('lines', String(options.lines));
    query.set('follow', options.follow === true ? 'true' : 'false');
    const path = `${machineUnitPath(machineID, unit, 'journal')}?${query.toString()}`;
    const { signal } = options;
    if (isAborted(signal)) return;
    let stream: HttpStream;
    try {
      stream = await openHttpStream(this.endpoint, prefix + path, this.options.timeoutMs, this.options.tls, signal);
    } catch (err) {
      if (isAborted(signal)) return;
      this.options.debug?.(`GET ${prefix}${path} failed: ${String(err)}`);
      if (err instanceof TransportError) throw this.unreachable('GET', path, err);
      throw err;
    }
    this.options.debug?.(`GET ${prefix}${path} -> ${stream.status}`);
    try {
      if (stream.status !== 200) throw apiError(stream.status, await readAll(stream.body));
      yield* splitLines(stream.body);
    } catch (err) {
      if (isAborted(signal)) return;
      if (err instanceof ApiError) throw err;
      throw new ApiUnreachableError(this.endpoint.text, `the log stream broke: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    } finally {
      stream.close();
    }
  }

  private async collect<P extends { nextPageToken?: string }, T>(
    path: string,
    query: URLSearchParams,
    key: keyof P & string,
  ): Promise<T[]> {
    const items: T[] = [];
    let token: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      if (token !== undefined) query.set('nextPageToken', token);
      const qs = query.toString();
      const res = await this.call('GET', qs === '' ? path : `${path}?${qs}`, undefined, [200]);
      const body = expectObject<Record<string, unknown>>(res.body, key);
      const list = body[key] ?? [];
      if (!Array.isArray(list)) throw new ApiError(res.status, `malformed API answer: "${key}" is not a list`);
      items.push(...(list as T[]));
      const next = body['nextPageToken'];
      if (typeof next !== 'string' || next === '') return items;
      if (next === token) throw new ApiError(res.status, `malformed API answer: page token ${next} repeats`);
      token = next;
    }
    throw new ApiError(200, `malformed API answer: more than ${maxPages} pages`);
  }

  private async call(method: string, path: string, body: unknown, ok: readonly number[]) {
    let res;
    try {
      res = await sendHttp(this.endpoint, method, prefix + path, body, this.options.timeoutMs, this.options.tls);
    } catch (err) {
      this.options.debug?.(`${method} ${prefix}${path} failed: ${String(err)}`);
      if (err instanceof TransportError) throw this.unreachable(method, path, err);
      throw err;
    }
    this.options.debug?.(`${method} ${prefix}${path} -> ${res.status}`);
    if (!ok.includes(res.status)) throw apiError(res.status, res.body);
    return res;
  }

  private unreachable(method: string, path: string, err: TransportError): ApiUnreachableError {
    const goReason = goDialText(this.endpoint, err.failure);
    const request = { method, url: goRequestUrl(this.endpoint, prefix + path) };
    return new ApiUnreachableError(this.endpoint.text, err.message, { cause: err, request, ...(goReason === undefined ? {} : { goReason }) });
  }
}

/**
 * The default `CliDeps.makeClient`: an {@link HttpFleetApiClient}. Throws a `FleetError`
 * (`INVALID_CONFIG`) when the endpoint cannot be parsed.
 */
export function makeHttpClient(config: ClientConfig): FleetApiClient {
  const { endpoint, ...options } = config;
  return new HttpFleetApiClient(endpoint, options);
}

// Unit names only contain [A-Za-z0-9:_.@-], all legal in a path segment; keep "@" and ":" readable.
function unitPath(name: string): string {
  return encodeURIComponent(name).replace(/%40/g, '@').replace(/%3A/gi, ':');
}

// A function, so that TypeScript does not narrow `aborted` after the first check.
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function machineUnitPath(machineID: string, unit: string, what: 'status' | 'journal'): string {
  return `/machines/${encodeURIComponent(machineID)}/units/${unitPath(unit)}/${what}`;
}

async function readAll(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function apiError(status: number, body: string): ApiError {
  try {
    const parsed = JSON.parse(body) as Partial<WireError> | null;
    const message = parsed?.error?.message;
    if (typeof message === 'string' && message !== '') return new ApiError(status, message);
  } catch {
    // not JSON: fall through to the generic message
  }
  const text = body.trim().slice(0, 200);
  return new ApiError(status, text === '' ? `fleet API answered HTTP ${status}` : `fleet API answered HTTP ${status}: ${text}`, body);
}


function expectObject<T>(body: string, what: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new ApiError(200, `malformed API answer: ${what} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ApiError(200, `malformed API answer: ${what} is not an object`);
  }
  return parsed as T;
}

/** A unit from the API with its options completed (see {@link ApiUnit}). */
function fromWireUnit(unit: WireUnit): ApiUnit {
  const options = Array.isArray(unit.options) ? unit.options : [];
  return {
    ...unit,
    options: options.map((o: WireUnitOption) => ({ section: o.section ?? '', name: o.name, value: o.value ?? '' })),
    currentState: unit.currentState ?? '',
  };
}

/** An option as fleet's client sends it: an empty `section` or `value` left out. */
function toWireOption({ section, name, value }: UnitOption): WireUnitOption {
  const option: WireUnitOption = { name };
  if (section !== '') option.section = section;
  if (value !== '') option.value = value;
  return option;
}
