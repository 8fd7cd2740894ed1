import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LocalMachine } from '../../scripts/local-cluster/cluster.js';
import { busConnectionsOf } from '../../scripts/local-cluster/systemd-user.js';
import { api, examplesDir, fleetctl, machinesRunning, pollUntil, runningContainers, systemdState, useTestCluster } from './support.js';

const cluster = useTestCluster({ machines: 3 });

describe('a unit through its whole life on 3 real machines', () => {
  let host: LocalMachine;

  it('lists the 3 machines with their metadata', async () => {
    const result = await fleetctl(cluster.m1, 'list-machines', '--no-legend', '--full');
    expect(result.code).toBe(0);
    const rows = result.stdout.trim().split('\n').map((l) => l.split('\t').filter((c) => c !== ''));
    expect(rows.map((r) => r[0]).sort()).toEqual(cluster.machines.map((m) => m.machineId).sort());
    expect(rows.map((r) => r[2]).sort()).toEqual(['rack=r1', 'rack=r1', 'rack=r2']);
  });

  it('start runs the hello container on exactly one machine', async () => {
    const result = await fleetctl(cluster.m1, 'start', join(examplesDir, 'hello.service'));
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Unit hello.service launched on [0-9a-f]{8}\.\.\.\/127\.0\.1\.\d/);
    const running = await machinesRunning(cluster, 'hello.service');
    expect(running).toHaveLength(1);
    host = running[0]!;
    // The container comes up a moment after systemd reports the unit running.
    await pollUntil('the hello container', async () => ((await runningContainers()).includes('hello') ? true : undefined), { timeoutMs: 30_000 });
    const listed = await fleetctl(cluster.m1, 'list-units', '--no-legend', '--full', '--fields', 'unit,machine,active,sub');
    expect(listed.stdout).toContain(`hello.service\t${host.machineId}/${host.publicIp}\tactive\trunning`);
  });

  it('start again is idempotent', async () => {
    const result = await fleetctl(cluster.m1, 'start', join(examplesDir, 'hello.service'));
    expect(result.code).toBe(0);
    expect(await machinesRunning(cluster, 'hello.service')).toEqual([host]);
  });

  it("each fleetd talks to its systemd over one D-Bus connection, also after reading a unit's status", async () => {
    // The status is read by the host's unit inspector, over the connection its unit manager uses.
    const status = await fleetctl(cluster.m1, 'status', 'hello.service');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('hello.service');
    for (const machine of cluster.machines) {
      expect(machine.fleetdPid).toBeDefined();
      expect(await busConnectionsOf(machine.busAddress, machine.fleetdPid ?? 0), machine.name).toHaveLength(1);
    }
  });

  it('stop removes the container and leaves the unit loaded', async () => {
    const result = await fleetctl(cluster.m1, 'stop', 'hello.service');
    expect(result.code).toBe(0);
    await pollUntil('hello to stop', async () => ((await systemdState(host, 'hello.service')).active === 'inactive' ? true : undefined), { timeoutMs: 30_000 });
    expect(await systemdState(host, 'hello.service')).toEqual({ load: 'loaded', active: 'inactive', sub: 'dead' });
    await pollUntil('the hello container to go', async () => ((await runningContainers()).includes('hello') ? undefined : true), { timeoutMs: 30_000 });
    const unit = (await api(cluster.m1, 'GET', '/fleet/v1/units/hello.service')).body as { desiredState: string; currentState: string };
    expect(unit).toMatchObject({ desiredState: 'loaded', currentState: 'loaded' });
  });

  it('destroy removes the unit file from that machine', async () => {
    const unitFile = join(host.unitsDirectory, 'hello.service');
    expect(existsSync(unitFile)).toBe(true);
    const result = await fleetctl(cluster.m1, 'destroy', 'hello.service');
    expect(result.code).toBe(0);
    await pollUntil('the unit file to be removed', () => (existsSync(unitFile) ? undefined : true), { timeoutMs: 30_000 });
    expect((await systemdState(host, 'hello.service')).load).toBe('not-found');
    expect((await api(cluster.m1, 'GET', '/fleet/v1/units/hello.service')).status).toBe(404);
  });
});

describe('a unit that fails', () => {
  it("start says, as fleet does, that systemd does not report the unit active, with a non-zero exit", async () => {
    const file = join(cluster.dir, 'broken-exec.service');
    writeFileSync(file, '[Service]\nExecStart=/bin/sh -c "echo about to fail; exit 3"\n');
    const result = await fleetctl(cluster.m1, 'start', '--block-attempts', '120', file);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^Error waiting for units: Failed to find an active unit broken-exec\.service within 2s/m);
    const states = (await api(cluster.m1, 'GET', '/fleet/v1/state?unitName=broken-exec.service')).body as { states: { systemdActiveState: string }[] };
    expect(states.states.map((s) => s.systemdActiveState)).toEqual(['failed']);
    expect((await fleetctl(cluster.m1, 'destroy', 'broken-exec.service')).code).toBe(0);
  });
});

describe('bad input through the real API', () => {
  it.each([
    ['../', '/fleet/v1/units/..%2F..%2Fetc%2Fcron.d%2Fevil.service'],
    ['/', '/fleet/v1/units/a%2Fb.service'],
  ])('rejects a unit name with %s with a 400 and a message, writing nothing', async (_what, path) => {
    const response = await api(cluster.m1, 'PUT', path, { desiredState: 'launched', options: [{ section: 'Service', name: 'ExecStart', value: '/bin/true' }] });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: { code: 400, message: expect.stringMatching(/invalid unit name/) } });
    const units = (await api(cluster.m1, 'GET', '/fleet/v1/units')).body as { units: unknown[] };
    expect(units.units).toEqual([]);
  });

  it("fleetctl refuses an invalid unit file in fleet's words and exits non-zero", async () => {
    const file = join(cluster.dir, 'broken.service');
    writeFileSync(file, '[Service]\nExecStart /bin/true\n');
    const result = await fleetctl(cluster.m1, 'submit', file);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toBe(`Error creating units: failed getting Unit(${file}) from file: unexpected newline encountered while parsing option name\n`);
  });
});
