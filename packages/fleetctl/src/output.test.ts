import type { ApiUnit } from './api-client.js';
import type { WireMachine, WireUnitState } from '@fleet/core/wire';
import { describe, expect, it } from 'vitest';
import { listMachinesFields, machineRows } from './commands/list-machines.js';
import { listUnitFilesFields, unitFileRows } from './commands/list-unit-files.js';
import { listUnitsFields, unitStateRows } from './commands/list-units.js';
import { hashLegend, machineLegend, metadataLegend, parseFields, renderListing } from './output.js';
import type { ListingOptions } from './output.js';

const m1 = 'c31e44e1f25c4b2c8e5a6e8b3f1a2b3c';
const m2 = '595989bb0d5c4a0f9b3e2d1c0b9a8f7e';
const ips = new Map([[m1, '10.10.1.1'], [m2, '10.10.1.2']]);

const machines: WireMachine[] = [
  { id: m1, primaryIP: '10.10.1.1', metadata: { region: 'us-west', disk: 'ssd' } },
  { id: m2, primaryIP: '10.10.1.2', metadata: {} },
];

const states: WireUnitState[] = [
  { name: 'ping.service', hash: 'f85f3bb6ead4ad660cf37064349f8ee93b0b2a58', machineID: m2, systemdLoadState: 'loaded', systemdActiveState: 'activating', systemdSubState: 'start' },
  { name: 'hello.service', hash: '8c2d57110ebadc563d8409054afa5149b06db453', machineID: m1, systemdLoadState: 'loaded', systemdActiveState: 'active', systemdSubState: 'running' },
];

const units: ApiUnit[] = [
  {
    name: 'pending.service',
    options: [{ section: 'Service', name: 'ExecStart', value: '/bin/false' }, { section: 'X-Fleet', name: 'MachineMetadata', value: 'region=mars' }],
    desiredState: 'loaded',
    currentState: 'inactive',
  },
  {
    name: 'hello.service',
    options: [
      { section: 'Unit', name: 'Description', value: 'Hello World' },
      { section: 'Service', name: 'ExecStart', value: '/bin/sh -c "while true; do echo Hello; sleep 1; done"' },
    ],
    desiredState: 'launched',
    currentState: 'launched',
    machineID: m1,
  },
  {
    name: 'global.service',
    options: [{ section: 'Service', name: 'ExecStart', value: '/bin/true' }, { section: 'X-Fleet', name: 'Global', value: 'true' }],
    desiredState: 'launched',
    currentState: 'inactive',
  },
];

const table = (fields: string, more: Partial<ListingOptions> = {}): ListingOptions => ({
  fields,
  full: false,
  noLegend: false,
  format: 'table',
  ...more,
});

describe('list-units output', () => {
  const rows = unitStateRows(states, ips);

  it('prints the default columns TAB-aligned, sorted by unit, with short machine legends', () => {
    expect(renderListing(rows, listUnitsFields, table('unit,machine,active,sub'))).toBe(
      'UNIT\t\tMACHINE\t\t\tACTIVE\t\tSUB\n' +
        'hello.service\tc31e44e1.../10.10.1.1\tactive\t\trunning\n' +
        'ping.service\t595989bb.../10.10.1.2\tactivating\tstart\n',
    );
  });

  // The API under test sorts too (by unit, then machine); fleetctl does not rely on it.
  it('sorts rows by unit, then machine ID, whatever order the API sends', () => {
    const unsorted: WireUnitState[] = [
      { ...states[1]!, machineID: m1 },
      { ...states[0]!, name: 'hello.service', machineID: m2 },
      { ...states[0]! },
    ];
    expect(unitStateRows(unsorted, ips).map((r) => `${r.state.name} ${r.state.machineID}`)).toEqual([`hello.service ${m2}`, `hello.service ${m1}`, `ping.service ${m2}`]);
  });

  it('prints full machine IDs and hashes with --full', () => {
    expect(renderListing(rows, listUnitsFields, table('unit,hash,machine', { full: true }))).toBe(
      'UNIT\t\tHASH\t\t\t\t\t\tMACHINE\n' +
        `hello.service\t8c2d57110ebadc563d8409054afa5149b06db453\t${m1}/10.10.1.1\n` +
        `ping.service\tf85f3bb6ead4ad660cf37064349f8ee93b0b2a58\t${m2}/10.10.1.2\n`,
    );
  });

  it('drops the legend with --no-legend and keeps the alignment of the rows', () => {
    expect(renderListing(rows, listUnitsFields, table('unit,load,hash', { noLegend: true }))).toBe(
      'hello.service\tloaded\t8c2d571\nping.service\tloaded\tf85f3bb\n',
    );
  });

  it('prints a JSON array keyed by field name with untruncated values', () => {
    expect(JSON.parse(renderListing(rows, listUnitsFields, table('unit,machine,hash', { format: 'json' })))).toEqual([
      { unit: 'hello.service', machine: `${m1}/10.10.1.1`, hash: '8c2d57110ebadc563d8409054afa5149b06db453' },
      { unit: 'ping.service', machine: `${m2}/10.10.1.2`, hash: 'f85f3bb6ead4ad660cf37064349f8ee93b0b2a58' },
    ]);
  });

  it('prints a machine without a known IP as the ID legend alone', () => {
    const noIp = unitStateRows(states, new Map());
    expect(renderListing(noIp, listUnitsFields, table('machine', { noLegend: true }))).toBe('c31e44e1...\n595989bb...\n');
  });
});

describe('list-unit-files output', () => {
  const rows = unitFileRows(units, ips);

  it("prints fleet's default columns: global units target \"global\", unscheduled ones \"-\"", () => {
    expect(renderListing(rows, listUnitFilesFields, table('unit,hash,dstate,state,target'))).toBe(
      'UNIT\t\tHASH\tDSTATE\t\tSTATE\t\tTARGET\n' +
        'global.service\t055adf8\tlaunched\t-\t\tglobal\n' +
        'hello.service\t8c2d571\tlaunched\tlaunched\tc31e44e1.../10.10.1.1\n' +
        'pending.service\tf85f3bb\tloaded\t\tinactive\t-\n',
    );
  });

  it('prints global and desc fields', () => {
    expect(renderListing(rows, listUnitFilesFields, table('unit,global,desc'))).toBe(
      'UNIT\t\tGLOBAL\tDESC\n' +
        'global.service\ttrue\t-\n' +
        'hello.service\tfalse\tHello World\n' +
        'pending.service\tfalse\t-\n',
    );
  });

  it('prints the reason field, "-" (null in JSON) when the API gives none', () => {
    const reason = '3 machines: 2 rejected by MachineMetadata rack=r3, 1 by Conflicts=db*';
    const withReason = unitFileRows(units.map((u) => (u.name === 'pending.service' ? { ...u, reason } : u)), ips);
    expect(renderListing(withReason, listUnitFilesFields, table('unit,dstate,state,reason'))).toBe(
      'UNIT\t\tDSTATE\t\tSTATE\t\tREASON\n' +
        'global.service\tlaunched\t-\t\t-\n' +
        'hello.service\tlaunched\tlaunched\t-\n' +
        `pending.service\tloaded\t\tinactive\t${reason}\n`,
    );
    expect(JSON.parse(renderListing(withReason, listUnitFilesFields, table('unit,reason', { format: 'json' })))).toEqual([
      { unit: 'global.service', reason: null },
      { unit: 'hello.service', reason: null },
      { unit: 'pending.service', reason },
    ]);
  });

  it('prints JSON with booleans for global and null for "none"', () => {
    expect(JSON.parse(renderListing(rows, listUnitFilesFields, table('unit,global,target,state', { format: 'json' })))).toEqual([
      { unit: 'global.service', global: true, target: 'global', state: null },
      { unit: 'hello.service', global: false, target: `${m1}/10.10.1.1`, state: 'launched' },
      { unit: 'pending.service', global: false, target: null, state: 'inactive' },
    ]);
  });
});

describe('list-machines output', () => {
  const rows = machineRows(machines);

  it('prints short IDs, IPs and sorted metadata, "-" when there is none', () => {
    expect(renderListing(rows, listMachinesFields, table('machine,ip,metadata'))).toBe(
      'MACHINE\t\tIP\t\tMETADATA\n' + '595989bb...\t10.10.1.2\t-\n' + 'c31e44e1...\t10.10.1.1\tdisk=ssd,region=us-west\n',
    );
  });

  it('prints full IDs with --full', () => {
    expect(renderListing(rows, listMachinesFields, table('machine,ip', { full: true }))).toBe(
      'MACHINE\t\t\t\t\tIP\n' + `${m2}\t10.10.1.2\n` + `${m1}\t10.10.1.1\n`,
    );
  });

  it('prints metadata as an object in JSON', () => {
    expect(JSON.parse(renderListing(rows, listMachinesFields, table('machine,metadata', { format: 'json' })))).toEqual([
      { machine: m2, metadata: {} },
      { machine: m1, metadata: { disk: 'ssd', region: 'us-west' } },
    ]);
  });

  it('prints an empty JSON array when there are no machines', () => {
    expect(renderListing([], listMachinesFields, table('machine', { format: 'json' }))).toBe('[]\n');
  });
});

describe('fields and legends', () => {
  it.each([
    ['', 'Must define output format'],
    ['machine,bogus', 'Invalid key in output format: "bogus"'],
    // As fleet: names are not trimmed.
    ['machine, ip', 'Invalid key in output format: " ip"'],
    ['machine,', 'Invalid key in output format: ""'],
  ])('rejects --fields %j', (spec, message) => {
    expect(() => parseFields(spec, listMachinesFields)).toThrow(message);
  });

  it.each([
    [m1, '10.10.1.1', false, 'c31e44e1.../10.10.1.1'],
    [m1, '10.10.1.1', true, `${m1}/10.10.1.1`],
    [m1, '', false, 'c31e44e1...'],
  ])('machineLegend(%s, %j, full=%s) is %s', (id, ip, full, expected) => {
    expect(machineLegend(id, ip, full)).toBe(expected);
  });

  it('shortens hashes to 7 digits unless full', () => {
    expect(hashLegend('8c2d57110ebadc563d8409054afa5149b06db453', false)).toBe('8c2d571');
    expect(hashLegend('', false)).toBe('-');
  });

  it('sorts metadata by key', () => {
    expect(metadataLegend({ b: '2', a: '1' })).toBe('a=1,b=2');
  });

  it('keeps a table intact when a cell contains a TAB or a line break', () => {
    const withBreak: ApiUnit = { ...(units[1] as ApiUnit), options: [{ section: 'Unit', name: 'Description', value: 'two\\\nlines\there' }] };
    expect(renderListing(unitFileRows([withBreak], ips), listUnitFilesFields, table('desc', { noLegend: true }))).toBe('two\\ lines here\n');
  });
});
