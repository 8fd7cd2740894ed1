import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { RequestOptions } from 'node:https';
import { FleetError } from '@fleet/core';

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

/** A Node socket or DNS error as a {@link TransportError}. */
function transportError(err: unknown, timedOut: boolean, timeoutMs: number): TransportError {
  if (timedOut) return new TransportError(`request timed out after ${timeoutMs} ms`, { timedOut: true });
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
export function sendHttp(
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
  const signal = AbortSignal.timeout(timeoutMs);
  const options: RequestOptions = { ...requestOptions(endpoint, method, path, headers, tls), signal };
  const send = endpoint.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const fail = (err: unknown): void => reject(transportError(err, signal.aborted, timeoutMs));
    const req = send(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', fail);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', fail);
    req.end(payload);
  });
}

function requestOptions(endpoint: Endpoint, method: string, path: string, headers: Record<string, string>, tls: TlsMaterial): RequestOptions {
  const options: RequestOptions = { method, path: endpoint.basePath + path, headers };
  if (endpoint.socketPath !== undefined) options.socketPath = endpoint.socketPath;
  else {
    options.hostname = endpoint.hostname;
    if (endpoint.port !== undefined) options.port = endpoint.port;
  }
  if (endpoint.protocol === 'https:') {
    if (tls.ca !== undefined) options.ca = tls.ca;
    if (tls.cert !== undefined) options.cert = tls.cert;
    if (tls.key !== undefined) options.key = tls.key;
  }
  return options;
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
export function openHttpStream(
  endpoint: Endpoint,
  path: string,
  timeoutMs: number,
  tls: TlsMaterial = {},
  signal?: AbortSignal,
): Promise<HttpStream> {
  const send = endpoint.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const req = send(requestOptions(endpoint, 'GET', path, { accept: 'text/plain, application/json' }, tls));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy();
    }, timeoutMs);
    const onAbort = (): void => {
      clearTimeout(timer);
      req.destroy();
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const close = (): void => {
      signal?.removeEventListener('abort', onAbort);
      req.destroy();
    };
    req.on('error', (err) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted === true) return;
      reject(transportError(err, timedOut, timeoutMs));
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      const type = res.headers['content-type'];
      resolve({ status: res.statusCode ?? 0, contentType: typeof type === 'string' ? type : '', body: res, close });
    });
    req.end();
  });
}
