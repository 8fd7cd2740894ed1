import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger, systemClock } from '@fleet/core';
import { handleApiRequest, startApiServer, type ApiDeps, type ApiResponse } from '@fleet/api';
import { hashUnitFile, parseUnitFile, parseUnitName, type MachineState } from '@fleet/core/model';
import { EtcdClusterCache, EtcdRegistry, MachinePresence } from '@fleet/etcd';
import { KeySchema } from '@fleet/core/registry';
import { aMachine } from '@fleet/core/testing';
import { httpRequest } from '../../scripts/local-cluster/http.js';
import { pollUntil } from '../../scripts/local-cluster/processes.js';
import { useEtcd } from './etcd-fixture.js';

const fixture = useEtcd('api-test');

const options = (command: string) => [{ section: 'Service', name: 'ExecStart', value: command }];

const caches = new AbortController();
afterAll(() => caches.abort());

/** The API over a registry and its cluster cache on a fresh prefix, called in-process (as fleetd wires them). */
function api(tokenLimit = 100) {
  const prefix = fixture.freshPrefix();
  const registry = new EtcdRegistry(fixture.client, prefix, silentLogger);
  const cache = new EtcdClusterCache(fixture.client, new KeySchema(prefix), silentLogger);
  void cache.start(caches.signal);
  const deps: ApiDeps = { units: registry, cluster: cache, machines: registry, tokenLimit };
  const call = (method: string, path: string, body?: unknown, query = ''): Promise<ApiResponse> =>
    handleApiRequest({ method, path, query: new URLSearchParams(query), body }, deps);
  const presence = async (machine: MachineState): Promise<MachinePresence> => {
    const p = new MachinePresence(fixture.client, prefix, machine, 10, systemClock, silentLogger);
    await p.start(new AbortController().signal);
    return p;
  };
  return { prefix, registry, deps, call, presence };
}

/** Every item of a paginated collection, following nextPageToken; also counts the pages. */
async function allPages(call: ReturnType<typeof api>['call'], path: string, field: string, query = ''): Promise<{ items: unknown[]; pages: number }> {
  const items: unknown[] = [];
  let pages = 0;
  let token: string | undefined = '';
  while (token !== undefined) {
    const response = await call('GET', path, undefined, `${query}&nextPageToken=${token}`);
    expect(response.status).toBe(200);
    const page = response.body as Record<string, unknown[]> & { nextPageToken?: string };
    items.push(...(page[field] ?? []));
    token = page.nextPageToken;
    pages++;
  }
  return { items, pages };
}

describe('API v1 on a real etcd', () => {
  it('replaces a unit in one transaction guarded by its revision', async () => {
    const { registry } = api();
    const name = parseUnitName('hello.service');
    const first = parseUnitFile('[Service]\nExecStart=/bin/sleep 1000\n');
    const second = parseUnitFile('[Service]\nExecStart=/bin/sleep 2000\n');
    expect(await registry.createUnit({ name, file: first, hash: hashUnitFile(first), desiredState: 'launched' })).toEqual({ kind: 'created' });
    const exists = await registry.createUnit({ name, file: second, hash: hashUnitFile(second), desiredState: 'loaded' });
    if (exists.kind !== 'exists') throw new Error('expected the unit to exist');
    // Someone changes the unit after it was read: the replace must not overwrite that unseen.
    await registry.setDesiredState(name, 'inactive');
    expect(await registry.replaceUnit({ name, file: second, hash: hashUnitFile(second), desiredState: 'loaded' }, exists.revision)).toEqual({ kind: 'conflict' });
    expect(await registry.getUnit(name)).toEqual({ name, file: first, hash: hashUnitFile(first), desiredState: 'inactive' });
    const again = await registry.createUnit({ name, file: second, hash: hashUnitFile(second), desiredState: 'loaded' });
    if (again.kind !== 'exists') throw new Error('expected the unit to exist');
    expect(await registry.replaceUnit({ name, file: second, hash: hashUnitFile(second), desiredState: 'loaded' }, again.revision)).toEqual({ kind: 'replaced' });
    expect(await registry.getUnit(name)).toEqual({ name, file: second, hash: hashUnitFile(second), desiredState: 'loaded' });
    // The old file stays for the engine to collect; a destroyed unit cannot be replaced.
    expect((await registry.snapshot()).unitFileHashes).toEqual(expect.arrayContaining([hashUnitFile(first), hashUnitFile(second)]));
    await registry.destroyUnit(name);
    expect(await registry.replaceUnit({ name, file: first, hash: hashUnitFile(first), desiredState: 'loaded' }, again.revision)).toEqual({ kind: 'conflict' });
  });

  it('replaces a unit through PUT (201, as fleet answers a replace) and shows the new options', async () => {
    const { call } = api();
    expect((await call('PUT', '/units/web.service', { desiredState: 'launched', options: options('/bin/a') })).status).toBe(201);
    expect(await call('PUT', '/units/web.service', { desiredState: 'loaded', options: options('/bin/b') })).toEqual({ status: 201 });
    expect((await call('GET', '/units/web.service')).body).toMatchObject({ options: options('/bin/b'), desiredState: 'loaded' });
  });

  it('pages units, unit states and machines across several pages', async () => {
    const { call, presence } = api(2);
    const names = ['a', 'b', 'c', 'd', 'e'].map((n) => `${n}.service`);
    for (const n of names) expect((await call('PUT', `/units/${n}`, { desiredState: 'inactive', options: options(`/bin/${n}`) })).status).toBe(201);
    const units = await allPages(call, '/units', 'units');
    expect(units.pages).toBe(3);
    expect(units.items.map((u) => (u as { name: string }).name)).toEqual(names);

    const [m1, m2, m3] = [aMachine('m1'), aMachine('m2'), aMachine('m3')] as const;
    const present = await Promise.all([m1, m2, m3].map(presence));
    const [p1, p2] = present;
    for (const n of names) {
      for (const [p, m] of [[p1, m1], [p2, m2]] as const) {
        await p?.publishState({ name: parseUnitName(n), machineId: m.id, hash: 'h', loadState: 'loaded', activeState: 'active', subState: 'running' });
      }
    }
    const states = await allPages(call, '/state', 'states');
    expect(states.pages).toBe(5);
    expect(states.items.map((s) => `${(s as { name: string }).name}@${(s as { machineID: string }).machineID.slice(0, 4)}`)).toEqual(
      names.flatMap((n) => [m1, m2].map((m) => `${n}@${m.id.slice(0, 4)}`).sort()),
    );
    const onM2 = await allPages(call, '/state', 'states', `machineID=${m2.id}`);
    expect([onM2.pages, onM2.items.length]).toEqual([3, 5]);
    const machines = await allPages(call, '/machines', 'machines');
    expect([machines.pages, machines.items.length]).toEqual([2, 3]);
    expect((await call('GET', '/state/c.service')).body).toMatchObject({ name: 'c.service' });
    await Promise.all(present.map((p) => p.stop({ revoke: true })));
  });

  it('patches machine metadata: every reader sees it, and it survives the machine leaving and rejoining', async () => {
    const { call, registry, presence } = api();
    const m = aMachine('pm', { rack: 'r1', disk: 'hdd' });
    const absent = aMachine('gone', { rack: 'r1' });
    const stop = new AbortController();
    const wakes = registry.changes({ kind: 'cluster' }, stop.signal)[Symbol.asyncIterator]();
    await wakes.next(); // the immediate first wake-up
    let p = await presence(m);
    const woken = wakes.next();
    const patch = [
      { op: 'replace', path: `/${m.id}/metadata/rack`, value: 'r2' },
      { op: 'remove', path: `/${m.id}/metadata/disk` },
      { op: 'add', path: `/${m.id}/metadata/zone`, value: 'z1' },
      { op: 'add', path: `/${absent.id}/metadata/rack`, value: 'r7' },
    ];
    expect(await call('PATCH', '/machines', patch)).toEqual({ status: 204 });
    const effective = { rack: 'r2', zone: 'z1' };
    expect((await call('GET', '/machines')).body).toEqual({ machines: [{ id: m.id, primaryIP: '127.0.0.1', metadata: effective }] });
    expect((await registry.snapshot()).machines.get(m.id)?.metadata).toEqual(effective);
    // The engine's watch wakes for metadata changes too.
    expect((await woken).done).toBe(false);

    await p.stop({ revoke: true });
    expect((await registry.snapshot()).machines.has(m.id)).toBe(false);
    expect(await registry.metadataOverrides()).toEqual(new Map([[m.id, { rack: 'r2', disk: null, zone: 'z1' }], [absent.id, { rack: 'r7' }]]));
    p = await presence(m); // rejoins with its configured metadata
    expect((await registry.snapshot()).machines.get(m.id)?.metadata).toEqual(effective);
    const q = await presence(absent); // joins for the first time: the waiting override applies
    expect((await registry.snapshot()).machines.get(absent.id)?.metadata).toEqual({ rack: 'r7' });
    await Promise.all([p.stop({ revoke: true }), q.stop({ revoke: true })]);
    stop.abort();
    await wakes.return?.();
  });

  it('applies concurrent patches of one machine without losing any (compare-and-swap)', async () => {
    const { call, registry } = api();
    const m = aMachine('cc');
    const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
    const answers = await Promise.all(keys.map((k) => call('PATCH', '/machines', [{ op: 'add', path: `/${m.id}/metadata/${k}`, value: k }])));
    expect(answers.every((a) => a.status === 204)).toBe(true);
    expect((await registry.metadataOverrides()).get(m.id)).toEqual(Object.fromEntries(keys.map((k) => [k, k])));
  });

  it('stores nothing from a PATCH with one bad operation', async () => {
    const { call, registry } = api();
    const m = aMachine('bad');
    const response = await call('PATCH', '/machines', [{ op: 'add', path: `/${m.id}/metadata/ok`, value: 'v' }, { op: 'add', path: `/${m.id}/metadata/x` }]);
    expect(response.status).toBe(400);
    expect(await registry.metadataOverrides()).toEqual(new Map());
  });

  it('answers 503 within the bound while etcd is frozen (reads once the cache has heard nothing for a second), and 200 again once it resumes', async () => {
    const socketPath = join(fixture.dir, 'api.sock');
    const server = await startApiServer({ ...api().deps, registryTimeoutMs: 1_000 }, { socketPath }, silentLogger);
    const get = (path: string, method = 'GET', body?: unknown): Promise<{ status: number; body: string }> =>
      httpRequest({ socketPath, path: `/fleet/v1${path}` }, { method, body });
    try {
      expect((await get('/units')).status).toBe(200);
      process.kill(fixture.etcd.process.pid, 'SIGSTOP');
      const started = Date.now();
      // A write goes to etcd: 503 once the bound is over.
      const put = await get('/units/frozen.service', 'PUT', { desiredState: 'inactive', options: options('/bin/true') });
      const elapsed = Date.now() - started;
      const unavailable = { status: 503, body: JSON.stringify({ error: { code: 503, message: 'fleet server unable to communicate with etcd' } }) };
      expect(put).toEqual(unavailable);
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(5_000);
      // A read is served from the cache, whose watch has now been quiet for over a second: it checks
      // that etcd answers first, and so is a 503 within the bound too.
      const readStarted = Date.now();
      expect(await get('/units')).toEqual(unavailable);
      expect(Date.now() - readStarted).toBeLessThan(5_000);
      const patch = [{ op: 'add', path: `/${aMachine('z').id}/metadata/k`, value: 'v' }];
      expect((await get('/machines', 'PATCH', patch)).status).toBe(503);
    } finally {
      process.kill(fixture.etcd.process.pid, 'SIGCONT');
    }
    await pollUntil('the API to answer 200 again', async () => ((await get('/units')).status === 200 ? true : undefined), { timeoutMs: 20_000 });
    await server.close();
  });
});
