import { describe, expect, it } from 'vitest';
import { parseUnitName } from '../model/index.js';
import { aMachine, InMemoryRegistry } from '../testing/index.js';
import { handleApiRequest, type ApiResponse } from './routes.js';

const options = [{ section: 'Service', name: 'ExecStart', value: '/bin/sleep 1000' }];

function api(registry = new InMemoryRegistry(), tokenLimit = 100) {
  const call = (method: string, path: string, body?: unknown, query = ''): Promise<ApiResponse> =>
    handleApiRequest({ method, path, query: new URLSearchParams(query), body }, { units: registry, cluster: registry, tokenLimit });
  return { registry, call };
}

describe('API v1 units', () => {
  it('creates a unit (201), sets its desired state (204), reads (200) and deletes it (204, then 404)', async () => {
    const { call } = api();
    expect(await call('PUT', '/units/hello.service', { name: 'hello.service', desiredState: 'launched', options })).toEqual({ status: 201 });
    expect(await call('PUT', '/units/hello.service', { desiredState: 'loaded' })).toEqual({ status: 204 });
    expect(await call('GET', '/units/hello.service')).toEqual({
      status: 200, body: { name: 'hello.service', options, desiredState: 'loaded', currentState: 'inactive' },
    });
    expect(await call('DELETE', '/units/hello.service')).toEqual({ status: 204 });
    expect((await call('DELETE', '/units/hello.service')).status).toBe(404);
    expect((await call('GET', '/units/hello.service')).status).toBe(404);
  });

  it.each([
    ['a name with ../', '/units/..%2F..%2Fetc%2Fevil.service', { desiredState: 'launched', options }, /invalid unit name "..\/..\/etc\/evil.service"/],
    ['a name with /', '/units/a%2Fb.service', { desiredState: 'launched', options }, /invalid unit name "a\/b.service"/],
    ['an unknown suffix', '/units/evil.exe', { desiredState: 'launched', options }, /unknown unit type ".exe"/],
    ['a body that is not an object', '/units/x.service', [1], /must be a JSON object/],
    ['a name that differs from the URL', '/units/x.service', { name: 'y.service', desiredState: 'launched', options }, /does not match the URL/],
    ['an unknown desired state', '/units/x.service', { desiredState: 'running', options }, /desiredState must be one of inactive, loaded, launched/],
    ['malformed options', '/units/x.service', { desiredState: 'launched', options: [{ section: 'S', name: 1, value: 'v' }] }, /options\[0\].name must be a string/],
    ['unknown fields', '/units/x.service', { desiredState: 'launched', options, bogus: 1 }, /unknown field\(s\) in unit: bogus/],
    ['a template set to launched', '/units/web@.service', { desiredState: 'launched', options }, /is a template/],
  ])('rejects %s with 400 and stores nothing', async (_what, path, body, message) => {
    const { call, registry } = api();
    const response = await call('PUT', path, body);
    expect(response.status).toBe(400);
    expect((response.body as { error: { code: number; message: string } }).error).toEqual({ code: 400, message: expect.stringMatching(message) });
    expect(registry.units.size).toBe(0);
  });

  it('answers 409 when setting the state of a unit that does not exist', async () => {
    const { call } = api();
    expect((await call('PUT', '/units/nope.service', { desiredState: 'launched' })).status).toBe(409);
  });

  it('answers 409 and keeps the stored unit when the options differ', async () => {
    const { call, registry } = api();
    await call('PUT', '/units/hello.service', { desiredState: 'launched', options });
    const before = registry.units.get(parseUnitName('hello.service'));
    const response = await call('PUT', '/units/hello.service', { desiredState: 'inactive', options: [{ section: 'Service', name: 'ExecStart', value: '/bin/other' }] });
    expect(response.status).toBe(409);
    expect(registry.units.get(parseUnitName('hello.service'))).toEqual(before);
  });

  it('pages unit lists with nextPageToken', async () => {
    const { call } = api(new InMemoryRegistry(), 2);
    for (const n of ['a', 'b', 'c', 'd', 'e']) await call('PUT', `/units/${n}.service`, { desiredState: 'inactive', options });
    const names: string[] = [];
    let token: string | undefined = '';
    while (token !== undefined) {
      const page = (await call('GET', '/units', undefined, `nextPageToken=${token}`)).body as { units: { name: string }[]; nextPageToken?: string };
      names.push(...page.units.map((u) => u.name));
      token = page.nextPageToken;
    }
    expect(names).toEqual(['a.service', 'b.service', 'c.service', 'd.service', 'e.service']);
    expect((await call('GET', '/units', undefined, 'nextPageToken=%%%')).status).toBe(400);
  });

  it('answers 503 while etcd is unreachable', async () => {
    const { call, registry } = api();
    registry.unavailable = true;
    expect(await call('GET', '/units')).toEqual({ status: 503, body: { error: { code: 503, message: 'fleet server unable to communicate with etcd' } } });
  });
});

describe('API v1 state and machines', () => {
  it('filters unit states by machine and unit, and lists machines', async () => {
    const { call, registry } = api();
    const a = aMachine('a', { rack: 'r1' });
    const b = aMachine('b');
    registry.machines.set(a.id, a);
    registry.machines.set(b.id, b);
    const state = (name: string, m: typeof a) => ({ name: parseUnitName(name), machineId: m.id, hash: 'h', loadState: 'loaded', activeState: 'active', subState: 'running' });
    registry.putState(state('x.service', a));
    registry.putState(state('y.service', b));
    const byMachine = (await call('GET', '/state', undefined, `machineID=${b.id}`)).body as { states: { name: string }[] };
    expect(byMachine.states.map((s) => s.name)).toEqual(['y.service']);
    const byUnit = (await call('GET', '/state', undefined, 'unitName=x.service')).body as { states: unknown[] };
    expect(byUnit.states).toEqual([{ name: 'x.service', hash: 'h', machineID: a.id, systemdLoadState: 'loaded', systemdActiveState: 'active', systemdSubState: 'running' }]);
    expect((await call('GET', '/machines')).body).toEqual({
      machines: [{ id: a.id, primaryIP: '127.0.0.1', metadata: { rack: 'r1' } }, { id: b.id, primaryIP: '127.0.0.1', metadata: {} }],
    });
    expect((await call('POST', '/machines')).status).toBe(405);
    expect((await call('GET', '/nothing')).status).toBe(404);
  });
});
