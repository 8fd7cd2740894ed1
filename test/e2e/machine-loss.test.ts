import { expect, it } from 'vitest';
import { fleetctl, fleetctlOk, fleetUnit, hostsOf, pollUntil, useTestCluster } from './support.js';

// m1, m2 in rack r1; m3, m4 in rack r2: enough room to move things around when one machine dies.
const cluster = useTestCluster({ machines: 4, metadata: ['rack=r1,host=m1', 'rack=r1,host=m2', 'rack=r2,host=m3', 'rack=r2,host=m4'], agentTtl: '3s' });

const start = (...args: string[]) => fleetctlOk(cluster.m1, 'start', ...args);

it('keeps a MachineOf pair together, and moves it together when its machine dies', async () => {
  await start(fleetUnit(cluster.dir, 'ping.service', ['MachineMetadata=host=m2', 'MachineMetadata=host=m3']), fleetUnit(cluster.dir, 'pong.service', ['MachineOf=ping.service']));
  const before = await hostsOf(cluster, ['ping.service', 'pong.service']);
  expect(before.get('ping.service')).toHaveLength(1);
  expect(before.get('pong.service')).toEqual(before.get('ping.service'));

  const victim = cluster.machines.find((m) => m.name === before.get('ping.service')![0])!;
  await cluster.killFleetd(victim.index, 'SIGKILL');
  const survivors = cluster.machines.filter((m) => m.name !== victim.name);
  const after = await pollUntil('ping and pong to run together elsewhere', async () => {
    const h = await hostsOf(cluster, ['ping.service', 'pong.service'], survivors);
    const p = h.get('ping.service')!;
    return p.length === 1 && h.get('pong.service')!.join() === p.join() ? h : undefined;
  }, { timeoutMs: 60_000, intervalMs: 250 });
  expect(after.get('ping.service')).toEqual([victim.name === 'm2' ? 'm3' : 'm2']);
  await cluster.restartFleetd(victim.index);
});

it('never lets a primary and its backup share a rack, also after the primary\'s machine dies', async () => {
  await start(fleetUnit(cluster.dir, 'db.service'), fleetUnit(cluster.dir, 'db-backup.service', ['Conflicts=db.service', 'ConflictsScope=rack']));
  const rackOf = (host: string) => (['m1', 'm2'].includes(host) ? 'r1' : 'r2');
  const before = await hostsOf(cluster, ['db.service', 'db-backup.service']);
  const primaryHost = before.get('db.service')![0]!;
  expect(rackOf(before.get('db-backup.service')![0]!)).not.toBe(rackOf(primaryHost));

  const victim = cluster.machines.find((m) => m.name === primaryHost)!;
  await cluster.killFleetd(victim.index, 'SIGKILL');
  const survivors = cluster.machines.filter((m) => m.name !== victim.name);
  const after = await pollUntil('db.service to run on a surviving machine', async () => {
    const h = await hostsOf(cluster, ['db.service', 'db-backup.service'], survivors);
    return h.get('db.service')!.length === 1 ? h : undefined;
  }, { timeoutMs: 60_000, intervalMs: 250 });
  expect(rackOf(after.get('db.service')![0]!)).not.toBe(rackOf(after.get('db-backup.service')![0]!));
  // The backup did not move to make room (no churn).
  expect(after.get('db-backup.service')).toEqual(before.get('db-backup.service'));
  await cluster.restartFleetd(victim.index);
});

it('runs a Global unit on every machine, and on a machine that joins later', async () => {
  const result = await fleetctl(cluster.m1, 'start', fleetUnit(cluster.dir, 'everywhere.service', ['Global=true']));
  expect(result.code).toBe(0);
  const names = () => cluster.machines.map((m) => m.name).sort();
  await pollUntil('everywhere.service on every machine', async () => {
    const h = (await hostsOf(cluster, ['everywhere.service'])).get('everywhere.service')!;
    return h.sort().join() === names().join() ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 250 });

  const joined = await cluster.addMachine('rack=r3,host=m5');
  await pollUntil(`everywhere.service on the new machine ${joined.name}`, async () => {
    const h = (await hostsOf(cluster, ['everywhere.service'], [joined])).get('everywhere.service')!;
    return h.length === 1 ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 250 });
});
