import { chmod, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Logger } from '@fleet/core';
import { apiError, type ApiDeps, type ApiResponse } from './request.js';
import { handleApiRequest } from './routes.js';
import type { ApiTls } from './tls.js';
import { apiPrefixes } from '@fleet/core/wire';

/** Bodies larger than this are refused (400, as fleet has no 413) before parsing. */
export const maxBodyBytes = 1024 * 1024;

/** Where the API listens: always a unix socket, optionally TCP (plain HTTP, or HTTPS with `tls`). */
export interface ApiListenOptions {
  readonly socketPath: string;
  /**
   * `host:port`. A non-loopback host is refused unless clients are authenticated (`tls` with a
   * `ca`: mutual TLS) or `allowRemote` says the operator accepts an unauthenticated API.
   */
  readonly tcp?: string | undefined;
  readonly allowRemote?: boolean;
  /** Serve HTTPS on `tcp`; with `tls.ca`, require and verify client certificates. */
  readonly tls?: ApiTls | undefined;
}

/** A running API server. */
export interface ApiServer {
  /** The TCP address actually bound (port 0 resolves to a real port), if any. */
  readonly tcpAddress: string | undefined;
  close(): Promise<void>;
}

/**
 * Serves fleet's API v1 under `/fleet/v1` and `/v1-alpha` on a unix socket (mode 0660) and optional
 * TCP. Every answer is `application/json` (204s included, as fleet's); a 405 carries `Allow`.
 */
export async function startApiServer(deps: ApiDeps, listen: ApiListenOptions, log: Logger): Promise<ApiServer> {
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    void serve(req, res, deps, log);
  };
  const servers: Server[] = [];
  await rm(listen.socketPath, { force: true }); // a stale socket from a previous run
  const unixServer = createServer(handler);
  await listenOn(unixServer, { path: listen.socketPath });
  await chmod(listen.socketPath, 0o660);
  servers.push(unixServer);
  let tcpAddress: string | undefined;
  if (listen.tcp !== undefined) {
    const colon = listen.tcp.lastIndexOf(':');
    const host = listen.tcp.slice(0, colon);
    const port = Number(listen.tcp.slice(colon + 1));
    const authenticated = listen.tls?.ca !== undefined;
    if (!listen.allowRemote && !authenticated && !isLoopback(host)) {
      throw new Error(
        `refusing to serve the unauthenticated API on ${host}: not a loopback address (set api_cert_file, api_key_file and api_ca_file for mutual TLS, or api_allow_remote to override)`,
      );
    }
    const tls = listen.tls;
    const tcpServer: Server = tls === undefined
      ? createServer(handler)
      : createHttpsServer({ cert: tls.cert, key: tls.key, ...(tls.ca === undefined ? {} : { ca: tls.ca, requestCert: true, rejectUnauthorized: true }) }, handler);
    await listenOn(tcpServer, { host, port });
    const address = tcpServer.address();
    tcpAddress = typeof address === 'object' && address !== null ? `${address.address}:${address.port}` : listen.tcp;
    servers.push(tcpServer);
  }
  return {
    tcpAddress,
    close: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      })));
    },
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function listenOn(server: Server, options: { path: string } | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function serve(req: IncomingMessage, res: ServerResponse, deps: ApiDeps, log: Logger): Promise<void> {
  let response: ApiResponse;
  const gone = new AbortController();
  res.once('close', () => gone.abort(new Error('client went away')));
  try {
    const url = new URL(req.url ?? '/', 'http://fleet');
    const prefix = apiPrefixes.find((p) => url.pathname === p || url.pathname.startsWith(`${p}/`));
    if (prefix === undefined) response = apiError(404, 'not found');
    else {
      const body = await readBody(req);
      if (body.kind === 'error') response = apiError(400, body.message);
      else {
        response = await handleApiRequest(
          {
            method: req.method ?? 'GET',
            path: url.pathname.slice(prefix.length),
            query: url.searchParams,
            body: body.value,
            signal: gone.signal,
            forwarded: req.headers[forwardedHeader] !== undefined,
          },
          deps,
        );
      }
    }
  } catch (err) {
    log.error('API request failed', { method: req.method, url: req.url, err });
    response = apiError(500, 'internal error');
  }
  res.statusCode = response.status;
  for (const [name, value] of Object.entries(response.headers ?? {})) res.setHeader(name, value);
  if (response.stream !== undefined) {
    await writeStream(res, response.stream, response.contentType ?? 'application/octet-stream', gone.signal, log);
    return;
  }
  res.setHeader('Content-Type', 'application/json');
  res.end(response.body === undefined ? undefined : JSON.stringify(response.body));
}

/** Header a fleetd sets on a request it forwards to another fleetd. */
export const forwardedHeader = 'x-fleet-forwarded';

async function writeStream(res: ServerResponse, stream: AsyncIterable<string | Uint8Array>, contentType: string, signal: AbortSignal, log: Logger): Promise<void> {
  res.setHeader('Content-Type', contentType);
  res.flushHeaders();
  try {
    for await (const chunk of stream) {
      if (signal.aborted) break;
      if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', () => resolve()));
    }
  } catch (err) {
    if (!signal.aborted) log.warn('streamed answer failed', { err });
  } finally {
    res.end();
  }
}

async function readBody(req: IncomingMessage): Promise<{ kind: 'ok'; value: unknown } | { kind: 'error'; message: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) return { kind: 'error', message: `request body is larger than ${maxBodyBytes} bytes` };
    chunks.push(chunk);
  }
  if (size === 0) return { kind: 'ok', value: undefined };
  try {
    return { kind: 'ok', value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { kind: 'error', message: 'request body is not valid JSON' };
  }
}
