import { silentLogger, systemClock } from '@fleet/core';
import { registryContract } from '@fleet/core/testing';
import { EtcdLeadership, EtcdRegistry, MachinePresence } from '@fleet/etcd';
import { useEtcd } from './etcd-fixture.js';

const fixture = useEtcd('contract');

registryContract('EtcdRegistry on a real etcd', async () => {
  const prefix = fixture.freshPrefix();
  return {
    registry: new EtcdRegistry(fixture.client, prefix, silentLogger),
    leadership: new EtcdLeadership(fixture.client, prefix, 5, systemClock, silentLogger),
    join: async (machine) => {
      const presence = new MachinePresence(fixture.client, prefix, machine, 10, systemClock, silentLogger);
      await presence.start(new AbortController().signal);
      return { sink: presence, leave: async () => void (await presence.stop({ revoke: true })) };
    },
  };
});
