import { FleetError } from '@fleet/core';
import { HttpTimeoutError, openHttp, requestText } from '@fleet/core/http';
import type { HttpTarget } from '@fleet/core/http';

/** Where the fleet API listens: a unix socket or an HTTP(S) base URL. */
export interface Endpoint {
  /** The endpoint as given (first of a comma list), for messages. */
  readonly text: string;
  readonly protocol: 'http:' | 'https:';
  /** Set for `unix://` endpoints. */
  readonly socketPath?: string;
  readonly hostname: string;
  readonly port?: number;
  /** Path prefix without a trailing slash (`''` for most endpoints). */
  readonly basePath: string;
}

/**
 * Parses fleetctl's `--endpoint`: `unix:///var/run/fleet.sock` (or `file:///...`, as fleet
 * accepts), `http://host:port[/prefix]`, `https://...`, or a bare `host:port` (taken as http; fleet
 * refuses it). Only the first of a comma-separated list is used, as in fleet. Throws a
 * {@link FleetError} (`INVALID_CONFIG`) for anything else, in fleet's words where fleet refuses it
 * too (`URL scheme undefined`, `unable to connect to host "var" with scheme "unix"`).
 */
export function parseEndpoint(value: string): Endpoint {
  const text = (value.split(',')[0] ?? '').trim();
  const invalid = (why: string): FleetError =>
    new FleetError('INVALID_CONFIG', `invalid endpoint ${JSON.stringify(value)}: ${why}`);
  const unix = /^(unix|file):\/\/(.*)$/i.exec(text);
  if (unix !== null) {
    const [, scheme = '', socketPath = ''] = unix;
    if (socketPath === '') throw invalid(`no socket path after ${scheme}://`);
    // fleet: "unix://var/run/fleet.sock" names the host "var", not a relative path.
    if (!socketPath.startsWith('/')) {
      const host = socketPath.split('/')[0] ?? '';
      throw new FleetError('INVALID_CONFIG', `unable to connect to host ${JSON.stringify(host)} with scheme ${JSON.stringify(scheme)}`);
    }
    return { text, protocol: 'http:', socketPath, hostname: 'localhost', basePath: '' };
  }
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
  if (!hasScheme && !/^[^/:]*:\d+(\/|$)/.test(text)) throw new FleetError('INVALID_CONFIG', 'URL scheme undefined');
  const withScheme = hasScheme ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw invalid('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`unsupported scheme ${url.protocol}`);
  const base = {
    text,
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    basePath: url.pathname.replace(/\/+$/, ''),
  } as const;
  return url.port === '' ? base : { ...base, port: Number(url.port) };
}

/**
 * TLS material for an `https:` endpoint, as PEM text. Without `ca` the server is verified against
 * the system's CAs; `cert` and `key` (a client certificate) go together. The server is always
 * verified (fleet skipped verification when no client certificate was given).
 */
export interface TlsMaterial {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/** A raw HTTP answer. */
export interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

/** What the operating system said when a request got no answer (Node's error fields). */
export interface TransportFailure {
  /** `ENOENT`, `ECONNREFUSED`, `ENOTFOUND`... */
  readonly code?: string;
  /** `connect`, `getaddrinfo`... */
  readonly syscall?: string;
  /** The socket path or IP address dialled. */
  readonly address?: string;
  readonly port?: number;
  /** The host name that could not be resolved. */
  readonly hostname?: string;
  /** No answer within the timeout. */
  readonly timedOut?: boolean;
}

/** Why a request got no HTTP answer at all (refused, no socket, timed out...). */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(message: string, readonly failure: TransportFailure = {}) {
    super(message);
  }
}

/** A Node socket or DNS error, or the helper's timeout, as a {@link TransportError}. */
function transportError(err: unknown, timeoutMs: number): TransportError {
  if (err instanceof HttpTimeoutError) return new TransportError(`request timed out after ${timeoutMs} ms`, { timedOut: true });
  if (!(err instanceof Error)) return new TransportError(String(err));
  const e = err as NodeJS.ErrnoException & { address?: unknown; port?: unknown; hostname?: unknown };
  const failure: { -readonly [K in keyof TransportFailure]: TransportFailure[K] } = {};
  if (typeof e.code === 'string') failure.code = e.code;
  if (typeof e.syscall === 'string') failure.syscall = e.syscall;
  if (typeof e.address === 'string') failure.address = e.address;
  if (typeof e.port === 'number') failure.port = e.port;
  if (typeof e.hostname === 'string') failure.hostname = e.hostname;
  return new TransportError(err.message, failure);
}

/**
 * Sends one request with a JSON body (if any) and reads the whole answer. `tls` applies to
 * `https:` endpoints only. Rejects with a {@link TransportError} when there is no answer within
 * `timeoutMs`, or when the TLS handshake fails (unverified server, refused client certificate).
 */
export async function sendHttp(
  endpoint: Endpoint,
  method: string,
  path: string,
  body: unknown,
  timeoutMs: number,
  tls: TlsMaterial = {},
): Promise<HttpResponse> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  try {
    const res = await requestText(targetOf(endpoint, path), { method, headers, timeoutMs, tls, ...(payload === undefined ? {} : { body: payload }) });
    return { status: res.status, body: res.body };
  } catch (err) {
    throw transportError(err, timeoutMs);
  }
}

function targetOf(endpoint: Endpoint, path: string): HttpTarget {
  const base = { protocol: endpoint.protocol, path: endpoint.basePath + path } as const;
  if (endpoint.socketPath !== undefined) return { ...base, socketPath: endpoint.socketPath };
  return endpoint.port === undefined ? { ...base, hostname: endpoint.hostname } : { ...base, hostname: endpoint.hostname, port: endpoint.port };
}

/** An HTTP answer whose body is still arriving. */
export interface HttpStream {
  readonly status: number;
  /** The `Content-Type` header, `''` when absent. */
  readonly contentType: string;
  /** The body, chunk by chunk; ends with the answer, or throws when the connection breaks. */
  readonly body: AsyncIterable<Buffer>;
  /** Closes the connection (idempotent); `body` then ends with an error. */
  close(): void;
}

/**
 * Sends one GET and resolves as soon as the answer's headers arrive, leaving the body to be read
 * as it comes (a followed log never ends on its own). `timeoutMs` bounds only the wait for the
 * headers. Aborting `signal` closes the connection, before or after the headers. Rejects with a
 * {@link TransportError} when there is no answer in time or the connection fails before the
 * headers, and with the signal's reason when `signal` aborts first.
 */
export async function openHttpStream(
  endpoint: Endpoint,
  path: string,
  timeoutMs: number,
  tls: TlsMaterial = {},
  signal?: AbortSignal,
): Promise<HttpStream> {
  const headers = { accept: 'text/plain, application/json' };
  try {
    const res = await openHttp(targetOf(endpoint, path), { headers, timeoutMs, tls, ...(signal === undefined ? {} : { signal }) });
    const type = res.headers['content-type'];
    return { status: res.status, contentType: typeof type === 'string' ? type : '', body: res.body, close: res.close };
  } catch (err) {
    if (signal?.aborted === true) throw err;
    throw transportError(err, timeoutMs);
  }
}
