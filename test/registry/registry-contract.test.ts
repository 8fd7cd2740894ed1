import { silentLogger, systemClock } from '@fleet/core';
import { registryContract } from '@fleet/core/testing';
import { afterAll } from 'vitest';
import { EtcdClusterCache, EtcdLeadership, EtcdRegistry, MachinePresence } from '@fleet/etcd';
import { KeySchema } from '@fleet/core/registry';
import { useEtcd } from './etcd-fixture.js';

const fixture = useEtcd('contract');
const caches = new AbortController();
afterAll(() => caches.abort());

registryContract('EtcdRegistry on a real etcd', async () => {
  const prefix = fixture.freshPrefix();
  const registry = new EtcdRegistry(fixture.client, prefix, silentLogger);
  // As fleetd wires them: the cache learns the registry's writes, to read them back.
  const cluster = new EtcdClusterCache(fixture.client, new KeySchema(prefix), silentLogger);
  await cluster.start(caches.signal);
  return {
    registry,
    cluster,
    leadership: new EtcdLeadership(fixture.client, prefix, 5, systemClock, silentLogger),
    join: async (machine) => {
      const presence = new MachinePresence(fixture.client, prefix, machine, 10, systemClock, silentLogger);
      await presence.start(new AbortController().signal);
      return { sink: presence, leave: async () => void (await presence.stop({ revoke: true })) };
    },
  };
});
