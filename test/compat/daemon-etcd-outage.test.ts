import { expect, it } from 'vitest';
import { readClusterState } from '../../scripts/local-cluster/cluster.js';
import { startClusterEtcd, stopClusterEtcd } from '../../scripts/local-cluster/cluster-control.js';
import { api, fleetUnit, machinesRunning, mainPid, pollUntil, unitMainPids, useTestCluster } from '../e2e/support.js';
import { startOk } from './daemon-support.js';

const cluster = useTestCluster({ machines: 3, agentTtl: '5s' });

const units = ['outage-a.service', 'outage-b.service', 'outage-c.service', 'outage-d.service'];

/** Where each unit is scheduled, as the cluster records it. */
async function schedule(): Promise<Map<string, string>> {
  const body = (await api(cluster.m1, 'GET', '/fleet/v1/units')).body as { units: { name: string; machineID?: string }[] };
  return new Map(body.units.map((u) => [u.name, u.machineID ?? '']));
}

it('after an etcd outage longer than agent_ttl nothing that ran is restarted or moved, and new units start', async () => {
  await startOk(cluster.m1, ...units.map((u) => fleetUnit(cluster.dir, u)), fleetUnit(cluster.dir, 'outage-global.service', ['Global=true']));
  await pollUntil('the global unit on every machine', async () => ((await machinesRunning(cluster, 'outage-global.service')).length === 3 ? true : undefined), { timeoutMs: 30_000 });
  const pids = await unitMainPids(cluster, [...units, 'outage-global.service']);
  expect(pids.size).toBe(units.length + 3);
  const scheduledBefore = await schedule();

  const state = readClusterState(cluster.dir);
  if (state === undefined) throw new Error(`no state.json in ${cluster.dir}`);
  await stopClusterEtcd(state);
  // The outage itself is under test, so waiting is the point: longer than agent_ttl (5 s), so that
  // every presence and leader lease runs out, as etcd stays down.
  await new Promise((r) => setTimeout(r, 9_000));
  await startClusterEtcd(state, () => {});
  const recoveredAt = Date.now();

  // A unit started 2 s after etcd is back runs within a few seconds.
  await new Promise((r) => setTimeout(r, 2_000));
  await startOk(cluster.m1, '--block-attempts', '40', fleetUnit(cluster.dir, 'outage-late.service'));
  expect(Date.now() - recoveredAt).toBeLessThan(12_000);
  expect(await machinesRunning(cluster, 'outage-late.service')).toHaveLength(1);

  // Past one agent_ttl after the recovery, a witness placed by the engine proves that passes ran
  // after every machine had time to come back; by then nothing may have moved or restarted.
  await new Promise((r) => setTimeout(r, Math.max(0, recoveredAt + 6_000 - Date.now())));
  await startOk(cluster.m1, fleetUnit(cluster.dir, 'outage-witness.service'));
  const scheduledAfter = await schedule();
  for (const unit of units) expect(scheduledAfter.get(unit), unit).toBe(scheduledBefore.get(unit));
  for (const [key, pid] of pids) {
    const [unit, name] = key.split('@') as [string, string];
    const machine = cluster.machines.find((m) => m.name === name)!;
    expect(await mainPid(machine, unit), key).toBe(pid);
  }
  for (const unit of units) expect(await machinesRunning(cluster, unit), unit).toHaveLength(1);
});
