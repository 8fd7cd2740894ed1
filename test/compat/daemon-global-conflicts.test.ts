import { expect, it } from 'vitest';
import { fleetUnit, hostsOf, machinesRunning, mainPid, pollUntil, reasonOf, useTestCluster } from '../e2e/support.js';
import { startOk } from './daemon-support.js';

const cluster = useTestCluster({ machines: 3 });

const names = () => cluster.machines.map((m) => m.name).sort();

it('of two global units that conflict, each machine runs exactly one: the one already there, else the first by name', async () => {
  // gb first: it runs everywhere.
  await startOk(cluster.m1, fleetUnit(cluster.dir, 'gb.service', ['Global=true', 'Conflicts=ga.service']));
  await pollUntil('gb.service on every machine', async () => ((await hostsOf(cluster, ['gb.service'])).get('gb.service')!.sort().join() === names().join() ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });
  const pids = new Map(await Promise.all(cluster.machines.map(async (m) => [m.name, await mainPid(m, 'gb.service')] as const)));

  // ga conflicts with it: every machine keeps gb, and ga says why it runs nowhere.
  await startOk(cluster.m1, fleetUnit(cluster.dir, 'ga.service', ['Global=true', 'Conflicts=gb.service']));
  expect(await pollUntil('a reason for ga.service', () => reasonOf(cluster.m1, 'ga.service'), { timeoutMs: 20_000 })).toBe('3 machines: 3 rejected by Conflicts=gb.service');
  expect(await machinesRunning(cluster, 'ga.service')).toEqual([]);
  for (const m of cluster.machines) expect(await mainPid(m, 'gb.service'), m.name).toBe(pids.get(m.name));

  // A machine that joins has neither: the first by name, ga, goes there, and gb does not.
  const joined = await cluster.addMachine('rack=r3');
  await pollUntil(`ga.service on ${joined.name}`, async () => ((await machinesRunning(cluster, 'ga.service', [joined])).length === 1 ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });
  const hosts = await hostsOf(cluster, ['ga.service', 'gb.service']);
  expect(hosts.get('ga.service')).toEqual([joined.name]);
  expect(hosts.get('gb.service')!.sort()).toEqual(names().filter((n) => n !== joined.name));
  expect(await reasonOf(cluster.m1, 'ga.service')).toBeUndefined();
});
