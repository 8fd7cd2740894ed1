import { readFileSync, writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { isAlive } from '../../scripts/local-cluster/processes.js';
import { api, fleetctlOk, fleetUnit, machinesRunning, mainPid, pollUntil, useTestCluster } from '../e2e/support.js';
import { logSize, signalFleetd, startOk, waitForLogLine, watchApi } from './daemon-support.js';

const cluster = useTestCluster({ machines: 2, metadata: ['rack=r1', 'rack=r2'] });

/** `machine,metadata` rows of list-machines, through machine 1. */
async function machineRows(): Promise<string[]> {
  return (await fleetctlOk(cluster.m1, 'list-machines', '--no-legend', '--full', '--fields', 'machine,metadata')).stdout.trim().split('\n');
}

/** Where each unit is scheduled, as the cluster records it. */
async function schedule(): Promise<Map<string, string | undefined>> {
  const body = (await api(cluster.m1, 'GET', '/fleet/v1/units')).body as { units: { name: string; machineID?: string }[] };
  return new Map(body.units.map((u) => [u.name, u.machineID]));
}

it('SIGHUP reloads fleet.conf: new metadata and etcd timeout, same process, the API answering throughout, units untouched', async () => {
  const m2 = cluster.machines[1]!;
  await startOk(cluster.m1, fleetUnit(cluster.dir, 'reload-r2.service', ['MachineMetadata=rack=r2']), fleetUnit(cluster.dir, 'reload-any.service'));
  const pids = new Map<string, number>();
  for (const unit of ['reload-r2.service', 'reload-any.service']) {
    const [host] = await machinesRunning(cluster, unit);
    pids.set(unit, await mainPid(host!, unit));
  }
  const scheduled = await schedule();
  const fleetdPid = m2.fleetdPid!;
  const original = readFileSync(m2.configFile, 'utf8');
  expect(original).toContain('metadata=rack=r2\n');

  const watcher = watchApi(m2);
  // etcd_request_timeout too: the reload then also replaces the etcd client under the API.
  writeFileSync(m2.configFile, `${original.replace('metadata=rack=r2\n', 'metadata=rack=r2,disk=ssd\n')}etcd_request_timeout=1.5\n`);
  signalFleetd(m2, 'SIGHUP');
  await pollUntil('list-machines to show the new metadata', async () => ((await machineRows()).includes(`${m2.machineId}\tdisk=ssd,rack=r2`) ? true : undefined), { timeoutMs: 20_000 });
  // A unit placed after the reload proves that engine passes ran with the machine back in place.
  await startOk(cluster.m1, fleetUnit(cluster.dir, 'reload-witness.service'));
  const { answers, failures } = await watcher.stop();

  expect(failures).toEqual([]);
  expect(answers).toBeGreaterThan(5);
  expect(isAlive(fleetdPid)).toBe(true);
  expect(cluster.machines[1]!.fleetdPid).toBe(fleetdPid);
  const after = await schedule();
  for (const [unit, pid] of pids) {
    expect(after.get(unit), unit).toBe(scheduled.get(unit));
    const [host, ...more] = await machinesRunning(cluster, unit);
    expect(more, unit).toEqual([]);
    expect(await mainPid(host!, unit), unit).toBe(pid);
  }
});

it('a reload with a bad config file logs the error and keeps the running configuration', async () => {
  const m2 = cluster.machines[1]!;
  const good = readFileSync(m2.configFile, 'utf8');
  const from = logSize(m2.fleetdLog);
  writeFileSync(m2.configFile, `${good}agent_ttl=soon\n`);
  try {
    signalFleetd(m2, 'SIGHUP');
    const line = await waitForLogLine(m2.fleetdLog, 'cannot reload the configuration', from);
    expect(line).toContain('agent_ttl');
    expect(isAlive(m2.fleetdPid!)).toBe(true);
    expect(await machineRows()).toContain(`${m2.machineId}\tdisk=ssd,rack=r2`);
    expect((await api(m2, 'GET', '/fleet/v1/machines')).status).toBe(200);
  } finally {
    writeFileSync(m2.configFile, good);
  }
});

it('options that cannot change while fleetd runs keep their running values, with a warning', async () => {
  const m2 = cluster.machines[1]!;
  const good = readFileSync(m2.configFile, 'utf8');
  const from = logSize(m2.fleetdLog);
  writeFileSync(m2.configFile, good.replace(/^api_socket=.*$/m, 'api_socket=/tmp/elsewhere.sock').replace('metadata=rack=r2,disk=ssd\n', 'metadata=rack=r2\n'));
  try {
    signalFleetd(m2, 'SIGHUP');
    const line = await waitForLogLine(m2.fleetdLog, 'keep their running values', from);
    expect(JSON.parse(line)).toMatchObject({ level: 'warn', options: ['api_socket'] });
    // What may change did; the API still answers on its socket.
    await pollUntil('the metadata to change back', async () => ((await machineRows()).includes(`${m2.machineId}\track=r2`) ? true : undefined), { timeoutMs: 20_000 });
    expect((await api(m2, 'GET', '/fleet/v1/machines')).status).toBe(200);
  } finally {
    writeFileSync(m2.configFile, good);
  }
});
