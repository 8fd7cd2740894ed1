import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpTimeoutError, openHttp, requestText, targetOfUrl } from './http.js';

describe('the HTTP client over a unix socket', () => {
  let dir: string;
  let server: Server;
  let socketPath: string;
  const seen: { method: string; url: string; headers: Record<string, unknown>; body: string }[] = [];
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'http-client-'));
    socketPath = join(dir, 'api.sock');
    seen.length = 0;
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        if (req.url === '/silent') return; // never answers
        if (req.url === '/stream') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('first\n');
          return;
        }
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the method, headers and body as given and reads the whole answer', async () => {
    const res = await requestText({ protocol: 'http:', socketPath, path: '/x?a=1' }, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect({ status: res.status, body: res.body, type: res.headers['content-type'] }).toEqual({ status: 201, body: '{"ok":true}', type: 'application/json' });
    expect(seen).toMatchObject([{ method: 'PUT', url: '/x?a=1', headers: { 'content-type': 'application/json' }, body: '{"a":1}' }]);
  });

  it('rejects with HttpTimeoutError when no answer comes in time', async () => {
    await expect(requestText({ protocol: 'http:', socketPath, path: '/silent' }, { timeoutMs: 50 })).rejects.toBeInstanceOf(HttpTimeoutError);
  });

  it("rejects with Node's error when nothing listens", async () => {
    await expect(requestText({ protocol: 'http:', socketPath: join(dir, 'none.sock'), path: '/' })).rejects.toMatchObject({ code: 'ENOENT', syscall: 'connect' });
  });

  it('resolves a stream at the headers; aborting the signal ends its body with an error', async () => {
    const controller = new AbortController();
    const res = await openHttp({ protocol: 'http:', socketPath, path: '/stream' }, { timeoutMs: 1_000, signal: controller.signal });
    const chunks: string[] = [];
    const read = (async () => {
      for await (const c of res.body) {
        chunks.push((c as Buffer).toString('utf8'));
        controller.abort(new Error('enough'));
      }
    })();
    await expect(read).rejects.toThrow();
    expect(chunks).toEqual(['first\n']);
  });
});

describe('targetOfUrl', () => {
  it('takes host, port, path and query, without brackets around IPv6 hosts', () => {
    expect(targetOfUrl(new URL('https://[::1]:8443/a/b?c=d'))).toEqual({ protocol: 'https:', hostname: '::1', port: 8443, path: '/a/b?c=d' });
    expect(targetOfUrl(new URL('http://example.com/'))).toEqual({ protocol: 'http:', hostname: 'example.com', path: '/' });
  });
});
