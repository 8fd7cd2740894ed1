import { requestText, targetOfUrl } from '@fleet/core/http';

/** Where one request goes: a unix socket (a fleetd's API) and a path, or a URL. */
export type HttpTarget = { readonly socketPath: string; readonly path: string } | { readonly url: string };

/**
 * Sends one HTTP request, `body` (if any) as JSON, and resolves with the status and the whole
 * answer as text, through the project's one HTTP client (`@fleet/core/http`). Rejects when the
 * connection fails or, with `timeoutMs`, when the whole answer has not arrived by then.
 */
export async function httpRequest(
  target: HttpTarget,
  { method = 'GET', body, timeoutMs }: { method?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<{ status: number; body: string }> {
  const to = 'url' in target ? targetOfUrl(new URL(target.url)) : { protocol: 'http:' as const, socketPath: target.socketPath, path: target.path };
  const res = await requestText(to, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  return { status: res.status, body: res.body };
}
