import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEtcdMembers, type EtcdMembers } from '../../scripts/local-cluster/etcd-members.js';
import { fleetctl, fleetUnit, machinesRunning, pollUntil, useTestCluster } from '../e2e/support.js';

// fleetd against a 3-member etcd, `etcd_servers` naming all three: one member is SIGKILLed in
// the middle of a churn of user operations and started again; no user operation may fail.
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
  const run = async (...args: string[]): Promise<void> => {
    operations++;
    const result = await fleetctl(cluster.machines[operations % 2]!, ...args);
    if (result.code !== 0) failures.push(`fleetctl ${args.join(' ')} -> ${result.code}: ${result.stderr.trim()}`);
  };
  const t0 = Date.now();
  // The member killed is the one the first fleetd's config names first.
  const victim = 0;
  const fault = (async () => {
    await new Promise((r) => setTimeout(r, killAfterMs));
    const pid = members().pid(victim);
    await members().kill(victim);
    console.log(`[faults] etcd member ${victim + 1} (PID ${pid}) SIGKILLed at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // The outage's length is what is under test here, not a wait for a condition.
    await new Promise((r) => setTimeout(r, downForMs));
    await members().restart(victim);
    console.log(`[faults] etcd member ${victim + 1} healthy again at ${((Date.now() - t0) / 1000).toFixed(1)} s (PID ${members().pid(victim)})`);
  })();
  let round = 0;
  const kept: string[] = [];
  while (Date.now() - t0 < churnMs || round < 3) {
    round++;
    const names = [1, 2, 3, 4].map((i) => `churn-${round}-${i}.service`);
    const files = names.map((n) => fleetUnit(cluster.dir, n));
    await run('start', '--no-block', ...files);
    await run('list-units', '--no-legend');
    await run('stop', '--no-block', names[0]!);
    await run('destroy', names[1]!);
    await run('list-unit-files', '--no-legend');
    kept.push(names[2]!, names[3]!);
    await run('destroy', names[0]!);
  }
  await fault;
  console.log(`[faults] etcd member kill during churn: ${operations} fleetctl operations in ${round} rounds over ${((Date.now() - t0) / 1000).toFixed(1)} s, ${failures.length} failed`);
  for (const f of failures) console.log(`[faults]   ${f}`);
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
