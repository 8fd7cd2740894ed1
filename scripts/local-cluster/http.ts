import { request, type IncomingMessage, type RequestOptions } from 'node:http';

/** Where one request goes: a unix socket (a fleetd's API) and a path, or a URL. */
export type HttpTarget = { readonly socketPath: string; readonly path: string } | { readonly url: string };

/**
 * Sends one HTTP request, `body` (if any) as JSON, and resolves with the status and the whole
 * answer as text. Rejects when the connection fails or, with `timeoutMs`, when the socket stays
 * idle that long.
 */
export function httpRequest(
  target: HttpTarget,
  { method = 'GET', body, timeoutMs }: { method?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const options: RequestOptions = { method, headers: body === undefined ? {} : { 'Content-Type': 'application/json' } };
    if (timeoutMs !== undefined) options.timeout = timeoutMs;
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    };
    const req = 'url' in target ? request(target.url, options, onResponse) : request({ ...options, socketPath: target.socketPath, path: target.path }, onResponse);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${String(timeoutMs)} ms`)));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
