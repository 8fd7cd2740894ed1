import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, ApiUnreachableError, HttpFleetApiClient } from './api-client.js';
import { parseEndpoint } from './http-transport.js';
import { startHarness } from './testing/harness.js';

describe('parseEndpoint', () => {
  it.each([
    ['unix:///var/run/fleet.sock', { socketPath: '/var/run/fleet.sock', protocol: 'http:', basePath: '' }],
    ['http://10.0.0.1:49153', { hostname: '10.0.0.1', port: 49153, protocol: 'http:', basePath: '' }],
    ['https://fleet.example.com/api/', { hostname: 'fleet.example.com', protocol: 'https:', basePath: '/api' }],
    ['127.0.0.1:8080', { hostname: '127.0.0.1', port: 8080, protocol: 'http:' }],
    ['http://[::1]:80', { hostname: '::1', protocol: 'http:' }],
    ['http://a:1,http://b:2', { hostname: 'a', port: 1, text: 'http://a:1' }],
    ['file:///var/run/fleet.sock', { socketPath: '/var/run/fleet.sock', protocol: 'http:' }],
  ])('%s', (text, expected) => {
    expect(parseEndpoint(text)).toMatchObject(expected);
  });

  it.each([
    ['', 'URL scheme undefined'],
    ['fleet.sock', 'URL scheme undefined'],
    ['unix://var/run/fleet.sock', 'unable to connect to host "var" with scheme "unix"'],
    ['unix://', 'no socket path after unix://'],
    ['etcd://x:2379', 'unsupported scheme etcd:'],
  ])('rejects %j', (text, why) => {
    expect(() => parseEndpoint(text)).toThrow(why);
  });
});

describe('HttpFleetApiClient over a unix socket', () => {
  it('follows nextPageToken, maps 404s and keeps "@" in unit paths', async () => {
    const h = await startHarness();
    try {
      for (const n of ['a', 'b', 'c', 'd', 'e']) h.api.addUnit(`${n}.service`, [{ section: 'Service', name: 'ExecStart', value: '/bin/true' }]);
      h.api.addUnit('web@1.service', [{ section: 'Service', name: 'ExecStart', value: '/bin/true' }]);
      const client = new HttpFleetApiClient(h.api.endpoint, { timeoutMs: 1000 });
      expect((await client.listUnits()).map((u) => u.name)).toEqual(['a.service', 'b.service', 'c.service', 'd.service', 'e.service', 'web@1.service']);
      expect(await client.getUnit('nope.service')).toBeUndefined();
      expect(await client.destroyUnit('nope.service')).toBe(false);
      expect(await client.destroyUnit('web@1.service')).toBe(true);
      expect(h.api.requests.at(-1)?.url).toBe('/fleet/v1/units/web@1.service');
      await expect(client.setDesiredState('nope.service', 'launched')).rejects.toThrow('unit nope.service does not exist and options field is empty');
      await expect(client.setDesiredState('nope.service', 'launched')).rejects.toMatchObject({ status: 409, code: 'API_ERROR' });
    } finally {
      await h.close();
    }
  });
});

describe('HttpFleetApiClient over TCP', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    server = createServer(handler);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server?.address() as AddressInfo).port}`;
  }

  it('reports a non-JSON error body with its status', async () => {
    const endpoint = await serve((_req, res) => res.writeHead(502).end('Bad Gateway'));
    const client = new HttpFleetApiClient(endpoint, { timeoutMs: 1000 });
    const err = await client.listMachines().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 502, message: 'fleet API answered HTTP 502: Bad Gateway' });
  });

  it('refuses a page token that repeats', async () => {
    const endpoint = await serve((_req, res) => res.end(JSON.stringify({ machines: [], nextPageToken: 'same' })));
    const client = new HttpFleetApiClient(endpoint, { timeoutMs: 1000 });
    await expect(client.listMachines()).rejects.toThrow('malformed API answer: page token same repeats');
  });

  it('passes state filters as query parameters', async () => {
    const urls: string[] = [];
    const endpoint = await serve((req, res) => {
      urls.push(req.url ?? '');
      res.end(JSON.stringify({ states: [] }));
    });
    await new HttpFleetApiClient(`${endpoint}/prefix`, { timeoutMs: 1000 }).listUnitStates({ unitName: 'web@1.service', machineID: 'abc' });
    expect(urls).toEqual(['/prefix/fleet/v1/state?unitName=web%401.service&machineID=abc']);
  });

  it('times out after --request-timeout', async () => {
    const endpoint = await serve(() => {
      // never answers
    });
    const client = new HttpFleetApiClient(endpoint, { timeoutMs: 50 });
    const err = await client.listUnits().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect((err as Error).message).toBe(`cannot reach fleet API at ${endpoint}: request timed out after 50 ms`);
  });
});
