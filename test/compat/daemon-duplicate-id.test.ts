import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { repoRoot, type LocalMachine } from '../../scripts/local-cluster/cluster.js';
import { startDetached, stopProcess } from '../../scripts/local-cluster/processes.js';
import { api, fleetctl, fleetUnit, machinesRunning, pollUntil, useTestCluster } from '../e2e/support.js';
import { startOk, waitForLogLine } from './daemon-support.js';

const cluster = useTestCluster({ machines: 2, metadata: ['rack=r1', 'rack=r2'] });

/** The second fleetd this file starts itself (the cluster does not know it): stopped by its PID. */
let duplicatePid: number | undefined;
afterAll(async () => {
  if (duplicatePid !== undefined) await stopProcess(duplicatePid, 10_000);
});

/** `machine ip metadata` rows of list-machines, through `via`. */
async function machineRows(via: LocalMachine): Promise<string[]> {
  const r = await fleetctl(via, 'list-machines', '--no-legend', '--full');
  return r.stdout.trim().split('\n').map((l) => l.split('\t').filter((c) => c !== '').join(' '));
}

it('a fleetd whose machine ID a live machine holds refuses to join, then joins once that machine is gone', async () => {
  const [m1, m2] = cluster.machines as [LocalMachine, LocalMachine];
  await startOk(m2, fleetUnit(cluster.dir, 'pinned.service', [`MachineID=${m1.machineId}`]));
  // A third host of its own (systemd, units directory, API socket), whose fleetd is then told
  // it is m1: what a cloned /etc/machine-id does.
  const host = await cluster.addMachine('rack=r3');
  await cluster.killFleetd(host.index, 'SIGTERM');
  const config = join(cluster.dir, 'duplicate.conf');
  writeFileSync(config, readFileSync(host.configFile, 'utf8').replace(/^machine_id=.*$/m, `machine_id=${m1.machineId}`));
  const started = await startDetached('fleetd:duplicate', process.execPath, [join(repoRoot, 'packages/fleetd/dist/bin/fleetd.js'), '--config', config], {
    logFile: host.fleetdLog, cwd: repoRoot, env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLEET_'))),
  });
  duplicatePid = started.pid;

  // It says why in its log, and its API refuses every request with that reason.
  await waitForLogLine(host.fleetdLog, 'machine ID already registered by another live machine');
  const answer = await pollUntil('the duplicate\'s API to answer', async () => (await api(host, 'GET', '/fleet/v1/machines').catch(() => undefined)), { timeoutMs: 20_000 });
  expect(answer.status).toBe(503);
  const message = `fleet server unavailable: machine ID ${m1.machineId} is already registered by another live machine (${m1.publicIp}); this fleetd joins once that registration expires`;
  expect(answer.body).toEqual({ error: { code: 503, message } });
  const listed = await fleetctl(host, 'list-machines');
  expect(listed).toMatchObject({ code: 1, stdout: '' });
  // fleet's fleetctl's lines around the server's reason.
  expect(listed.stderr).toBe([
    `Error retrieving list of active machines from fleet API (googleapi: Error 503: ${message})`,
    'Possible issues:',
    '  etcd is unhealthy and/or lost quorum',
    '  connection cannot be established to any etcd servers',
    '',
  ].join('\n'));

  // The first machine stays registered, untouched, and the duplicate runs nothing of it.
  expect(await machineRows(m2)).toEqual([`${m1.machineId} ${m1.publicIp} rack=r1`, `${m2.machineId} ${m2.publicIp} rack=r2`].sort());
  expect((await machinesRunning(cluster, 'pinned.service')).map((m) => m.name)).toEqual([m1.name]);

  // m1 dies; once its record has expired the duplicate joins under its ID and runs its units.
  await cluster.killFleetd(m1.index, 'SIGKILL');
  await waitForLogLine(host.fleetdLog, 'machine ID is free again: registered', 0, 30_000);
  expect(await machineRows(m2)).toEqual([`${m1.machineId} ${host.publicIp} rack=r3`, `${m2.machineId} ${m2.publicIp} rack=r2`].sort());
  expect((await api(host, 'GET', '/fleet/v1/machines')).status).toBe(200);
  await pollUntil('pinned.service to run on the duplicate\'s host', async () => ((await machinesRunning(cluster, 'pinned.service', [host])).length === 1 ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });
});
