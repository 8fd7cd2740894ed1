import type { Clock } from '@fleet/core';
import type { ClusterViewSource, MachineMetadataStore, UnitStore } from '@fleet/core/registry';
import type { UnitInspection } from './inspection.js';

/** An API answer as a value: status, extra headers and JSON body (none for 204). */
export interface ApiResponse {
  readonly status: number;
  /** Headers besides `Content-Type` (always `application/json`), e.g. `Allow` on a 405. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  /**
   * A streamed body instead of JSON (a unit's log): written chunk by chunk as `contentType`; the
   * stream is abandoned when the client goes away (the request's `signal` aborts).
   */
  readonly stream?: AsyncIterable<string | Uint8Array>;
  readonly contentType?: string;
}

export interface ApiRequest {
  readonly method: string;
  /** Path with the API prefix removed, e.g. `/units/hello.service`. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Parsed JSON body, or `undefined` when there was none. */
  readonly body: unknown;
  /** Aborts when the client disconnects. */
  readonly signal?: AbortSignal;
  /** True when another fleetd forwarded this request here (it is never forwarded again). */
  readonly forwarded?: boolean;
}

/** What the API reads and writes through: registry roles only, so it runs over etcd or in memory. */
export interface ApiDeps {
  readonly units: UnitStore;
  /** The cluster as this fleetd's cache holds it: reads cost no etcd request (but for uncached unit files). */
  readonly cluster: ClusterViewSource;
  readonly machines: MachineMetadataStore;
  /** Page size (fleet's `token_limit`). */
  readonly tokenLimit: number;
  /**
   * Longest a request may wait on the registry; past it the answer is 503 (fleet's "unable to
   * communicate with etcd") instead of a client left hanging on a stalled etcd. Unset: no bound.
   */
  readonly registryTimeoutMs?: number;
  /** Measures {@link registryTimeoutMs}; the system clock when unset. */
  readonly clock?: Clock;
  /** Reaches units' systemd status and logs (fleetd provides it); unset: those endpoints answer 501. */
  readonly inspection?: UnitInspection;
  /**
   * Why this fleetd cannot serve at all right now (it is not part of the cluster: its machine ID is
   * held by another live machine), or undefined while it can. Every request is then a 503 with
   * this message, as fleet's API answers 503 until its server has registered.
   */
  readonly unavailable?: () => string | undefined;
}

/** The message of every 503, as fleet words it. */
export const etcdUnavailableMessage = 'fleet server unable to communicate with etcd';

/** Builds an error answer in fleet's shape. */
export function apiError(status: number, message: string): ApiResponse {
  return { status, body: { error: { code: status, message } } };
}

/** 405 with the `Allow` header listing the methods the resource supports. */
export function methodNotAllowed(req: ApiRequest, allowed: readonly string[]): ApiResponse {
  const list = allowed.join(', ');
  return { ...apiError(405, `method ${req.method} not allowed on ${req.path}: only ${list} supported`), headers: { Allow: list } };
}

/** One page of `items` and the token of the next page, or `undefined` for a malformed token. */
export function paginate<T>(items: readonly T[], query: URLSearchParams, limit: number): { items: T[]; next: string | undefined } | undefined {
  const page = pageOf(query, limit, items.length);
  return page === undefined ? undefined : { items: items.slice(page.offset, page.offset + limit), next: page.next };
}

/**
 * Where the page a request asks for starts in a listing of `total` items, and the token of the
 * next page; `undefined` for a malformed token. Offset-based tokens, opaque to clients (base64url
 * of the offset): the listing itself is read a page at a time.
 */
export function pageOf(query: URLSearchParams, limit: number, total: number): { offset: number; next: string | undefined } | undefined {
  const token = query.get('nextPageToken');
  let offset = 0;
  if (token !== null && token !== '') {
    const decoded = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
    if (!/^\d+$/.test(decoded)) return undefined;
    offset = Number(decoded);
  }
  const end = offset + limit;
  return { offset, next: end < total ? Buffer.from(String(end)).toString('base64url') : undefined };
}

/** `body` with `nextPageToken` when there is a next page. */
export function withToken<T extends object>(body: T, next: string | undefined): T & { nextPageToken?: string } {
  return next === undefined ? body : { ...body, nextPageToken: next };
}
