import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import type { LocalMachine } from '../../scripts/local-cluster/cluster.js';
import { api, fleetctl, fleetctlOk, fleetUnit, machinesRunning, mainPid, pollUntil, systemdState, useTestCluster } from '../e2e/support.js';
import { logSize, signalFleetd, startOk, waitForLogLine } from './daemon-support.js';

const cluster = useTestCluster({ machines: 3, agentTtl: '5s' });
const ttlMs = 5_000;

/** Where each unit is scheduled, as the cluster records it. */
async function schedule(): Promise<Map<string, string | undefined>> {
  const body = (await api(cluster.m1, 'GET', '/fleet/v1/units')).body as { units: { name: string; machineID?: string }[] };
  return new Map(body.units.map((u) => [u.name, u.machineID]));
}

/** The units running on `host`, among `units`, with their MainPIDs. */
async function runningOn(host: LocalMachine, units: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const unit of units) if ((await machinesRunning(cluster, unit, [host])).length === 1) out.set(unit, await mainPid(host, unit));
  return out;
}

it('SIGTERM (fleet\'s graceful stop) stops and unloads the machine\'s units, and they run elsewhere at once', async () => {
  const units = ['stop-a.service', 'stop-b.service', 'stop-c.service', 'stop-d.service', 'stop-e.service', 'stop-f.service'];
  await startOk(cluster.m1, ...units.map((u) => fleetUnit(cluster.dir, u)), fleetUnit(cluster.dir, 'stop-global.service', ['Global=true']));
  await pollUntil('the global unit everywhere', async () => ((await machinesRunning(cluster, 'stop-global.service')).length === 3 ? true : undefined), { timeoutMs: 30_000 });
  const victim = cluster.machines[2]!;
  const moving = [...(await runningOn(victim, units)).keys()];
  expect(moving.length).toBeGreaterThan(0);

  const stoppedAt = Date.now();
  await cluster.killFleetd(victim.index, 'SIGTERM');
  // Nothing of the cluster is left on the stopped machine: systemd runs none of it, no file is left.
  for (const unit of [...units, 'stop-global.service']) expect((await systemdState(victim, unit)).active, unit).not.toBe('active');
  expect(readdirSync(victim.unitsDirectory).filter((f) => f.endsWith('.service'))).toEqual([]);
  // Its presence is gone at once: the units move without waiting for agent_ttl.
  const survivors = cluster.machines.filter((m) => m.index !== victim.index);
  await pollUntil('the moved units to run on the other machines', async () => {
    const hosts = await Promise.all(moving.map((u) => machinesRunning(cluster, u, survivors)));
    return hosts.every((h) => h.length === 1) ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 100 });
  expect(Date.now() - stoppedAt).toBeLessThan(ttlMs);
  expect((await fleetctlOk(cluster.m1, 'list-machines', '--no-legend', '--full')).stdout).not.toContain(victim.machineId);
  for (const unit of units) expect(await machinesRunning(cluster, unit), unit).toHaveLength(1);
  await cluster.restartFleetd(victim.index);
});

it('a hand-over (SIGUSR2) leaves the units running; a fleetd started within agent_ttl takes over and nothing moves', async () => {
  const units = ['keep-a.service', 'keep-b.service', 'keep-c.service'];
  await startOk(cluster.m1, ...units.map((u) => fleetUnit(cluster.dir, u)));
  const [host] = await machinesRunning(cluster, 'keep-a.service');
  if (host === undefined) throw new Error('keep-a.service runs nowhere');
  const pids = await runningOn(host, [...units, 'stop-global.service']);
  expect(pids.size).toBeGreaterThan(1);
  const scheduled = await schedule();

  await cluster.killFleetd(host.index, 'SIGUSR2');
  for (const [unit, pid] of pids) expect(await mainPid(host, unit), unit).toBe(pid);
  const restarted = await cluster.restartFleetd(host.index);
  let listed = '';
  await pollUntil('the restarted fleetd to report its units', async () => {
    listed = (await fleetctl(cluster.m1, 'list-units', '--no-legend', '--full', '--fields', 'unit,machine,active')).stdout;
    const rows = listed.trim().split('\n').map((l) => l.split('\t').filter((c) => c !== '').join(' '));
    return [...pids.keys()].every((u) => rows.includes(`${u} ${host.machineId}/${host.publicIp} active`)) ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 250 }).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; last list-units:\n${listed}\nwanted on ${host.name}: ${[...pids.keys()].join(', ')}`);
  });
  // A unit placed now proves engine passes ran after the take-over; still nothing moved.
  await startOk(cluster.m1, fleetUnit(cluster.dir, 'keep-witness.service'));
  for (const [unit, pid] of pids) expect(await mainPid(restarted, unit), unit).toBe(pid);
  const after = await schedule();
  for (const unit of units) expect(after.get(unit), unit).toBe(scheduled.get(unit));
  expect(readFileSync(restarted.fleetdLog, 'utf8')).not.toContain('already registered by another live machine');
});

it('with shutdown_leave_units=true (set by a reload) SIGTERM hands over too', async () => {
  const host = cluster.machines[0]!;
  const pids = await runningOn(host, ['stop-global.service', 'keep-witness.service', 'keep-a.service', 'keep-b.service', 'keep-c.service']);
  expect(pids.size).toBeGreaterThan(0);
  const config = readFileSync(host.configFile, 'utf8');
  writeFileSync(host.configFile, `${config}shutdown_leave_units=true\n`);
  try {
    const from = logSize(host.fleetdLog);
    signalFleetd(host, 'SIGHUP');
    await waitForLogLine(host.fleetdLog, 'components restarted with it', from);
    await cluster.restartFleetd(host.index); // SIGTERM, then a new fleetd
    for (const [unit, pid] of pids) expect(await mainPid(host, unit), unit).toBe(pid);
  } finally {
    writeFileSync(host.configFile, config);
  }
});
