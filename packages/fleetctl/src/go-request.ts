import type { Endpoint, TransportFailure } from './http-transport.js';

// How Go's HTTP client and dialer word a request that got no answer, for fleet's error messages.

/**
 * The URL of a request as fleet's client builds it, for its error messages: `http://domain-sock`
 * for a unix socket, the query's keys sorted with `alt=json` among them.
 */
export function goRequestUrl(endpoint: Endpoint, pathAndQuery: string): string {
  const [path = '', query = ''] = pathAndQuery.split('?', 2);
  const params = new URLSearchParams(query);
  params.set('alt', 'json');
  params.sort();
  const host = endpoint.port === undefined ? endpoint.hostname : `${endpoint.hostname.includes(':') ? `[${endpoint.hostname}]` : endpoint.hostname}:${endpoint.port}`;
  const base = endpoint.socketPath !== undefined ? 'http://domain-sock' : `${endpoint.protocol}//${host}${endpoint.basePath}`;
  return `${base}${path}?${params.toString()}`;
}

/** The reason Go's dialer gives for what Node reported, or `undefined` when it has no close match. */
export function goDialText(endpoint: Endpoint, failure: TransportFailure): string | undefined {
  if (failure.timedOut === true) return 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)';
  if (failure.code === 'ENOTFOUND') return `dial tcp: lookup ${failure.hostname ?? endpoint.hostname}: no such host`;
  const errno = failure.code === undefined ? undefined : errnoTexts[failure.code];
  if (errno === undefined || failure.syscall !== 'connect') return undefined;
  if (endpoint.socketPath !== undefined) return `dial unix ${endpoint.socketPath}: connect: ${errno}`;
  const address = failure.address ?? endpoint.hostname;
  const port = failure.port ?? endpoint.port ?? (endpoint.protocol === 'https:' ? 443 : 80);
  return `dial tcp ${address.includes(':') ? `[${address}]` : address}:${port}: connect: ${errno}`;
}

/** strerror(3) of what a connect may fail with, as Go prints it. */
const errnoTexts: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  ECONNREFUSED: 'connection refused',
  EACCES: 'permission denied',
  ECONNRESET: 'connection reset by peer',
  ENOTSOCK: 'socket operation on non-socket',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  ETIMEDOUT: 'connection timed out',
};
