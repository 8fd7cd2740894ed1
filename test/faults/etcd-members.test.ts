import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEtcdMembers, type EtcdMembers } from '../../scripts/local-cluster/etcd-members.js';
import { fleetctl, fleetUnit, machinesRunning, pollUntil, useTestCluster } from '../e2e/support.js';

// fleetd against a 3-member etcd, `etcd_servers` naming all three: the raft leader is SIGKILLed
// in the middle of a churn of user operations and started again; no user operation may fail.
const dir = mkdtempSync('/tmp/fl-etcd-members-');
let etcd: EtcdMembers | undefined;
const members = (): EtcdMembers => {
  if (etcd === undefined) throw new Error('etcd not started');
  return etcd;
};

beforeAll(async () => {
  etcd = await startEtcdMembers({ dir, members: 3 });
});

afterAll(async () => {
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const cluster = useTestCluster(() => ({ machines: 2, metadata: [], fleetdEtcd: members().fleetdConfig }));

const killAfterMs = 4_000;
const downForMs = 8_000;
const churnMs = 25_000;

it('loses no user operation while one of three etcd members is killed and restarted', async () => {
  expect(members().servers).toHaveLength(3);
  const failures: string[] = [];
  let operations = 0;
  let slowestMs = 0;
  const run = async (...args: string[]): Promise<void> => {
    operations++;
    const began = Date.now();
    const result = await fleetctl(cluster.machines[operations % 2]!, ...args);
    slowestMs = Math.max(slowestMs, Date.now() - began);
    const at = `${((began - t0) / 1000).toFixed(1)} s`;
    if (result.code !== 0) failures.push(`at ${at} fleetctl ${args.join(' ')} -> ${result.code} after ${Date.now() - began} ms: ${result.stderr.trim()}`);
  };
  const t0 = Date.now();
  const fault = (async () => {
    await new Promise((r) => setTimeout(r, killAfterMs));
    // The raft leader: losing it costs an election, the harder case for the clients.
    const victim = await members().leader();
    const pid = members().pid(victim);
    await members().kill(victim);
    console.log(`[faults] etcd member ${victim + 1} (raft leader, PID ${pid}) SIGKILLed at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // The outage's length is what is under test here, not a wait for a condition.
    await new Promise((r) => setTimeout(r, downForMs));
    await members().restart(victim);
    console.log(`[faults] etcd member ${victim + 1} healthy again at ${((Date.now() - t0) / 1000).toFixed(1)} s (PID ${members().pid(victim)})`);
  })();
  let round = 0;
  const kept: string[] = [];
  // Stop and destroy act on the previous round's units: fleet refuses to stop a unit the engine has
  // not scheduled yet ("in state inactive"), which is fleet's answer, not a lost operation.
  let previous: string[] = [];
  while (Date.now() - t0 < churnMs || round < 3) {
    round++;
    const names = [1, 2, 3, 4].map((i) => `churn-${round}-${i}.service`);
    const files = names.map((n) => fleetUnit(cluster.dir, n));
    await run('start', '--no-block', ...files);
    await run('list-units', '--no-legend');
    if (previous.length > 0) {
      await run('stop', '--no-block', previous[0]!);
      await run('destroy', previous[1]!);
    }
    await run('list-unit-files', '--no-legend');
    if (previous.length > 0) await run('destroy', previous[0]!);
    kept.push(names[2]!, names[3]!);
    previous = names;
  }
  await run('destroy', previous[0]!, previous[1]!);
  await fault;
  console.log(`[faults] etcd member kill during churn: ${operations} fleetctl operations in ${round} rounds over ${((Date.now() - t0) / 1000).toFixed(1)} s, ${failures.length} failed`);
  for (const f of failures) console.log(`[faults]   ${f}`);
  console.log(`[faults] slowest fleetctl operation: ${slowestMs} ms`);
  if (failures.length > 0) {
    // The cluster's folder goes with the test: keep its fleetd logs for the post-mortem.
    const kept = mkdtempSync('/tmp/fl-etcd-members-logs-');
    for (const m of cluster.machines) cpSync(m.fleetdLog, join(kept, `${m.name}-fleetd.log`));
    console.log(`[faults] fleetd logs kept in ${kept}`);
  }
  expect(failures).toEqual([]);
  // Every unit that was started and kept runs on one machine.
  await pollUntil('every kept unit running on exactly one machine', async () => {
    for (const unit of kept) if ((await machinesRunning(cluster, unit)).length !== 1) return undefined;
    return true;
  }, { timeoutMs: 60_000, intervalMs: 1_000 });
  const listed = await fleetctl(cluster.m1, 'list-unit-files', '--no-legend', '--fields', 'unit');
  expect(listed.code).toBe(0);
  expect(listed.stdout.split('\n').filter((l) => l !== '').sort()).toEqual([...kept].sort());
  console.log(`[faults] after the member's restart: ${kept.length} kept units each running on one machine, destroyed units gone`);
});
