import { expect, it } from 'vitest';
import { fleetctl, fleetUnit, machinesRunning, pollUntil, useTestCluster } from './support.js';

const cluster = useTestCluster({ machines: 3, agentTtl: '3s' });

it('reschedules the units of a SIGKILLed fleetd on the other machines after the TTL', async () => {
  const units = ['sleeper1.service', 'sleeper2.service', 'sleeper3.service'];
  const started = await fleetctl(cluster.m1, 'start', ...units.map((u) => fleetUnit(cluster.dir, u)));
  expect(started.code).toBe(0);
  // Least-loaded placement: one unit per machine.
  const hosts = await Promise.all(units.map(async (u) => (await machinesRunning(cluster, u))[0]?.name));
  expect(new Set(hosts).size, `hosts: ${JSON.stringify(hosts)}; fleetctl said: ${started.stdout}`).toBe(3);

  const victim = cluster.machines[2]!;
  const victimUnit = units[hosts.indexOf(victim.name)]!;
  await cluster.killFleetd(victim.index, 'SIGKILL');
  const survivors = cluster.machines.filter((m) => m.name !== victim.name);
  const newHost = await pollUntil(`${victimUnit} to run on a surviving machine`, async () => (await machinesRunning(cluster, victimUnit, survivors))[0], { timeoutMs: 60_000, intervalMs: 250 });
  // The cluster's own record agrees with systemd: the unit is scheduled to the new host now.
  const listed = await fleetctl(cluster.m1, 'list-unit-files', '--no-legend', '--full', '--fields', 'unit,target');
  expect(listed.stdout).toContain(`${victimUnit}\t${newHost.machineId}/${newHost.publicIp}`);
  const machines = await fleetctl(cluster.m1, 'list-machines', '--no-legend', '--full');
  expect(machines.stdout).not.toContain(victim.machineId);
  // The units that were not on the dead machine did not move (no churn).
  for (const [i, unit] of units.entries()) {
    if (unit === victimUnit) continue;
    expect((await machinesRunning(cluster, unit, survivors)).map((m) => m.name)).toEqual([hosts[i]]);
  }
});
