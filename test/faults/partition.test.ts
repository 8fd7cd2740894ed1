import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { clusterLogs, fleetctl, fleetctlOk, lifeLoggingUnit, lifeOn, machinesRunning, pollUntil, useTestCluster } from '../e2e/support.js';
import { PartitionProxy } from './tcp-proxy.js';

const ttlSeconds = 4;
/** The agent stops at-most-once units this long before its lease could expire: max(1 s, TTL/4). */
const marginMs = Math.max(1_000, (ttlSeconds * 1000) / 4);
/** How long the machine stays cut off. */
const partitionMs = 15_000;
const cluster = useTestCluster({ machines: 2, agentTtl: `${ttlSeconds}s` });
let proxy: PartitionProxy | undefined;
afterAll(async () => {
  await proxy?.stop();
});

const poll = { timeoutMs: 30_000, intervalMs: 100 };

it('a machine cut off from a running etcd: its at-most-once unit stops before it starts elsewhere, its ordinary unit stops once it reaches etcd again', async () => {
  const onceLog = join(cluster.dir, 'once.log');
  const plainLog = join(cluster.dir, 'plain.log');
  // The at-most-once unit follows the ordinary one (and, cut off, follows it only after its hold).
  await fleetctlOk(cluster.m1, 'start', lifeLoggingUnit(cluster.dir, 'plain.service', plainLog));
  await fleetctlOk(cluster.m1, 'start', lifeLoggingUnit(cluster.dir, 'once.service', onceLog, ['AtMostOnce=true', 'MachineOf=plain.service']));
  const [host] = await machinesRunning(cluster, 'plain.service');
  if (host === undefined) throw new Error('plain.service runs nowhere after start');
  // By name: `cluster.machines` makes new objects at every read.
  const other = cluster.machines.find((m) => m.name !== host.name)!;
  await pollUntil('once.service to run next to plain.service', async () => ((await machinesRunning(cluster, 'once.service', [host])).length === 1 ? true : undefined), poll);

  // The host's fleetd reaches etcd through the proxy from now on (a reload of etcd_servers).
  proxy = await PartitionProxy.start(cluster.etcd.clientUrl);
  const logStart = readFileSync(host.fleetdLog, 'utf8').length;
  writeFileSync(host.configFile, readFileSync(host.configFile, 'utf8').replace(/^etcd_servers=.*$/m, `etcd_servers=${proxy.url}`));
  process.kill(host.fleetdPid!, 'SIGHUP');
  await pollUntil(`${host.name}'s fleetd to reload`, async () => (readFileSync(host.fleetdLog, 'utf8').slice(logStart).includes('configuration reloaded') ? true : undefined), poll);
  const through = proxy;
  await pollUntil(`${host.name}'s fleetd to reach etcd through the proxy`, async () => (through.connections > 0 ? true : undefined), poll);
  // A few keepalives through the proxy, so that the lease's last confirmation came that way.
  await pollUntil(`${host.name} to be listed`, async () => ((await fleetctl(other, 'list-machines', '--no-legend', '--full')).stdout.includes(host.machineId) ? true : undefined), poll);
  expect((await machinesRunning(cluster, 'once.service')).map((m) => m.name)).toEqual([host.name]);

  const cutAt = Date.now();
  proxy.partition();
  try {
    await pollUntil('plain.service to run on the other machine', async () => ((await machinesRunning(cluster, 'plain.service', [other])).length === 1 ? true : undefined), poll);
    await pollUntil('once.service to run on the other machine', async () => ((await machinesRunning(cluster, 'once.service', [other])).length === 1 ? true : undefined), poll);
    const onceOld = lifeOn(onceLog, host);
    const onceNew = lifeOn(onceLog, other);
    if (onceOld.stop === undefined || onceNew.start === undefined) throw new Error(`once.log lacks the old copy's stop or the new one's start:\n${readFileSync(onceLog, 'utf8')}`);
    const onceFigures = { stoppedMs: onceOld.stop - cutAt, startedMs: onceNew.start - cutAt, overlapMs: Math.max(0, onceOld.stop - onceNew.start) };
    console.log(`[partition] at-most-once unit: stopped on ${host.name} ${onceFigures.stoppedMs} ms after the cut, started on ${other.name} ${onceFigures.startedMs} ms after it; in two places for ${onceFigures.overlapMs} ms (agent_ttl ${ttlSeconds} s)`);
    expect(onceFigures.overlapMs).toBe(0);
    // Stopped a margin before the lease could expire, not after.
    expect(onceFigures.stoppedMs).toBeLessThan(ttlSeconds * 1000 - marginMs + 500);
    // The ordinary unit keeps running where it is while the machine cannot tell a partition from an etcd outage.
    expect((await machinesRunning(cluster, 'plain.service', [host])).length).toBe(1);
    const remaining = partitionMs - (Date.now() - cutAt);
    if (remaining > 0) await new Promise<void>((resolve) => setTimeout(resolve, remaining)); // the partition's length is the fault being injected
    expect((await machinesRunning(cluster, 'once.service', [host])).length).toBe(0);
  } finally {
    proxy.heal();
  }
  const healAt = Date.now();
  const plainOld = await pollUntil(`plain.service on ${host.name} to stop once it reaches etcd`, async () => {
    const life = lifeOn(plainLog, host);
    return life.stop === undefined ? undefined : life;
  }, poll);
  const plainNew = lifeOn(plainLog, other);
  // Moved once the host's lease expired: within the TTL of the cut, plus the engine's pass.
  expect((plainNew.start ?? Infinity) - cutAt).toBeLessThan(ttlSeconds * 1000 + 1_500);
  const plainStoppedAfterHealMs = plainOld.stop! - healAt;
  const plainOverlapMs = plainOld.stop! - (plainNew.start ?? plainOld.stop!);
  console.log(`[partition] ordinary unit: started on ${other.name} ${(plainNew.start ?? 0) - cutAt} ms after the cut, kept running on ${host.name} through the ${partitionMs / 1000} s partition and stopped ${plainStoppedAfterHealMs} ms after it healed; in two places for ${plainOverlapMs} ms`);
  expect(plainStoppedAfterHealMs).toBeLessThan(ttlSeconds * 1000 + 2_000);

  // Afterwards: each unit runs once, on the other machine, and list-units says so; the host is back.
  await pollUntil(`${host.name} to be listed again`, async () => ((await fleetctl(other, 'list-machines', '--no-legend', '--full')).stdout.includes(host.machineId) ? true : undefined), poll);
  for (const unit of ['once.service', 'plain.service']) expect((await machinesRunning(cluster, unit)).map((m) => m.name), unit).toEqual([other.name]);
  const listed = await fleetctlOk(other, 'list-units', '--no-legend', '--full', '--fields', 'unit,machine,active');
  expect(listed.stdout.trim().split('\n').sort()).toEqual(['once.service', 'plain.service'].map((u) => `${u}\t${other.machineId}/${other.publicIp}\tactive`));
  // The at-most-once unit never started on the host again.
  const onceHost = lifeOn(onceLog, host);
  expect(onceHost.start! < onceHost.stop!, `once.service restarted on ${host.name}; logs: ${clusterLogs(cluster)}`).toBe(true);
}, 120_000);
