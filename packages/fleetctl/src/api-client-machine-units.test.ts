import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, ApiUnreachableError, HttpFleetApiClient } from './api-client.js';
import { machineA, machineB, startHarness } from './testing/harness.js';
import type { Harness } from './testing/harness.js';

let h: Harness;
let client: HttpFleetApiClient;
beforeEach(async () => {
  h = await startHarness();
  client = new HttpFleetApiClient(h.api.endpoint, { timeoutMs: 1000 });
});
afterEach(async () => {
  await h.close();
});

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const line of lines) all.push(line);
  return all;
}

describe('unitStatus', () => {
  it('reads systemd text and data of a unit on one machine, keeping "@" in the path', async () => {
    h.api.systemdStatus.set(`${machineB}/web@1.service`, { text: '● web@1.service\n     Active: active (running)', unit: { subState: 'running' } });
    expect(await client.unitStatus(machineB, 'web@1.service')).toEqual({
      machineID: machineB,
      text: '● web@1.service\n     Active: active (running)',
      unit: { subState: 'running' },
    });
    expect(h.api.requests.map((r) => r.url)).toEqual([`/fleet/v1/machines/${machineB}/units/web@1.service/status`]);
  });

  it.each([
    ['an unknown machine', 'f'.repeat(32), 404, `machine ${'f'.repeat(32)} is not in the cluster`],
    ['a machine whose fleetd cannot be reached', machineA, 502, `machine ${machineA} could not be reached at http://fake: connect ECONNREFUSED`],
  ])('rejects with the API error for %s', async (_what, machine, status, message) => {
    h.api.unreachable.add(machineA);
    await expect(client.unitStatus(machine, 'hello.service')).rejects.toMatchObject({ name: 'ApiError', status, message });
  });

  it('refuses an answer without text', async () => {
    const endpoint = await serveTcp((_req, res) => res.end(JSON.stringify({ machineID: machineA })));
    const tcp = new HttpFleetApiClient(endpoint, { timeoutMs: 1000 });
    await expect(tcp.unitStatus(machineA, 'x.service')).rejects.toThrow('malformed API answer: unit status has no "text"');
  });
});

describe('unitJournal', () => {
  it('yields the newest lines without their line breaks, asking for lines and follow=false', async () => {
    h.api.journals.set(`${machineA}/hello.service`, ['one', 'two', 'three']);
    expect(await collect(client.unitJournal(machineA, 'hello.service', { lines: 2 }))).toEqual(['two', 'three']);
    expect(h.api.requests.map((r) => r.url)).toEqual([`/fleet/v1/machines/${machineA}/units/hello.service/journal?lines=2&follow=false`]);
  });

  it('yields nothing for an empty log', async () => {
    expect(await collect(client.unitJournal(machineA, 'hello.service'))).toEqual([]);
  });

  it.each([
    ['a bad line count', { lines: -1 }, 400, 'lines must be an integer from 0 to 100000'],
    ['an unknown machine', { machine: 'f'.repeat(32) }, 404, `machine ${'f'.repeat(32)} is not in the cluster`],
    ['an unreachable machine', { machine: machineB }, 502, `machine ${machineB} could not be reached at http://fake: connect ECONNREFUSED`],
    ['etcd down', { fail: true }, 503, 'fleet is unable to communicate with etcd'],
  ])('throws the API error (JSON body) for %s', async (_what, c: { lines?: number; machine?: string; fail?: boolean }, status, message) => {
    h.api.unreachable.add(machineB);
    if (c.fail === true) h.api.failNext = { status: 503, message: 'fleet is unable to communicate with etcd' };
    const err = await collect(client.unitJournal(c.machine ?? machineA, 'hello.service', c.lines === undefined ? {} : { lines: c.lines })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status, message });
  });

  it('follows: yields lines as they are logged until the signal aborts, then closes the connection', async () => {
    h.api.journals.set(`${machineA}/hello.service`, ['old 1', 'old 2']);
    const abort = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      for await (const line of client.unitJournal(machineA, 'hello.service', { lines: 1, follow: true, signal: abort.signal })) {
        seen.push(line);
        if (line === 'old 2') h.api.appendJournal(machineA, 'hello.service', 'new 1', 'new 2');
        if (line === 'new 2') abort.abort();
      }
    })();
    await following; // ends quietly
    expect(seen).toEqual(['old 2', 'new 1', 'new 2']);
    expect(h.api.requests.at(-1)?.url).toContain('?lines=1&follow=true');
    await h.api.whenFollowers(0);
  });

  it('closes the connection when the consumer stops iterating', async () => {
    h.api.journals.set(`${machineA}/hello.service`, ['a', 'b']);
    for await (const line of client.unitJournal(machineA, 'hello.service', { follow: true })) {
      expect(line).toBe('a');
      break;
    }
    await h.api.whenFollowers(0);
  });

  it('does not even connect with an aborted signal', async () => {
    const abort = new AbortController();
    abort.abort();
    expect(await collect(client.unitJournal(machineA, 'hello.service', { follow: true, signal: abort.signal }))).toEqual([]);
    expect(h.api.requests).toEqual([]);
  });
});

describe('unitJournal over TCP', () => {
  it('joins lines and UTF-8 characters split across chunks, and yields a last line without a break', async () => {
    const endpoint = await serveTcp((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      const bytes = Buffer.from('first\r\nsec', 'utf8');
      const accent = Buffer.from('ond é\nlast', 'utf8');
      res.write(bytes);
      res.write(accent.subarray(0, 5)); // "ond " + first byte of "é"
      res.end(accent.subarray(5));
    });
    const tcp = new HttpFleetApiClient(endpoint, { timeoutMs: 1000 });
    expect(await collect(tcp.unitJournal(machineA, 'x.service'))).toEqual(['first', 'second é', 'last']);
  });

  it('bounds only the wait for the answer by --request-timeout, not the log that follows', async () => {
    const endpoint = await serveTcp((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.flushHeaders();
      setTimeout(() => res.end('late line\n'), 150);
    });
    const tcp = new HttpFleetApiClient(endpoint, { timeoutMs: 50 });
    expect(await collect(tcp.unitJournal(machineA, 'x.service', { follow: true }))).toEqual(['late line']);
  });

  it('times out when no answer comes', async () => {
    const endpoint = await serveTcp(() => {
      // never answers
    });
    const tcp = new HttpFleetApiClient(endpoint, { timeoutMs: 50 });
    const err = await collect(tcp.unitJournal(machineA, 'x.service')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect((err as Error).message).toBe(`cannot reach fleet API at ${endpoint}: request timed out after 50 ms`);
  });

  it('throws ApiUnreachableError when the connection breaks midway, after the lines before', async () => {
    let answer: ServerResponse | undefined;
    const endpoint = await serveTcp((_req, res) => {
      answer = res;
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.write('one\n');
    });
    const tcp = new HttpFleetApiClient(endpoint, { timeoutMs: 1000 });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const line of tcp.unitJournal(machineA, 'x.service', { follow: true })) {
        seen.push(line);
        // The server breaks the connection once the first line got through.
        answer?.socket?.destroy();
      }
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['one']);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect((err as Error).message).toMatch(new RegExp(`^cannot reach fleet API at ${endpoint}: the log stream broke: `));
  });
});

// Plain TCP servers for answers our API does not give; closed after each test.
const servers: Server[] = [];
async function serveTcp(handler: (req: unknown, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
