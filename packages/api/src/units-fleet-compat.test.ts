import { describe, expect, it } from 'vitest';
import { hashUnitFile, parseUnitName, type UnitOption } from '@fleet/core/model';
import { InMemoryRegistry } from '@fleet/core/testing';
import type { ApiResponse } from './request.js';
import { handleApiRequest } from './routes.js';

// What fleet's API accepts and hands back for the unit files its fleetctl submits: measured on
// fleet itself (its fleetctl sends the options without a desiredState).

const o = (section: string, name: string, value: string): UnitOption => ({ section, name, value });

function fresh() {
  const registry = new InMemoryRegistry();
  const call = (method: string, path: string, body?: unknown): Promise<ApiResponse> =>
    handleApiRequest({ method, path, query: new URLSearchParams(), body }, { units: registry, cluster: registry, machines: registry, tokenLimit: 100 });
  return { registry, call };
}

describe('API v1 units, as fleet takes unit files', () => {
  it.each<[string, UnitOption[]]>([
    ['an unknown [X-Fleet] key', [o('X-Fleet', 'Bogus', 'x')]],
    ['an [X-Fleet] key in the wrong case', [o('X-Fleet', 'machineid', 'abc'), o('X-Fleet', 'Conflicts', 'x*')]],
    ['a malformed glob', [o('X-Fleet', 'Conflicts', 'db[')]],
    ['a Global= that is not a boolean', [o('X-Fleet', 'Global', 'maybe')]],
    ['a MachineOf= naming the unit itself', [o('X-Fleet', 'MachineOf', 'hello.service')]],
    ['a MachineOf= that is no unit name', [o('X-Fleet', 'MachineOf', 'not a name')]],
    ['ConflictsScope= without Conflicts=', [o('X-Fleet', 'ConflictsScope', 'rack')]],
  ])('accepts %s (201), as fleet does', async (_what, fleet) => {
    const { call } = fresh();
    const options = [o('Service', 'ExecStart', '/bin/true'), ...fleet];
    expect(await call('PUT', '/units/hello.service', { name: 'hello.service', options })).toEqual({ status: 201 });
    expect((await call('GET', '/units/hello.service')).body).toMatchObject({ options, desiredState: 'inactive' });
  });

  it('accepts units that replace each other in a ring: the scheduler ignores the cycle', async () => {
    const { call, registry } = fresh();
    for (const [name, replaces] of [['a.service', 'b.service'], ['b.service', 'c.service'], ['c.service', 'a.service']] as const) {
      const options = [o('Service', 'ExecStart', '/bin/true'), o('X-Fleet', 'Replaces', replaces)];
      expect(await call('PUT', `/units/${name}`, { desiredState: 'launched', options })).toEqual({ status: 201 });
    }
    expect(registry.units.size).toBe(3);
  });

  it.each<[string, UnitOption[], UnitOption[]]>([
    ['a value ending in "\\" at the end of the file gains a line break',
      [o('Service', 'ExecStart', '/bin/echo a \\')],
      [o('Service', 'ExecStart', '/bin/echo a \\\n')]],
    ['a value whose "\\" was followed by a space swallows the next option',
      [o('Service', 'ExecStart', '/bin/echo a \\'), o('Service', 'X', '1'), o('Service', 'Y', '2')],
      [o('Service', 'ExecStart', '/bin/echo a \\\nX=1'), o('Service', 'Y', '2')]],
    ['options of a repeated section are grouped under its first header',
      [o('Unit', 'A', '1'), o('Service', 'B', '2'), o('Unit', 'C', '3')],
      [o('Unit', 'A', '1'), o('Unit', 'C', '3'), o('Service', 'B', '2')]],
  ])('stores, returns and hashes the unit as fleet reads it back: %s', async (_what, submitted, stored) => {
    const { call, registry } = fresh();
    expect(await call('PUT', '/units/hello.service', { options: submitted })).toEqual({ status: 201 });
    expect((await call('GET', '/units/hello.service')).body).toMatchObject({ options: stored });
    const record = registry.units.get(parseUnitName('hello.service'));
    expect(record?.hash).toBe(hashUnitFile(stored));
  });

  it.each(['GET', 'DELETE'])('answers %s of a unit with an invalid name with 404, as fleet does (none can exist)', async (method) => {
    const { call } = fresh();
    expect(await call(method, '/units/uf-t@.mount')).toEqual({ status: 404, body: { error: { code: 404, message: 'unit uf-t@.mount does not exist' } } });
  });

  it('reads an option without section, name or value as an empty one (fleet\'s client leaves them out)', async () => {
    const { call, registry } = fresh();
    const sent = [{ section: 'Service', name: 'ExecStart', value: '/bin/true' }, { section: 'Service', value: '/bin/nameless' }, { section: 'Service', name: 'Environment' }, { name: 'Orphan', value: 'x' }];
    expect(await call('PUT', '/units/hello.service', { name: 'hello.service', options: sent })).toEqual({ status: 201 });
    const stored = [o('Service', 'ExecStart', '/bin/true'), o('Service', '', '/bin/nameless'), o('Service', 'Environment', ''), o('', 'Orphan', 'x')];
    expect(registry.units.get(parseUnitName('hello.service'))?.hash).toBe(hashUnitFile(stored));
  });
});
