import { FleetError } from '@fleet/engine';
import type {
  WireError,
  WireMachine,
  WireMachinePage,
  WireUnit,
  WireUnitOption,
  WireUnitPage,
  WireUnitPut,
  WireUnitState,
  WireUnitStatePage,
} from '@fleet/engine/api';
import { parseEndpoint, sendHttp, TransportError } from './http-transport.js';
import type { Endpoint, TlsMaterial } from './http-transport.js';

/** Filters of `GET /fleet/v1/state`. */
export interface UnitStateFilter {
  readonly unitName?: string;
  readonly machineID?: string;
}

/**
 * fleetctl's view of fleet's HTTP API v1. Every method rejects with an {@link ApiError} when the
 * API answers with an error, or an {@link ApiUnreachableError} when it does not answer at all.
 * List methods follow `nextPageToken` and return every page.
 */
export interface FleetApiClient {
  /** All units (`GET /fleet/v1/units`), in the API's order. */
  listUnits(): Promise<WireUnit[]>;
  /** One unit, or `undefined` when it does not exist (404). */
  getUnit(name: string): Promise<WireUnit | undefined>;
  /**
   * Creates the unit with these options and desired state (`PUT` with options). On an existing
   * unit whose options differ, the API replaces its options (fleetctl's `--replace`).
   */
  createUnit(name: string, options: readonly WireUnitOption[], desiredState: string): Promise<void>;
  /** Sets the desired state of an existing unit (`PUT` without options). */
  setDesiredState(name: string, desiredState: string): Promise<void>;
  /** Removes a unit; `false` when there was no such unit (404). */
  destroyUnit(name: string): Promise<boolean>;
  /** systemd states reported by the machines, optionally filtered. */
  listUnitStates(filter?: UnitStateFilter): Promise<WireUnitState[]>;
  /** The machines of the cluster. */
  listMachines(): Promise<WireMachine[]>;
}

/** The API answered with an error; `message` is the API's own message. */
export class ApiError extends FleetError {
  override readonly name = 'ApiError';
  constructor(readonly status: number, message: string) {
    super('API_ERROR', message);
  }
}

/** The API could not be reached (no socket, connection refused, timeout...). */
export class ApiUnreachableError extends FleetError {
  override readonly name = 'ApiUnreachableError';
  constructor(readonly endpoint: string, reason: string, options?: { cause?: unknown }) {
    super('API_ERROR', `cannot reach fleet API at ${endpoint}: ${reason}`, options);
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

  async listUnits(): Promise<WireUnit[]> {
    return this.collect<WireUnitPage, WireUnit>('/units', new URLSearchParams(), 'units');
  }

  async getUnit(name: string): Promise<WireUnit | undefined> {
    const res = await this.call('GET', `/units/${unitPath(name)}`, undefined, [200, 404]);
    if (res.status === 404) return undefined;
    return expectObject<WireUnit>(res.body, 'unit');
  }

  async createUnit(name: string, options: readonly WireUnitOption[], desiredState: string): Promise<void> {
    const body: WireUnitPut = { name, desiredState, options: [...options] };
    await this.call('PUT', `/units/${unitPath(name)}`, body, [200, 201, 204]);
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
      if (err instanceof TransportError) throw new ApiUnreachableError(this.endpoint.text, err.message, { cause: err });
      throw err;
    }
    this.options.debug?.(`${method} ${prefix}${path} -> ${res.status}`);
    if (!ok.includes(res.status)) throw new ApiError(res.status, errorMessage(res.status, res.body));
    return res;
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

function errorMessage(status: number, body: string): string {
  try {
    const parsed = JSON.parse(body) as Partial<WireError> | null;
    const message = parsed?.error?.message;
    if (typeof message === 'string' && message !== '') return message;
  } catch {
    // not JSON: fall through to the generic message
  }
  const text = body.trim().slice(0, 200);
  return text === '' ? `fleet API answered HTTP ${status}` : `fleet API answered HTTP ${status}: ${text}`;
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
