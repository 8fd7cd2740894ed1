import { afterAll, describe, expect, it } from 'vitest';
import { RegistryUnavailableError, silentLogger } from '@fleet/core';
import { hashUnitFile, parseUnitFile, parseUnitName, type Unit } from '@fleet/core/model';
import { KeySchema } from '@fleet/core/registry';
import { withDeadline } from '@fleet/core/testing';
import { connectEtcd, EtcdClusterCache, EtcdRegistry } from '@fleet/etcd';
import { httpRequest } from '../../scripts/local-cluster/http.js';
import { useEtcd } from './etcd-fixture.js';

const fixture = useEtcd('cache');
const stop = new AbortController();
afterAll(() => stop.abort());

const unitOf = (n: number): Unit => {
  const file = parseUnitFile(`[Service]\nExecStart=/bin/sleep ${n}\n`);
  return { name: parseUnitName(`u${n}.service`), file, hash: hashUnitFile(file), desiredState: 'launched' };
};

/** etcd's count of RPCs begun for one method (from its metrics endpoint, which is no RPC). */
async function rpcs(method: string): Promise<number> {
  const text = (await httpRequest({ url: `${fixture.etcd.clientUrl}/metrics` })).body;
  return text.split('\n').filter((l) => l.startsWith('grpc_server_started_total{') && l.includes(`grpc_method="${method}"`))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describe('EtcdClusterCache on a real etcd', () => {
  it('fills from what is stored, in pages at one revision, and skips corrupt records', async () => {
    const prefix = fixture.freshPrefix();
    const registry = new EtcdRegistry(fixture.client, prefix, silentLogger);
    for (let i = 0; i < 1_205; i += 1) await registry.createUnit(unitOf(i));
    await fixture.client.put(`${prefix}units/bad.service`).value('{');
    const cache = new EtcdClusterCache(fixture.client, new KeySchema(prefix), silentLogger);
    await cache.start(stop.signal);
    const view = await cache.view();
    expect(view.unitCount).toBe(1_205);
    expect(view.units(0, 2).map((u) => u.name)).toEqual(['u0.service', 'u1.service']);
    expect(view.planningInput().corrupt).toEqual([`${prefix}units/bad.service`]);
    expect(view.planningInput().unitFileHashes).toHaveLength(1_205);
  });

  it("wakes the engine's feed only once the view holds the change, also for writes by other fleetds", async () => {
    const prefix = fixture.freshPrefix();
    const other = connectEtcd({ servers: [fixture.etcd.clientUrl], requestTimeoutMs: 5_000 });
    const elsewhere = new EtcdRegistry(other, prefix, silentLogger);
    const cache = new EtcdClusterCache(fixture.client, new KeySchema(prefix), silentLogger);
    await cache.start(stop.signal);
    const wakes = cache.changes({ kind: 'cluster' }, stop.signal)[Symbol.asyncIterator]();
    await withDeadline(wakes.next(), 'the first wake-up', 5_000);
    try {
      for (const n of [1, 2, 3]) {
        const next = wakes.next();
        await elsewhere.createUnit(unitOf(n));
        await withDeadline(next, `a wake-up after unit ${n}`, 5_000);
        // No own write on this connection: the view is read as it is, and already holds the unit.
        expect((await cache.view()).unit(unitOf(n).name)).toBeDefined();
      }
    } finally {
      other.close();
    }
  });

  it('reads uncached unit files in batched transactions, and bounds what it keeps', async () => {
    const prefix = fixture.freshPrefix();
    const registry = new EtcdRegistry(fixture.client, prefix, silentLogger);
    const units = Array.from({ length: 150 }, (_, i) => unitOf(i));
    for (const u of units) await registry.createUnit(u);
    const cache = new EtcdClusterCache(fixture.client, new KeySchema(prefix), silentLogger, { unitFileCacheSize: 10 });
    await cache.start(stop.signal);
    const before = await rpcs('Txn');
    const files = await cache.unitFiles(units.map((u) => u.hash));
    expect(files.size).toBe(150);
    expect(files.get(units[42]!.hash)).toEqual(units[42]!.file);
    // 140 were not cached (10 came with the fill): 2 transactions of at most 100 reads.
    expect((await rpcs('Txn')) - before).toBe(2);
  });

  it('fails a read as an outage, after its bound, when the cache cannot reach this connection\'s last write', async () => {
    const prefix = fixture.freshPrefix();
    const registry = new EtcdRegistry(fixture.client, prefix, silentLogger);
    // Never started: it never fills, as if its watch were stuck behind the write.
    const stuck = new EtcdClusterCache(fixture.client, new KeySchema(prefix), silentLogger, { waitMs: 200 });
    await registry.createUnit(unitOf(1));
    const started = Date.now();
    await expect(stuck.view()).rejects.toBeInstanceOf(RegistryUnavailableError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });
});
