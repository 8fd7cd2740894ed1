import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseUnitName, type MachineId } from '@fleet/core/model';
import { KeySchema } from '@fleet/core/registry';
import { api, fleetctl, fleetUnit, mainPid, pollUntil, systemdState, useTestCluster } from './support.js';

const cluster = useTestCluster({ machines: 1 });

/** A unit systemd refuses for good: its [Install] section's only rule is reset, so there is nothing to enable. */
function unenablableUnit(dir: string, name: string): string {
  const path = join(dir, name);
  writeFileSync(path, '[Service]\nExecStart=/bin/sleep 100000\n\n[Install]\nWantedBy=default.target\nWantedBy=\n');
  return path;
}

describe("one unit's failure is that unit's alone (real systemd)", () => {
  it('a unit systemd refuses does not hold up another unit on the same machine; start says why and exits 1; the agent tries it once', async () => {
    const bad = unenablableUnit(cluster.dir, 'refused.service');
    const good = fleetUnit(cluster.dir, 'fine.service');
    const started = Date.now();
    const result = await fleetctl(cluster.m1, 'start', bad, good);
    const tookMs = Date.now() - started;
    console.log(`start of a refused unit beside a good one: exit ${result.code} after ${tookMs} ms`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unit refused.service cannot reach state launched');
    expect(result.stderr).toContain('[Install] section has no rule systemd can apply');
    // The good unit was started in the same pass as the refused one's failure.
    await pollUntil('fine.service to run', async () => ((await systemdState(cluster.m1, 'fine.service')).sub === 'running' ? true : undefined), { timeoutMs: 15_000 });

    const unit = (await api(cluster.m1, 'GET', '/fleet/v1/units/refused.service')).body as { currentState: string; failure?: string; reason?: string };
    expect(unit.currentState).toBe('loaded');
    expect(unit.failure).toContain('[Install] section has no rule systemd can apply');
    expect(unit.reason).toContain('refused it');
    const status = await fleetctl(cluster.m1, 'status', 'refused.service');
    expect(status.stdout).toMatch(/Reason: +systemd on [0-9a-f]+ refused it: .*\[Install\] section has no rule/);
    const shown = await fleetctl(cluster.m1, 'list-unit-files', '--fields', 'unit,reason', '--no-legend');
    expect(shown.stdout).toMatch(/refused\.service\s+systemd on [0-9a-f]+ refused it: .*\[Install\] section has no rule/);

    // Not retried at every pass: another unit's start makes the agent pass again (and again when
    // systemd reports it), and the refused one has still been tried once.
    expect((await fleetctl(cluster.m1, 'start', fleetUnit(cluster.dir, 'later.service'))).code).toBe(0);
    const log = readFileSync(cluster.m1.fleetdLog, 'utf8');
    const attempts = log.split('\n').filter((l) => l.includes('task failed: load-unit refused.service')).length;
    const passes = log.split('\n').filter((l) => l.includes('start-unit later.service')).length;
    console.log(`agent attempts to load refused.service: ${attempts}, after a later unit's start (${passes} pass)`);
    expect(passes).toBe(1);
    expect(attempts).toBe(1);

    // A new file is tried afresh, and it runs.
    writeFileSync(bad, '[Service]\nExecStart=/bin/sleep 100000\n');
    const replaced = await fleetctl(cluster.m1, 'start', '--replace', bad);
    expect(replaced.code).toBe(0);
    expect((await systemdState(cluster.m1, 'refused.service')).sub).toBe('running');
  }, 60_000);
});

describe('a corrupt record hurts nothing (real etcd)', () => {
  it('a unit whose record in etcd is corrupt keeps running where it is: the engine leaves it alone and says why once', async () => {
    const keep = fleetUnit(cluster.dir, 'keep.service');
    expect((await fleetctl(cluster.m1, 'start', keep)).code).toBe(0);
    const pidBefore = await mainPid(cluster.m1, 'keep.service');
    const key = new KeySchema('/_coreos.com/fleet/').unit(parseUnitName('keep.service'));
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const put = await fetch(`${cluster.etcd.clientUrl}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: b64(key), value: b64('{not json') }) });
    expect(put.status).toBe(200);
    // The engine has planned with the corrupt record once it logs it.
    await pollUntil('the engine to report the corrupt record', async () => (readFileSync(cluster.m1.fleetdLog, 'utf8').includes('corrupt records in etcd: leaving those units where they are') ? true : undefined), { timeoutMs: 15_000 });
    const shown = await api(cluster.m1, 'GET', '/fleet/v1/units/keep.service');
    expect(shown.status).toBe(500);
    expect(JSON.stringify(shown.body)).toContain('the record of unit keep.service in etcd is corrupt');
    // Another unit's start makes the engine and the agent pass again.
    expect((await fleetctl(cluster.m1, 'start', fleetUnit(cluster.dir, 'after.service'))).code).toBe(0);
    const log = readFileSync(cluster.m1.fleetdLog, 'utf8');
    expect(log).not.toMatch(/unschedule keep\.service/);
    expect(log.split('\n').filter((l) => l.includes('corrupt records in etcd')).length).toBe(1);
    expect(await systemdState(cluster.m1, 'keep.service')).toMatchObject({ active: 'active', sub: 'running' });
    expect(await mainPid(cluster.m1, 'keep.service')).toBe(pidBefore);

    // Its schedule entry corrupt too: the agent leaves the unit as it is (it used to take it for unscheduled and stop it).
    const entryKey = new KeySchema('/_coreos.com/fleet/').schedule(cluster.m1.machineId as MachineId, parseUnitName('keep.service'));
    expect((await fetch(`${cluster.etcd.clientUrl}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: b64(entryKey), value: b64('{not json') }) })).status).toBe(200);
    await pollUntil('the agent to report the corrupt entry', async () => (readFileSync(cluster.m1.fleetdLog, 'utf8').includes('corrupt schedule entry: leaving its unit as it is') ? true : undefined), { timeoutMs: 15_000 });
    expect((await fleetctl(cluster.m1, 'start', fleetUnit(cluster.dir, 'later2.service'))).code).toBe(0);
    expect(readFileSync(cluster.m1.fleetdLog, 'utf8')).not.toMatch(/(stop|unload)-unit keep\.service/);
    expect(await mainPid(cluster.m1, 'keep.service')).toBe(pidBefore);
    console.log(`keep.service with a corrupt record and a corrupt schedule entry: still running, MainPID ${pidBefore} unchanged, 0 unschedules, 0 stops`);
  }, 60_000);
});
