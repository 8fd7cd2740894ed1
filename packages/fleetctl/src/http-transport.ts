import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { RequestOptions } from 'node:https';
import { FleetError } from '@fleet/engine';

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
 * Parses fleetctl's `--endpoint`: `unix:///var/run/fleet.sock`, `http://host:port[/prefix]`,
 * `https://...`, or a bare `host:port` (taken as http). Only the first of a comma-separated list is
 * used, as in fleet. Throws a {@link FleetError} (`INVALID_CONFIG`) for anything else.
 */
export function parseEndpoint(value: string): Endpoint {
  const text = (value.split(',')[0] ?? '').trim();
  const invalid = (why: string): FleetError =>
    new FleetError('INVALID_CONFIG', `invalid endpoint ${JSON.stringify(value)}: ${why}`);
  if (text === '') throw invalid('it is empty');
  if (text.startsWith('unix://')) {
    const socketPath = text.slice('unix://'.length);
    if (socketPath === '') throw invalid('no socket path after unix://');
    return { text, protocol: 'http:', socketPath, hostname: 'localhost', basePath: '' };
  }
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
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

/** Why a request got no HTTP answer at all (refused, no socket, timed out...). */
export class TransportError extends Error {
  override readonly name = 'TransportError';
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
    const fail = (err: unknown): void => {
      if (signal.aborted) reject(new TransportError(`request timed out after ${timeoutMs} ms`));
      else reject(new TransportError(err instanceof Error ? err.message : String(err)));
    };
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
      reject(new TransportError(timedOut ? `request timed out after ${timeoutMs} ms` : err.message));
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      const type = res.headers['content-type'];
      resolve({ status: res.statusCode ?? 0, contentType: typeof type === 'string' ? type : '', body: res, close });
    });
    req.end();
  });
}
