import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { machineA, machineB, optionsOf, startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

const hello = '[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/true\n';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  h.api.addUnit('web.service', optionsOf(hello), { desiredState: 'launched' });
  h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'launched' });
  h.api.addUnit('idle.service', optionsOf(hello));
  h.api.converge();
  h.api.autoConverge = false;
  // A second machine reports hello.service too, to check the machine ordering.
  h.api.putState({ name: 'hello.service', hash: 'abc', machineID: machineB, systemdLoadState: 'loaded', systemdActiveState: 'inactive', systemdSubState: 'dead' });
});
afterEach(async () => {
  await h.close();
});

describe('list-units', () => {
  it('lists the states of every page, sorted by unit then machine', async () => {
    const r = await h.fleetctl(['list-units']);
    expect(r).toMatchObject({
      code: 0,
      stderr: '',
      stdout:
        'UNIT\t\tMACHINE\t\t\tACTIVE\t\tSUB\n' +
        'hello.service\t595989bb.../10.10.1.2\tinactive\tdead\n' +
        'hello.service\tc31e44e1.../10.10.1.1\tactive\t\trunning\n' +
        'web.service\tc31e44e1.../10.10.1.1\tactive\t\trunning\n',
    });
    expect(h.api.requests.map((q) => q.url)).toEqual([
      '/fleet/v1/state',
      // The API's page tokens are opaque (base64url of the offset).
      '/fleet/v1/state?nextPageToken=Mg',
      '/fleet/v1/machines',
    ]);
  });

  it('honours --no-legend, --fields and -l', async () => {
    const r = await h.fleetctl(['list-units', '--no-legend', '--fields', 'unit,machine', '-l']);
    expect(r.stdout).toBe(
      `hello.service\t${machineB}/10.10.1.2\nhello.service\t${machineA}/10.10.1.1\nweb.service\t${machineA}/10.10.1.1\n`,
    );
  });

  it('does not fetch machines when no machine column is shown', async () => {
    await h.fleetctl(['list-units', '--fields', 'unit,load']);
    expect(h.api.requests.some((q) => q.url === '/fleet/v1/machines')).toBe(false);
  });

  it('prints JSON with -o json', async () => {
    const r = await h.fleetctl(['list-units', '-o', 'json', '--fields', 'unit,active']);
    expect(JSON.parse(r.stdout)).toEqual([
      { unit: 'hello.service', active: 'inactive' },
      { unit: 'hello.service', active: 'active' },
      { unit: 'web.service', active: 'active' },
    ]);
  });

  it('rejects an unknown field before asking the API', async () => {
    const r = await h.fleetctl(['list-units', '--fields', 'unit,cpu']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Invalid key in output format: "cpu"\n');
    expect(h.api.requests).toEqual([]);
    const terminal = await h.fleetctl(['list-units', '--fields', 'unit,cpu'], {}, { interactive: true });
    expect(terminal.stderr).toBe('Invalid key in output format: "cpu"\nValid fields are active,hash,load,machine,sub,unit\n');
    expect(h.api.requests).toEqual([]);
  });

  it('rejects an unknown output format', async () => {
    const r = await h.fleetctl(['list-units', '--output', 'yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: Invalid values: Argument: output, Given: "yaml", Choices: "table", "json"\nRun \'fleetctl help\' for usage.\n');
  });
});

describe('list-unit-files', () => {
  it("lists every unit with fleet's default columns", async () => {
    const r = await h.fleetctl(['list-unit-files']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'UNIT\t\tHASH\tDSTATE\t\tSTATE\t\tTARGET\n' +
        'hello.service\t6abe518\tlaunched\tlaunched\tc31e44e1.../10.10.1.1\n' +
        'idle.service\t6abe518\tinactive\tinactive\t-\n' +
        'web.service\t6abe518\tlaunched\tlaunched\tc31e44e1.../10.10.1.1\n',
    );
  });

  it('warns that tmachine is deprecated', async () => {
    const r = await h.fleetctl(['list-unit-files', '--fields', 'unit,tmachine', '--no-legend']);
    expect(r.stderr).toBe('WARNING: The "tmachine" field is deprecated. Use "target" instead\n');
    expect(r.stdout).toBe('hello.service\tc31e44e1.../10.10.1.1\nidle.service\t-\nweb.service\tc31e44e1.../10.10.1.1\n');
  });

  it('prints JSON with full hashes', async () => {
    const r = await h.fleetctl(['list-unit-files', '-o', 'json', '--fields', 'unit,hash,desc']);
    const rows = JSON.parse(r.stdout) as { hash: string }[];
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual({ unit: 'hello.service', hash: expect.stringMatching(/^6abe518[0-9a-f]{33}$/), desc: 'Hello' });
  });
});

describe('list-unit-files reason', () => {
  const reason = '3 machines: 2 rejected by MachineMetadata rack=r3, 1 by Conflicts=db*';
  beforeEach(() => {
    h.api.addUnit('pending.service', optionsOf(hello), { desiredState: 'launched', reason });
  });

  it('is not a default column', async () => {
    const r = await h.fleetctl(['list-unit-files', '--no-legend', '--fields', 'unit']);
    expect(r.stdout).toBe('hello.service\nidle.service\npending.service\nweb.service\n');
    expect((await h.fleetctl(['list-unit-files'])).stdout).not.toContain('REASON');
  });

  it('prints the reason, "-" when the API gives none', async () => {
    const r = await h.fleetctl(['list-unit-files', '--fields', 'unit,dstate,state,reason']);
    expect(r).toMatchObject({
      code: 0,
      stderr: '',
      stdout:
        'UNIT\t\tDSTATE\t\tSTATE\t\tREASON\n' +
        'hello.service\tlaunched\tlaunched\t-\n' +
        'idle.service\tinactive\tinactive\t-\n' +
        `pending.service\tlaunched\tinactive\t${reason}\n` +
        'web.service\tlaunched\tlaunched\t-\n',
    });
  });

  it('is null in JSON when the API gives none', async () => {
    const r = await h.fleetctl(['list-unit-files', '-o', 'json', '--fields', 'unit,reason']);
    expect(r.stdout).toBe(
      '[\n' +
        '  {\n    "unit": "hello.service",\n    "reason": null\n  },\n' +
        '  {\n    "unit": "idle.service",\n    "reason": null\n  },\n' +
        `  {\n    "unit": "pending.service",\n    "reason": "${reason}"\n  },\n` +
        '  {\n    "unit": "web.service",\n    "reason": null\n  }\n' +
        ']\n',
    );
  });

  it('is listed among the valid fields, on a terminal', async () => {
    const r = await h.fleetctl(['list-unit-files', '--fields', 'unit,why'], {}, { interactive: true });
    expect(r.stderr).toBe('Invalid key in output format: "why"\nValid fields are desc,dstate,global,hash,reason,state,target,tmachine,unit\n');
  });

  it('warns about the deprecated tmachine field where fleet does, in the order of the fields', async () => {
    expect((await h.fleetctl(['list-unit-files', '--fields', 'tmachine,bogus'])).stderr).toBe(
      'WARNING: The "tmachine" field is deprecated. Use "target" instead\nInvalid key in output format: "bogus"\n',
    );
    expect((await h.fleetctl(['list-unit-files', '--fields', 'bogus,tmachine'])).stderr).toBe('Invalid key in output format: "bogus"\n');
  });
});

describe('list-machines', () => {
  it('lists machines with short IDs and metadata', async () => {
    const r = await h.fleetctl(['list-machines']);
    expect(r).toMatchObject({
      code: 0,
      stdout: 'MACHINE\t\tIP\t\tMETADATA\n595989bb...\t10.10.1.2\t-\nc31e44e1...\t10.10.1.1\tregion=us-west\n',
    });
  });

  it('prints JSON keyed by field name', async () => {
    const r = await h.fleetctl(['list-machines', '--output', 'json']);
    expect(JSON.parse(r.stdout)).toEqual([
      { machine: machineB, ip: '10.10.1.2', metadata: {} },
      { machine: machineA, ip: '10.10.1.1', metadata: { region: 'us-west' } },
    ]);
  });
});
