import { expect, it } from 'vitest';
import type { LocalMachine } from '../../scripts/local-cluster/cluster.js';
import { api, fleetctl, fleetctlOk, fleetUnit, hostsOf, pollUntil, reasonOf, useTestCluster } from './support.js';

const cluster = useTestCluster({ machines: 2, metadata: ['rack=r1', 'rack=r2'], agentTtl: '3s' });

const metadataOf = async (machine: LocalMachine) => {
  const body = (await api(cluster.m1, 'GET', '/fleet/v1/machines')).body as { machines: { id: string; metadata: Record<string, string> }[] };
  return body.machines.find((m) => m.id === machine.machineId)?.metadata;
};

it('moves a unit off a machine whose metadata no longer matches, and the new metadata survives the machine rejoining', async () => {
  const m2 = cluster.machines[1]!;
  await fleetctlOk(cluster.m1, 'start', fleetUnit(cluster.dir, 'in-r2.service', ['MachineMetadata=rack=r2']));
  expect((await hostsOf(cluster, ['in-r2.service'])).get('in-r2.service')).toEqual([m2.name]);

  const patch = await api(cluster.m1, 'PATCH', '/fleet/v1/machines', [{ op: 'replace', path: `/${m2.machineId}/metadata/rack`, value: 'r5' }]);
  expect(patch.status).toBe(204);
  expect(await metadataOf(m2)).toEqual({ rack: 'r5' });

  // The rule no longer holds: the unit stops on m2 and says why it cannot run anywhere.
  await pollUntil('in-r2.service to stop', async () => ((await hostsOf(cluster, ['in-r2.service'])).get('in-r2.service')!.length === 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });
  expect(await pollUntil('a reason', () => reasonOf(cluster.m1, 'in-r2.service'), { timeoutMs: 10_000 })).toBe('2 machines: 2 rejected by MachineMetadata rack=r2');

  // m2 leaves (its fleetd dies and its presence expires) and comes back: the override stays.
  await cluster.killFleetd(m2.index, 'SIGKILL');
  await pollUntil('m2 to leave', async () => ((await metadataOf(m2)) === undefined ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });
  await cluster.restartFleetd(m2.index);
  expect(await pollUntil('m2 to rejoin', () => metadataOf(m2), { timeoutMs: 30_000, intervalMs: 250 })).toEqual({ rack: 'r5' });

  // Putting the metadata back lets the unit run there again.
  expect((await api(cluster.m1, 'PATCH', '/fleet/v1/machines', [{ op: 'replace', path: `/${m2.machineId}/metadata/rack`, value: 'r2' }])).status).toBe(204);
  await pollUntil('in-r2.service to run on m2 again', async () => ((await hostsOf(cluster, ['in-r2.service'])).get('in-r2.service')!.join() === m2.name ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });
  expect(await reasonOf(cluster.m1, 'in-r2.service')).toBeUndefined();
  expect((await fleetctl(cluster.m1, 'destroy', 'in-r2.service')).code).toBe(0);
});
