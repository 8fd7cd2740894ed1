import { expect, it } from 'vitest';
import { fleetctl, fleetUnit, machinesRunning, mainPid, pollUntil, useTestCluster } from './support.js';

const cluster = useTestCluster({ machines: 2, metadata: ['rack=r1', 'rack=r2'], agentTtl: '10s' });

it('restarting fleetd with a hand-over neither restarts nor moves its units (fleet #1086)', async () => {
  expect((await fleetctl(cluster.m1, 'start', fleetUnit(cluster.dir, 'keep.service'))).code).toBe(0);
  const [host] = await machinesRunning(cluster, 'keep.service');
  expect(host).toBeDefined();
  const pidBefore = await mainPid(host!, 'keep.service');
  expect(pidBefore).toBeGreaterThan(0);

  // SIGUSR2 hands over (a plain SIGTERM is fleet's graceful stop, which moves the units away).
  await cluster.killFleetd(host!.index, 'SIGUSR2');
  await cluster.restartFleetd(host!.index);

  // The restarted agent re-attaches: it reports the unit again, still on the same machine...
  await pollUntil('the restarted fleetd to report keep.service', async () => {
    const r = await fleetctl(cluster.m1, 'list-units', '--no-legend', '--full', '--fields', 'unit,machine,active');
    return r.stdout.includes(`keep.service\t${host!.machineId}/${host!.publicIp}\tactive`) ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 250 });
  // ...and the process systemd runs is the very same one.
  expect(await mainPid(host!, 'keep.service')).toBe(pidBefore);
  expect((await machinesRunning(cluster, 'keep.service')).map((m) => m.name)).toEqual([host!.name]);
});

it('an etcd outage shorter than agent_ttl stops nothing, and fleetd recovers', async () => {
  expect((await fleetctl(cluster.m1, 'start', fleetUnit(cluster.dir, 'through-outage.service'))).code).toBe(0);
  const [host] = await machinesRunning(cluster, 'through-outage.service');
  const pidBefore = await mainPid(host!, 'through-outage.service');

  process.kill(cluster.etcd.pid, 'SIGSTOP');
  try {
    // The outage itself is what is under test, so here waiting is the point: long enough for every
    // loop to fail a few passes (engine interval 1 s, agent 5 s), shorter than agent_ttl (10 s).
    await new Promise((r) => setTimeout(r, 6_000));
    expect(await mainPid(host!, 'through-outage.service')).toBe(pidBefore);
  } finally {
    process.kill(cluster.etcd.pid, 'SIGCONT');
  }

  const after = await fleetctl(cluster.m1, 'start', fleetUnit(cluster.dir, 'after-outage.service'));
  expect(after.stderr).toBe('');
  expect(after.code).toBe(0);
  expect(await machinesRunning(cluster, 'after-outage.service')).toHaveLength(1);
  expect(await mainPid(host!, 'through-outage.service')).toBe(pidBefore);
});
