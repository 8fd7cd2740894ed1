import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LocalMachine } from '../../scripts/local-cluster/cluster.js';
import { api, clusterLogs, fleetctlOk, fleetUnit, machinesRunning, pollUntil, reasonOf, useTestCluster } from '../e2e/support.js';
import { EtcdHistory, isEngineWrite, type LeaderKey } from './etcd-history.js';

const reconcileIntervalS = 1;
/** fleetd's engine lease TTL: 5 × engine_reconcile_interval (fleet's rule), at least 2 s. */
const leaseTtlS = Math.max(2, 5 * reconcileIntervalS);
const cluster = useTestCluster({ machines: 3, agentTtl: '5s', engineReconcileInterval: reconcileIntervalS });
let history: EtcdHistory;
beforeAll(() => {
  history = new EtcdHistory(cluster.etcd.clientUrl);
});
afterAll(() => history?.close());

/** The machine whose engine leads now, and its candidate key. By ID: `cluster.machines` makes new objects at every read. */
async function currentLeader(): Promise<{ machine: LocalMachine; key: LeaderKey }> {
  const key = await pollUntil('an engine leader', () => history.leaderAt(), { timeoutMs: 30_000, intervalMs: 100 });
  const machine = cluster.machines.find((m) => m.machineId === key.machineId);
  if (machine === undefined) throw new Error(`the leader key ${key.key} names ${key.machineId}, no machine of the cluster`);
  return { machine, key };
}

/** What `machine`'s fleetd logged since `offset` bytes into its log. */
function logSince(machine: LocalMachine, offset: number): string {
  return readFileSync(machine.fleetdLog, 'utf8').slice(offset);
}

const logSize = (machine: LocalMachine): number => statSync(machine.fleetdLog).size;

async function runsOn(unit: string, machine: LocalMachine): Promise<boolean> {
  return (await machinesRunning(cluster, unit, [machine])).length === 1;
}

/**
 * Has `unit` (submitted, pinned to `target`) set to launched through `target`'s API, then polls
 * until systemd runs it there and until a leader other than `old` holds the key; ms after `t0`.
 */
async function launchAndTime(unit: string, target: LocalMachine, old: LeaderKey, t0: number): Promise<{ runningMs: number; newLeaderMs: number }> {
  const put = await api(target, 'PUT', `/fleet/v1/units/${unit}`, { desiredState: 'launched' });
  expect(put.status).toBe(204);
  let newLeaderMs: number | undefined;
  const runningMs = await pollUntil(`${unit} to run on ${target.name}`, async () => {
    if (newLeaderMs === undefined) {
      const now = await history.leaderAt();
      if (now !== undefined && now.key !== old.key) newLeaderMs = Date.now() - t0;
    }
    return (await runsOn(unit, target)) ? Date.now() - t0 : undefined;
  }, { timeoutMs: 30_000, intervalMs: 50 });
  newLeaderMs ??= (await history.leaderAt())?.key !== old.key ? runningMs : Number.NaN;
  return { runningMs, newLeaderMs };
}

it('a leader SIGSTOPped past its lease, overtaken, then SIGCONTed lands none of its writes', async () => {
  // One unit per machine (they conflict): the stopped leader's own cannot move, so the new leader
  // unschedules it, and schedules it back once that machine re-joins. The old leader's view (frozen
  // at the stop) has it still scheduled there.
  const spread = cluster.machines.map((m) => `spread-${m.index}.service`);
  await fleetctlOk(cluster.m1, 'start', ...spread.map((u) => fleetUnit(cluster.dir, u, ['Conflicts=spread-*'])));
  const { machine: old, key: oldFence } = await currentLeader();
  const oldsUnit = await pollUntil(`the spread unit on ${old.name}`, async () => {
    for (const u of spread) if (await runsOn(u, old)) return u;
    return undefined;
  }, { timeoutMs: 30_000, intervalMs: 100 });
  const pid = old.fleetdPid!;
  const stoppedAt = Date.now();
  process.kill(pid, 'SIGSTOP');
  let fromRevision: bigint;
  let next: { machine: LocalMachine; key: LeaderKey };
  let logOffset: number;
  try {
    next = await pollUntil('another engine to lead', async () => {
      const l = await currentLeader();
      return l.key.key !== oldFence.key ? l : undefined;
    }, { timeoutMs: 30_000, intervalMs: 100 });
    const takeOverMs = Date.now() - stoppedAt;
    // Its machine's record expires too (agent_ttl): the new leader unschedules its unit.
    await pollUntil(`${oldsUnit} to have no place`, async () => ((await reasonOf(next.machine, oldsUnit)) !== undefined ? true : undefined), { timeoutMs: 30_000, intervalMs: 100 });
    // The new leader schedules: a unit started now runs.
    await fleetctlOk(next.machine, 'start', fleetUnit(cluster.dir, 'while-stopped.service', [`MachineID=${next.machine.machineId}`]));
    await pollUntil('while-stopped.service to run', async () => ((await runsOn('while-stopped.service', next.machine)) ? true : undefined), { timeoutMs: 30_000, intervalMs: 100 });
    console.log(`[faults] leader ${old.name} SIGSTOPped: ${next.machine.name} leads ${(takeOverMs / 1000).toFixed(1)} s later (lease TTL ${leaseTtlS} s) and schedules`);
    fromRevision = await history.revision();
    logOffset = logSize(old);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const resumedAt = Date.now();

  // The old leader runs again: it notices it lost the lease, and its machine re-joins.
  await pollUntil(`${old.name} to log the loss of its leadership`, () => (logSince(old, logOffset).includes('lost engine leadership') ? true : undefined), { timeoutMs: 30_000, intervalMs: 100 });
  const noticedMs = Date.now() - resumedAt;
  await pollUntil(`${oldsUnit} to run on ${old.name} again`, async () => ((await runsOn(oldsUnit, old)) ? true : undefined), { timeoutMs: 30_000, intervalMs: 100 });
  // It is a follower now: a unit pinned to its machine runs (scheduled by the new leader).
  await fleetctlOk(next.machine, 'start', fleetUnit(cluster.dir, 'after-resume.service', [`MachineID=${old.machineId}`]));
  await pollUntil('after-resume.service to run on the resumed machine', async () => ((await runsOn('after-resume.service', old)) ? true : undefined), { timeoutMs: 30_000, intervalMs: 100 });

  // etcd's own record: every engine write since R, and the leader key at each write's revision.
  const events = await history.since(fromRevision);
  const engineWrites = events.filter(isEngineWrite);
  const fencedBy = new Map<string, number>();
  for (const e of engineWrites) {
    const leader = await history.leaderAt(e.revision);
    const name = cluster.machines.find((m) => m.machineId === leader?.machineId)?.name ?? `no leader (${leader?.key ?? 'none'})`;
    fencedBy.set(name, (fencedBy.get(name) ?? 0) + 1);
  }
  const oldKeyWrites = events.filter((e) => e.key === oldFence.key);
  const oldLog = logSince(old, logOffset);
  const refused = oldLog.split('\n').filter((l) => l.includes('schedule write rejected: no longer the leader')).length;
  console.log(
    `[faults] after SIGCONT (${old.name} noticed its loss after ${(noticedMs / 1000).toFixed(1)} s): ${events.length} writes in etcd since revision ${fromRevision}, ` +
    `${engineWrites.length} of them engine writes, fenced by ${[...fencedBy].map(([n, c]) => `${n}: ${c}`).join(', ') || 'nobody'}; ` +
    `${oldKeyWrites.length} writes to the old leader's key ${oldFence.key}; ${refused} schedule writes of the old leader refused by the fence`,
  );
  // At least the new leader's schedules of the stopped machine's unit and of after-resume.service.
  expect(engineWrites.length).toBeGreaterThanOrEqual(2);
  // Every engine write after R was made while the new leader's key led: the old key no longer existed
  // (nor came back), so a transaction fenced by it (Create == its create revision) could not succeed.
  expect(Object.fromEntries(fencedBy)).toEqual({ [next.machine.name]: engineWrites.length });
  expect(oldKeyWrites).toEqual([]);
  expect(await history.leaderAt(fromRevision)).toEqual(next.key);
  // And the old leader never believed it led again.
  expect(oldLog, clusterLogs(cluster)).not.toContain('became engine leader');
});

it(`a SIGKILLed leader: a unit started at once runs within the lease TTL + 1 s`, async () => {
  const { machine: old, key } = await currentLeader();
  const target = cluster.machines.find((m) => m.name !== old.name)!;
  await fleetctlOk(target, 'submit', fleetUnit(cluster.dir, 'after-kill.service', [`MachineID=${target.machineId}`]));
  const t0 = Date.now();
  await cluster.killFleetd(old.index, 'SIGKILL');
  const { runningMs, newLeaderMs } = await launchAndTime('after-kill.service', target, key, t0);
  console.log(`[faults] leader SIGKILL -> new leader ${(newLeaderMs / 1000).toFixed(1)} s, new unit running ${(runningMs / 1000).toFixed(1)} s (lease TTL ${leaseTtlS} s)`);
  expect(runningMs, clusterLogs(cluster)).toBeLessThanOrEqual(leaseTtlS * 1000 + 1000);
  await cluster.restartFleetd(old.index);
});

it('a leader stopped gracefully resigns: a unit started at once runs within 1 s', async () => {
  const { machine: old, key } = await currentLeader();
  const target = cluster.machines.find((m) => m.name !== old.name)!;
  await fleetctlOk(target, 'submit', fleetUnit(cluster.dir, 'after-stop.service', [`MachineID=${target.machineId}`]));
  const t0 = Date.now();
  let exitedMs: number | undefined;
  const exited = cluster.killFleetd(old.index, 'SIGTERM').then(() => (exitedMs = Date.now() - t0));
  const { runningMs, newLeaderMs } = await launchAndTime('after-stop.service', target, key, t0);
  await exited;
  const fromExit = runningMs - (exitedMs ?? Number.NaN);
  console.log(
    `[faults] leader SIGTERM -> new leader ${(newLeaderMs / 1000).toFixed(2)} s, new unit running ${(runningMs / 1000).toFixed(2)} s after the signal ` +
    `(old fleetd exited after ${((exitedMs ?? Number.NaN) / 1000).toFixed(2)} s; running ${(fromExit / 1000).toFixed(2)} s after its exit)`,
  );
  expect(runningMs, clusterLogs(cluster)).toBeLessThanOrEqual(1000);
  await cluster.restartFleetd(old.index);
});
