import { request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage, RequestOptions } from 'node:http';

// The one HTTP client of the project (fleetctl, the API's forwarder, the scripts and tests): plain
// node:http, because fleetctl starts with it and undici alone costs more to load than fleetctl's
// whole start-up budget. node:https is loaded only for an https: target (about 40 ms at start).

/** Where a request goes: a unix socket or a host, and the path with its query. */
export interface HttpTarget {
  readonly protocol: 'http:' | 'https:';
  /** Set for a unix socket; `hostname` and `port` are then not dialled. */
  readonly socketPath?: string;
  readonly hostname?: string;
  readonly port?: number;
  /** Path and query, e.g. `/fleet/v1/units?alt=json`. */
  readonly path: string;
}

/** TLS material for an https: target, PEM-encoded; the server is always verified. */
export interface HttpTls {
  readonly ca?: string | Buffer | undefined;
  readonly cert?: string | Buffer | undefined;
  readonly key?: string | Buffer | undefined;
}

/** What to send. Headers are sent as given: nothing is added but what Node itself adds. */
export interface HttpRequest {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /**
   * No answer within this time is an {@link HttpTimeoutError}: the headers for {@link openHttp},
   * the whole answer for {@link requestText}.
   */
  readonly timeoutMs?: number;
  /** Aborting closes the connection, before or after the headers; rejects with its reason. */
  readonly signal?: AbortSignal;
  /** Used for https: targets only. */
  readonly tls?: HttpTls;
}

/** An answer whose body is still arriving. */
export interface HttpOpenResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body as it comes (a Node readable stream); fails when the connection breaks. */
  readonly body: IncomingMessage;
  /** Closes the connection (idempotent); `body` then ends with an error. */
  close(): void;
}

/** A whole answer. */
export interface HttpTextResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** No answer within {@link HttpRequest.timeoutMs}. */
export class HttpTimeoutError extends Error {
  override readonly name = 'HttpTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

/** The {@link HttpTarget} of an http: or https: URL. */
export function targetOfUrl(url: URL): HttpTarget {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`not an HTTP URL: ${url.href}`);
  const base = { protocol: url.protocol, hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'), path: `${url.pathname}${url.search}` } as const;
  return url.port === '' ? base : { ...base, port: Number(url.port) };
}

/**
 * Sends one request and resolves as soon as the answer's headers arrive. Rejects with Node's
 * socket or DNS error when the connection fails, with an {@link HttpTimeoutError} when the headers
 * do not arrive in time, and with the signal's reason when `signal` aborts first.
 */
export async function openHttp(target: HttpTarget, request: HttpRequest = {}): Promise<HttpOpenResponse> {
  const send = target.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
  const { signal, timeoutMs } = request;
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const req: ClientRequest = send(requestOptions(target, request));
    let timedOut = false;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      req.destroy();
    }, timeoutMs);
    const onAbort = (): void => {
      clearTimeout(timer);
      req.destroy();
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted === true) return;
      reject(timedOut && timeoutMs !== undefined ? new HttpTimeoutError(timeoutMs) : err);
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      const close = (): void => {
        signal?.removeEventListener('abort', onAbort);
        req.destroy();
      };
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, close });
    });
    req.end(request.body);
  });
}

/** {@link openHttp}, then reads the whole body as UTF-8; `timeoutMs` bounds the whole exchange. */
export async function requestText(target: HttpTarget, request: HttpRequest = {}): Promise<HttpTextResponse> {
  const started = Date.now();
  const res = await openHttp(target, request);
  const { timeoutMs } = request;
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (timeoutMs !== undefined) {
    timer = setTimeout(() => res.body.destroy(new HttpTimeoutError(timeoutMs)), Math.max(0, timeoutMs - (Date.now() - started)));
  }
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of res.body) chunks.push(chunk as Buffer);
    return { status: res.status, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
  } finally {
    clearTimeout(timer);
  }
}

function requestOptions(target: HttpTarget, request: HttpRequest): RequestOptions {
  const options: RequestOptions & { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; servername?: string } = {
    method: request.method ?? 'GET',
    path: target.path,
    headers: { ...request.headers },
  };
  // Plain HTTP has no use for a TLS server name, but Node's agent computes one for every request
  // unless it is given (net.isIP on the host: a large regular expression compiled on first use,
  // about 10 ms of fleetctl's start-up). https: keeps Node's choice, which TLS verifies against.
  if (target.protocol === 'http:') options.servername = '';
  if (target.socketPath !== undefined) options.socketPath = target.socketPath;
  else {
    if (target.hostname !== undefined) options.hostname = target.hostname;
    if (target.port !== undefined) options.port = target.port;
  }
  const tls = request.tls;
  if (target.protocol === 'https:' && tls !== undefined) {
    if (tls.ca !== undefined) options.ca = tls.ca;
    if (tls.cert !== undefined) options.cert = tls.cert;
    if (tls.key !== undefined) options.key = tls.key;
  }
  return options;
}
