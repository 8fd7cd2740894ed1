import { describe, expect, it } from 'vitest';
import { api, fleetctl, fleetctlOk, fleetUnit, hostsOf, pollUntil, reasonOf, useTestCluster } from './support.js';

// Three machines: m1 and m2 in rack r1, m3 in rack r2, each also tagged with its own name.
const cluster = useTestCluster({ machines: 3, metadata: ['rack=r1,host=m1', 'rack=r1,host=m2', 'rack=r2,host=m3'] });

const start = (...args: string[]) => fleetctlOk(cluster.m1, 'start', ...args);
const destroy = (...units: string[]) => fleetctlOk(cluster.m1, 'destroy', ...units);

describe('placement rules on a real cluster', () => {
  it('MachineMetadata places a unit on a matching machine only', async () => {
    await start(fleetUnit(cluster.dir, 'in-r2.service', ['MachineMetadata=rack=r2']));
    expect((await hostsOf(cluster, ['in-r2.service'])).get('in-r2.service')).toEqual(['m3']);
    await destroy('in-r2.service');
  });

  it('MachineID pins a unit, by full or short ID', async () => {
    const m2 = cluster.machines[1]!;
    await start(fleetUnit(cluster.dir, 'pinned.service', [`MachineID=${m2.machineId}`]), fleetUnit(cluster.dir, 'pinned-short.service', [`MachineID=${m2.machineId.slice(0, 8)}`]));
    expect(Object.fromEntries(await hostsOf(cluster, ['pinned.service', 'pinned-short.service']))).toEqual({ 'pinned.service': ['m2'], 'pinned-short.service': ['m2'] });
    await destroy('pinned.service', 'pinned-short.service');
  });

  it('five mutually conflicting units on three machines: three run on distinct machines, two wait with a reason', async () => {
    const names = [1, 2, 3, 4, 5].map((i) => `anti@${i}.service`);
    const paths = names.map((n) => fleetUnit(cluster.dir, n, ['Conflicts=anti@*']));
    const result = await fleetctl(cluster.m1, 'start', '--no-block', ...paths);
    expect(result.code).toBe(0);
    const running = await pollUntil('three anti@ units to run', async () => {
      const hosts = await hostsOf(cluster, names);
      const placed = [...hosts.values()].filter((h) => h.length > 0);
      return placed.length === 3 ? hosts : undefined;
    }, { timeoutMs: 30_000, intervalMs: 250 });
    const machinesUsed = [...running.values()].flat();
    expect(new Set(machinesUsed).size).toBe(3);
    const waiting = names.filter((n) => running.get(n)!.length === 0);
    expect(waiting).toHaveLength(2);
    for (const unit of waiting) {
      expect(await pollUntil(`a reason for ${unit}`, () => reasonOf(cluster.m1, unit), { timeoutMs: 10_000 })).toBe('3 machines: 3 rejected by Conflicts=anti@*');
    }
    // Still true after later engine passes (a witness unit can only be placed by one): nothing flaps.
    await start(fleetUnit(cluster.dir, 'witness.service'));
    expect(await hostsOf(cluster, names)).toEqual(running);
    await destroy(...names, 'witness.service');
  });

  it('a one-way conflict blocks both ways: declared by the newcomer, or by the unit already there', async () => {
    await start(fleetUnit(cluster.dir, 'lonely.service', ['MachineMetadata=host=m3', 'Conflicts=pushy.service']));
    await start('--no-block', fleetUnit(cluster.dir, 'shy.service', ['Conflicts=lonely.service', 'MachineMetadata=rack=r2']));
    await start('--no-block', fleetUnit(cluster.dir, 'pushy.service', ['MachineMetadata=rack=r2']));
    expect(await pollUntil('shy.service to have a reason', () => reasonOf(cluster.m1, 'shy.service'), { timeoutMs: 10_000 })).toBe(
      '3 machines: 2 rejected by MachineMetadata rack=r2, 1 by Conflicts=lonely.service',
    );
    expect(await pollUntil('pushy.service to have a reason', () => reasonOf(cluster.m1, 'pushy.service'), { timeoutMs: 10_000 })).toBe(
      '3 machines: 2 rejected by MachineMetadata rack=r2, 1 by Conflicts=pushy.service of lonely.service',
    );
    expect(Object.fromEntries(await hostsOf(cluster, ['lonely.service', 'shy.service', 'pushy.service']))).toEqual({
      'lonely.service': ['m3'], 'shy.service': [], 'pushy.service': [],
    });
    await destroy('lonely.service', 'shy.service', 'pushy.service');
  });

  it('Replaces moves the replaced unit to another machine', async () => {
    await start(fleetUnit(cluster.dir, 'old.service'));
    const [oldHost] = (await hostsOf(cluster, ['old.service'])).get('old.service')!;
    expect(oldHost).toBeDefined();
    // The newcomer can only run where old.service runs, and replaces it there.
    await start(fleetUnit(cluster.dir, 'new.service', [`MachineMetadata=host=${oldHost}`, 'Replaces=old.service']));
    const hosts = await pollUntil('old.service to move away', async () => {
      const h = await hostsOf(cluster, ['old.service', 'new.service']);
      const o = h.get('old.service')!;
      return o.length === 1 && o[0] !== oldHost ? h : undefined;
    }, { timeoutMs: 30_000, intervalMs: 250 });
    expect(hosts.get('new.service')).toEqual([oldHost]);
    await destroy('old.service', 'new.service');
  });

  it('circular Replaces: a ring of three is accepted, runs together where it must, and says the cycle is ignored', async () => {
    // Each may only run on m3 and replaces the next: honouring that would move them round forever.
    const ring = ['ring-a.service', 'ring-b.service', 'ring-c.service'];
    const paths = ring.map((unit, i) => fleetUnit(cluster.dir, unit, ['MachineMetadata=host=m3', `Replaces=${ring[(i + 1) % 3]}`]));
    await start(...paths);
    const placed = await hostsOf(cluster, ring);
    expect(Object.fromEntries(placed)).toEqual({ 'ring-a.service': ['m3'], 'ring-b.service': ['m3'], 'ring-c.service': ['m3'] });
    const note = 'circular Replaces= ignored: ring-a.service -> ring-b.service -> ring-c.service -> ring-a.service';
    expect(await pollUntil('the ring\'s reason', () => reasonOf(cluster.m1, 'ring-a.service'), { timeoutMs: 10_000 })).toBe(note);
    const files = await fleetctl(cluster.m1, 'list-unit-files', '--no-legend', '--fields', 'unit,reason');
    expect(files.stdout).toContain(`ring-a.service\t${note}\n`);
    expect(files.stdout).toContain('ring-b.service\tcircular Replaces= ignored: ring-b.service -> ring-c.service -> ring-a.service -> ring-b.service\n');
    // Later engine passes (a witness unit can only be placed by one) move nothing.
    await start(fleetUnit(cluster.dir, 'ring-witness.service'));
    expect(await hostsOf(cluster, ring)).toEqual(placed);
    await destroy(...ring, 'ring-witness.service');
  });

  it('makes instances from a local template, resolving specifiers per instance', async () => {
    // %p resolves to "spread" for every instance: the instances conflict with each other, and
    // SpreadBy=rack sends the first two to different racks.
    fleetUnit(cluster.dir, 'spread@.service', ['Conflicts=%p@*', 'SpreadBy=rack']);
    await start(`${cluster.dir}/spread@1.service`, `${cluster.dir}/spread@2.service`);
    const hosts = await hostsOf(cluster, ['spread@1.service', 'spread@2.service']);
    const racks = [...hosts.values()].map((h) => (h[0] === 'm3' ? 'r2' : 'r1'));
    expect(new Set(racks).size).toBe(2);
    const template = await fleetctl(cluster.m1, 'start', `${cluster.dir}/spread@.service`);
    expect(template.code).not.toBe(0);
    expect(template.stderr).toMatch(/template/);
    await destroy('spread@1.service', 'spread@2.service', 'spread@.service');
  });

  it('a unit that fits nowhere says why: API, list-unit-files, status -o json; a blocking start times out as fleet does', async () => {
    const path = fleetUnit(cluster.dir, 'nowhere.service', ['MachineMetadata=rack=r9']);
    const blocked = await fleetctl(cluster.m1, 'start', '--block-attempts', '12', path);
    expect(blocked.code).not.toBe(0);
    const why = '3 machines: 3 rejected by MachineMetadata rack=r9';
    // The reason follows fleet's lines only on a terminal.
    expect(blocked.stderr).toBe(
      'Error waiting for units: timed out waiting for unit nowhere.service to report state launched\n' +
        'Error waiting for unit states, exit status: timed out waiting for unit nowhere.service to report state launched\n',
    );
    expect(await reasonOf(cluster.m1, 'nowhere.service')).toBe(why);
    const files = await fleetctl(cluster.m1, 'list-unit-files', '--no-legend', '--fields', 'unit,dstate,state,reason');
    expect(files.stdout).toContain(`nowhere.service\tlaunched\tinactive\t${why}`);
    const status = await fleetctl(cluster.m1, 'status', '-o', 'json', 'nowhere.service');
    expect((JSON.parse(status.stdout) as { reason: string }[])[0]?.reason).toBe(why);
    await destroy('nowhere.service');
    const units = (await api(cluster.m1, 'GET', '/fleet/v1/units')).body as { units: unknown[] };
    expect(units.units).toEqual([]);
  });

  it('accepts unknown [X-Fleet] options, as fleet does, with fleet\'s warning on stderr', async () => {
    const result = await fleetctl(cluster.m1, 'submit', fleetUnit(cluster.dir, 'odd-key.service', ['Frobnicate=yes']));
    expect(result).toMatchObject({ code: 0, stdout: 'Unit odd-key.service inactive\n' });
    expect(result.stderr).toMatch(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d WARN fleetctl\.go:674: Unit odd-key\.service: unrecognized requirement in \[X-Fleet\] section: "Frobnicate"\n$/);
    await destroy('odd-key.service');
  });

  it("rejects invalid [X-Fleet] combinations: fleetctl in fleet's client's words, the API with a 400 naming the options", async () => {
    const bad = fleetUnit(cluster.dir, 'bad-combo.service', [`MachineID=${cluster.m1.machineId}`, 'Conflicts=x*']);
    const result = await fleetctl(cluster.m1, 'submit', bad);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toBe('Error creating units: MachineID cannot be used with Conflicts\n');
    const options = [
      { section: 'Service', name: 'ExecStart', value: '/bin/true' },
      { section: 'X-Fleet', name: 'MachineID', value: cluster.m1.machineId },
      { section: 'X-Fleet', name: 'Conflicts', value: 'x*' },
    ];
    const put = await api(cluster.m1, 'PUT', '/fleet/v1/units/bad-combo.service', { name: 'bad-combo.service', options });
    expect(put.status).toBe(400);
    expect(JSON.stringify(put.body)).toMatch(/MachineID.*Conflicts|Conflicts.*MachineID/);
    expect((await api(cluster.m1, 'GET', '/fleet/v1/units/bad-combo.service')).status).toBe(404);
  });
});
