import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { LocalMachine } from '../../scripts/local-cluster/cluster.js';
import { fleetctl, fleetctlOk, lifeLoggingUnit, lifeOn, machinesRunning, pollUntil, systemdState, useTestCluster } from './support.js';

const ttlSeconds = 4;
const cluster = useTestCluster({ machines: 2, agentTtl: `${ttlSeconds}s` });

/**
 * Cuts the fleetd running a fresh unit off with `signal`, waits for the unit to run on the other
 * machine and for the old copy to be gone, and returns the figures from the unit's own log.
 */
async function cutOff(unit: string, signal: 'SIGKILL' | 'SIGSTOP'): Promise<{ host: LocalMachine; other: LocalMachine; oldStoppedMs: number; newStartedMs: number; overlapMs: number }> {
  const log = join(cluster.dir, `${unit}.log`);
  await fleetctlOk(cluster.m1, 'start', lifeLoggingUnit(cluster.dir, unit, log));
  const running = await machinesRunning(cluster, unit);
  const [host] = running;
  if (running.length !== 1 || host === undefined) throw new Error(`${unit} runs on ${running.length} machines after start: ${readFileSync(log, 'utf8')}`);
  // By name: `cluster.machines` makes new objects at every read.
  const other = cluster.machines.find((m) => m.name !== host.name)!;
  const cutAt = Date.now();
  if (signal === 'SIGKILL') await cluster.killFleetd(host.index, signal);
  else process.kill(host.fleetdPid!, signal);
  await pollUntil(`${unit} to run on ${other.name}`, async () => ((await machinesRunning(cluster, unit, [other])).length === 1 ? true : undefined), { timeoutMs: 30_000, intervalMs: 100 });
  const old = await pollUntil(`the copy of ${unit} on ${host.name} to stop`, async () => {
    const life = lifeOn(log, host);
    return life.stop === undefined ? undefined : life;
  }, { timeoutMs: 10_000, intervalMs: 100 });
  const moved = lifeOn(log, other);
  if (old.stop === undefined || moved.start === undefined) throw new Error(`${log} lacks the old copy's stop or the new one's start`);
  const figures = { host, other, oldStoppedMs: old.stop - cutAt, newStartedMs: moved.start - cutAt, overlapMs: Math.max(0, old.stop - moved.start) };
  if (figures.overlapMs > 0) console.log(`[never-twice] log of ${unit}:\n${readFileSync(log, 'utf8')}\nfleetd logs: ${cluster.machines.map((m) => m.fleetdLog).join(' ')}`);
  console.log(`[never-twice] fleetd ${signal}: old copy stopped by systemd ${figures.oldStoppedMs.toFixed(0)} ms after, new copy started ${figures.newStartedMs.toFixed(0)} ms after; ran in two places for ${figures.overlapMs.toFixed(0)} ms (agent_ttl ${ttlSeconds} s)`);
  return figures;
}

it('a SIGKILLed fleetd\'s units are stopped by systemd before they start elsewhere', async () => {
  const { host, overlapMs, oldStoppedMs } = await cutOff('cut-kill.service', 'SIGKILL');
  // Half the TTL without a heartbeat, give or take the heartbeat interval.
  expect(oldStoppedMs).toBeLessThan((ttlSeconds * 1000) / 2 + 1_000);
  expect(overlapMs).toBe(0);
  // The watchdog is what stopped it: it has exited (its fleetd is gone).
  expect((await systemdState(host, 'fleet-watchdog.service')).active).not.toBe('active');
  await cluster.restartFleetd(host.index);
  // The restarted fleetd starts its watchdog again, and the unit stays where it moved to.
  await pollUntil('the watchdog to run again', async () => ((await systemdState(host, 'fleet-watchdog.service')).active === 'active' ? true : undefined), { timeoutMs: 20_000, intervalMs: 100 });
  expect((await machinesRunning(cluster, 'cut-kill.service')).map((m) => m.name)).not.toContain(host.name);
});

it('a SIGSTOPped fleetd\'s units stop too; once it runs again it re-joins and runs each unit once', async () => {
  let figures;
  try {
    figures = await cutOff('cut-stop.service', 'SIGSTOP');
  } finally {
    for (const m of cluster.machines) if (m.fleetdPid !== undefined) process.kill(m.fleetdPid, 'SIGCONT');
  }
  const { host, other, overlapMs } = figures;
  expect(overlapMs).toBe(0);
  // It finds its watchdog gone, starts it again, re-registers, and leaves the unit where it moved.
  await pollUntil(`${host.name} to be listed again`, async () => {
    const r = await fleetctl(cluster.m1, 'list-machines', '--no-legend', '--full');
    return r.stdout.includes(host.machineId) ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 250 });
  await pollUntil('the watchdog to run again', async () => ((await systemdState(host, 'fleet-watchdog.service')).active === 'active' ? true : undefined), { timeoutMs: 20_000, intervalMs: 100 });
  expect((await machinesRunning(cluster, 'cut-stop.service')).map((m) => m.name)).toEqual([other.name]);
  const listed = await fleetctl(cluster.m1, 'list-units', '--no-legend', '--full', '--fields', 'unit,machine,active');
  expect(listed.stdout.split('\n').filter((l) => l.startsWith('cut-stop.service\t'))).toEqual([`cut-stop.service\t${other.machineId}/${other.publicIp}\tactive`]);
});
