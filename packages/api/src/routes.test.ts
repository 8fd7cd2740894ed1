import { describe, expect, it } from 'vitest';
import { FleetError, SystemdError, type Clock } from '@fleet/core';
import { hashUnitFile, parseUnitName, type Unit, type UnitFile } from '@fleet/core/model';
import { applyWatchEvents, ClusterState, KeySchema, type ClusterViewSource, type CreateUnitOutcome } from '@fleet/core/registry';
import { aMachine, InMemoryRegistry } from '@fleet/core/testing';
import { discoveryDocument } from './discovery.js';
import type { ApiDeps, ApiResponse } from './request.js';
import { handleApiRequest, statusOf } from './routes.js';

const options = [{ section: 'Service', name: 'ExecStart', value: '/bin/sleep 1000' }];

const otherOptions = [{ section: 'Service', name: 'ExecStart', value: '/bin/other' }];

function api<R extends InMemoryRegistry>(registry: R, deps: Partial<ApiDeps> = {}) {
  const call = (method: string, path: string, body?: unknown, query = ''): Promise<ApiResponse> =>
    handleApiRequest({ method, path, query: new URLSearchParams(query), body }, { units: registry, cluster: registry, machines: registry, tokenLimit: 100, ...deps });
  return { registry, call };
}
const fresh = (deps: Partial<ApiDeps> = {}) => api(new InMemoryRegistry(), deps);

describe('API v1 units', () => {
  it('creates a unit (201), sets its desired state (204), reads (200) and deletes it (204, then 404)', async () => {
    const { call } = fresh();
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
    const { call, registry } = fresh();
    const response = await call('PUT', path, body);
    expect(response.status).toBe(400);
    expect((response.body as { error: { code: number; message: string } }).error).toEqual({ code: 400, message: expect.stringMatching(message) });
    expect(registry.units.size).toBe(0);
  });

  describe("fleet's own client", () => {
    it('creates with name and options only (no desiredState): stored inactive, 201; then sets the state with a second PUT (204)', async () => {
      const { call, registry } = fresh();
      expect(await call('PUT', '/units/hello.service', { name: 'hello.service', options })).toEqual({ status: 201 });
      expect(registry.units.get(parseUnitName('hello.service'))?.desiredState).toBe('inactive');
      expect(await call('PUT', '/units/hello.service', { desiredState: 'launched' })).toEqual({ status: 204 });
      expect(registry.units.get(parseUnitName('hello.service'))?.desiredState).toBe('launched');
    });

    it('replaces a unit given other options and no desiredState (its --replace): 201, the unit inactive', async () => {
      const { call, registry } = fresh();
      await call('PUT', '/units/hello.service', { options, desiredState: 'launched' });
      expect(await call('PUT', '/units/hello.service', { name: 'hello.service', options: otherOptions })).toEqual({ status: 201 });
      expect(registry.units.get(parseUnitName('hello.service'))).toEqual({ name: 'hello.service', hash: hashUnitFile(otherOptions as UnitFile), desiredState: 'inactive' });
    });

    it('answers 409 for an existing unit given no desiredState, with its own options or none, and changes nothing', async () => {
      const { call, registry } = fresh();
      await call('PUT', '/units/hello.service', { options, desiredState: 'loaded' });
      for (const body of [{ options }, {}]) {
        const response = await call('PUT', '/units/hello.service', body);
        expect(response.status).toBe(409);
        expect(JSON.stringify(response.body)).toMatch(/must provide desiredState/);
      }
      expect(registry.units.get(parseUnitName('hello.service'))).toEqual({ name: 'hello.service', hash: hashUnitFile(options as UnitFile), desiredState: 'loaded' });
    });

    it('accepts options whose empty section or value is left out, and leaves them out when answering', async () => {
      const { call, registry } = fresh();
      const sent = [{ section: 'Service', name: 'ExecStart', value: '/bin/true' }, { section: 'Service', name: 'Environment' }];
      expect(await call('PUT', '/units/e.service', { name: 'e.service', options: sent })).toEqual({ status: 201 });
      const stored = [{ section: 'Service', name: 'ExecStart', value: '/bin/true' }, { section: 'Service', name: 'Environment', value: '' }];
      expect(registry.units.get(parseUnitName('e.service'))?.hash).toBe(hashUnitFile(stored));
      expect(((await call('GET', '/units/e.service')).body as { options: unknown }).options).toEqual(sent);
    });
  });

  describe('currentState is what the agent reported, not the engine target', () => {
    const machine = aMachine('a');
    const scheduled = async (agentState?: 'loaded' | 'launched') => {
      const { call, registry } = fresh();
      await call('PUT', '/units/hello.service', { desiredState: 'launched', options });
      const hash = hashUnitFile(options as UnitFile);
      registry.schedule.set(`${machine.id}/hello.service`, { name: parseUnitName('hello.service'), machineId: machine.id, targetState: 'launched', hash });
      registry.putState({
        name: parseUnitName('hello.service'), machineId: machine.id, hash, loadState: 'loaded', activeState: 'active', subState: 'running',
        ...(agentState === undefined ? {} : { agentState }),
      });
      const unit = (await call('GET', '/units/hello.service')).body as { currentState: string; machineID?: string };
      const listed = ((await call('GET', '/units')).body as { units: { currentState: string }[] }).units[0];
      expect(listed?.currentState).toBe(unit.currentState);
      return unit;
    };

    it('is inactive while the unit is scheduled but its agent has reported nothing', async () => {
      const { call, registry } = fresh();
      await call('PUT', '/units/hello.service', { desiredState: 'launched', options });
      registry.schedule.set(`${machine.id}/hello.service`, { name: parseUnitName('hello.service'), machineId: machine.id, targetState: 'launched', hash: hashUnitFile(options as UnitFile) });
      expect((await call('GET', '/units/hello.service')).body).toMatchObject({ currentState: 'inactive', machineID: machine.id });
    });

    it.each([
      ['launched', 'launched'],
      ['loaded', 'loaded'],
    ] as const)('is %s when the agent reports it has brought the unit to %s', async (agentState, expected) => {
      expect(await scheduled(agentState)).toMatchObject({ currentState: expected, machineID: machine.id });
    });

    it('is loaded for a reported state that does not say what the agent reached (an older agent)', async () => {
      expect((await scheduled()).currentState).toBe('loaded');
    });

    it("shows the agent's failure for the unit's current file as failure and reason, in /units and /state, and not for another file", async () => {
      const { call, registry } = fresh();
      await call('PUT', '/units/hello.service', { desiredState: 'launched', options });
      const hash = hashUnitFile(options as UnitFile);
      registry.schedule.set(`${machine.id}/hello.service`, { name: parseUnitName('hello.service'), machineId: machine.id, targetState: 'launched', hash });
      const failure = 'systemd StartUnit failed: Unit hello.service has a bad setting';
      const report = (h: string) => registry.putState({ name: parseUnitName('hello.service'), machineId: machine.id, hash: h, loadState: 'bad-setting', activeState: 'inactive', subState: 'dead', agentState: 'loaded', failure });
      report(hash);
      expect((await call('GET', '/units/hello.service')).body).toMatchObject({ currentState: 'loaded', failure, reason: `systemd on ${machine.id} refused it: ${failure}` });
      expect(((await call('GET', '/state')).body as { states: unknown[] }).states).toEqual([expect.objectContaining({ name: 'hello.service', failure })]);
      report('f'.repeat(40)); // the report of a file the unit no longer has
      const unit = (await call('GET', '/units/hello.service')).body as Record<string, unknown>;
      expect(unit['failure']).toBeUndefined();
      expect(unit['reason']).toBeUndefined();
    });
  });

  it('answers 409 when setting the state of a unit that does not exist', async () => {
    const { call } = fresh();
    expect((await call('PUT', '/units/nope.service', { desiredState: 'launched' })).status).toBe(409);
  });

  it('replaces the stored file when the options differ (201, as fleet): new hash and desired state, the unit keeps its name', async () => {
    const { call, registry } = fresh();
    await call('PUT', '/units/hello.service', { desiredState: 'launched', options });
    expect(await call('PUT', '/units/hello.service', { desiredState: 'loaded', options: otherOptions })).toEqual({ status: 201 });
    const stored = registry.units.get(parseUnitName('hello.service'));
    expect(stored).toEqual({ name: 'hello.service', hash: hashUnitFile(otherOptions as UnitFile), desiredState: 'loaded' });
    expect((await call('GET', '/units/hello.service')).body).toMatchObject({ options: otherOptions, desiredState: 'loaded' });
    // The old file stays until the engine collects it (schedule entries may still refer to it).
    expect(registry.files.has(hashUnitFile(options as UnitFile))).toBe(true);
  });

  it('sets only the desired state when the options hash the same (204)', async () => {
    const { call, registry } = fresh();
    await call('PUT', '/units/hello.service', { desiredState: 'launched', options });
    expect(await call('PUT', '/units/hello.service', { desiredState: 'inactive', options })).toEqual({ status: 204 });
    expect(registry.units.get(parseUnitName('hello.service'))).toEqual({ name: 'hello.service', hash: hashUnitFile(options as UnitFile), desiredState: 'inactive' });
  });

  it.each([
    ['[X-Fleet] rules', '/units/hello.service', { desiredState: 'launched', options: [...options, { section: 'X-Fleet', name: 'Global', value: 'true' }, { section: 'X-Fleet', name: 'MachineOf', value: 'db.service' }] }, /invalid \[X-Fleet\] section of hello.service: .*cannot be combined/],
    ['a malformed SpreadBy= key', '/units/hello.service', { desiredState: 'launched', options: [...options, { section: 'X-Fleet', name: 'SpreadBy', value: 'a,b' }] }, /SpreadBy=a,b/],
    ['the template rule', '/units/web@.service', { desiredState: 'loaded', options: otherOptions }, /is a template/],
  ])('validates a replacement as a create (%s): 400, the stored unit unchanged', async (_what, path, body, message) => {
    const { call, registry } = fresh();
    await call('PUT', path, { desiredState: 'inactive', options });
    const before = [...registry.units.values()];
    const response = await call('PUT', path, body);
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).toMatch(message);
    expect([...registry.units.values()]).toEqual(before);
  });

  it('replaces a template only with desired state inactive', async () => {
    const { call, registry } = fresh();
    await call('PUT', '/units/web@.service', { desiredState: 'inactive', options });
    expect(await call('PUT', '/units/web@.service', { desiredState: 'inactive', options: otherOptions })).toEqual({ status: 201 });
    expect(registry.units.get(parseUnitName('web@.service'))?.hash).toBe(hashUnitFile(otherOptions as UnitFile));
  });

  it('answers 409 and loses nothing when the unit changes between the read and the replace', async () => {
    /** Another request sets the desired state right after this one read the unit. */
    class RacingRegistry extends InMemoryRegistry {
      override async createUnit(unit: Unit): Promise<CreateUnitOutcome> {
        const outcome = await super.createUnit(unit);
        if (outcome.kind === 'exists') await this.setDesiredState(unit.name, 'loaded');
        return outcome;
      }
    }
    const { call, registry } = api(new RacingRegistry());
    await call('PUT', '/units/hello.service', { desiredState: 'launched', options });
    const response = await call('PUT', '/units/hello.service', { desiredState: 'launched', options: otherOptions });
    expect(response).toEqual({ status: 409, body: { error: { code: 409, message: 'unit hello.service was changed by another request while it was being replaced; retry' } } });
    expect(registry.units.get(parseUnitName('hello.service'))).toEqual({ name: 'hello.service', hash: hashUnitFile(options as UnitFile), desiredState: 'loaded' });
  });

  it('pages unit lists with nextPageToken', async () => {
    const { call } = fresh({ tokenLimit: 2 });
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
    const { call, registry } = fresh();
    registry.unavailable = true;
    expect(await call('GET', '/units')).toEqual({ status: 503, body: { error: { code: 503, message: 'fleet server unable to communicate with etcd' } } });
  });

  it('answers every request with a 503 and the reason while the fleetd cannot serve, and normally after', async () => {
    let reason: string | undefined = 'machine ID 0123 is already registered by another live machine';
    const { call } = fresh({ unavailable: () => reason });
    const refused = { status: 503, body: { error: { code: 503, message: reason } } };
    expect(await call('GET', '/machines')).toEqual(refused);
    expect(await call('PUT', '/units/hello.service', { name: 'hello.service', desiredState: 'launched', options })).toEqual(refused);
    expect(await call('GET', '/discovery')).toEqual(refused);
    reason = undefined;
    expect((await call('GET', '/machines')).status).toBe(200);
  });

  it('answers 503 instead of hanging when the registry does not answer within registryTimeoutMs', async () => {
    let expire: () => void = () => undefined;
    const sleeps: number[] = [];
    const clock: Clock = { now: () => 0, sleep: (ms) => { sleeps.push(ms); return new Promise<void>((resolve) => (expire = resolve)); } };
    const stalled: ClusterViewSource = { view: () => new Promise(() => undefined), unitFiles: () => new Promise(() => undefined) };
    const { call } = fresh({ cluster: stalled, registryTimeoutMs: 3000, clock });
    const answer = call('GET', '/units');
    expect(sleeps).toEqual([3000]);
    expire();
    expect(await answer).toEqual({ status: 503, body: { error: { code: 503, message: 'fleet server unable to communicate with etcd' } } });
    // A registry that answers in time is not affected by the bound.
    expect((await fresh({ registryTimeoutMs: 3000, clock }).call('GET', '/units')).status).toBe(200);
  });
});

describe('POST /units (ours): many units in one request', () => {
  const unit = (name: string, extra: Record<string, unknown> = {}) => ({ name, options, ...extra });

  it('creates each unit that does not exist, in its desired state (default inactive), and says which it created', async () => {
    const { call, registry } = fresh();
    expect(await call('PUT', '/units/old.service', { desiredState: 'loaded', options: otherOptions })).toEqual({ status: 201 });
    const answer = await call('POST', '/units', { units: [unit('a.service', { desiredState: 'launched' }), unit('old.service', { desiredState: 'launched' }), unit('b.service')] });
    expect(answer).toEqual({ status: 200, body: { units: [{ name: 'a.service', created: true }, { name: 'old.service', created: false }, { name: 'b.service', created: true }] } });
    expect((await call('GET', '/units/a.service')).body).toMatchObject({ desiredState: 'launched', options });
    expect((await call('GET', '/units/b.service')).body).toMatchObject({ desiredState: 'inactive' });
    // An existing unit is left as it was.
    expect((await call('GET', '/units/old.service')).body).toMatchObject({ desiredState: 'loaded', options: otherOptions });
    expect(registry.units.size).toBe(3);
  });

  it.each([
    ['a body without a units array', { unit: [] }, /a "units" array/],
    ['a unit without a name', { units: [{ options }] }, /units\[0\]: a unit needs a name/],
    ['a name that escapes the unit directory', { units: [unit('ok.service'), unit('../evil.service')] }, /units\[1\]: .*invalid unit name/],
    ['a name given twice', { units: [unit('a.service'), unit('a.service')] }, /units\[1\]: unit a.service is given twice/],
    ['a unit without options', { units: [unit('ok.service'), { name: 'bare.service' }] }, /units\[1\] \(bare.service\): options are required/],
    ['an unknown desired state', { units: [unit('x.service', { desiredState: 'running' })] }, /units\[0\] \(x.service\): desiredState must be one of/],
    ['a template to launch', { units: [unit('web@.service', { desiredState: 'launched' })] }, /is a template/],
    ['invalid [X-Fleet] options', { units: [{ name: 'x.service', options: [...options, { section: 'X-Fleet', name: 'Global', value: 'true' }, { section: 'X-Fleet', name: 'MachineID', value: 'abc' }] }] }, /units\[0\] \(x.service\): invalid \[X-Fleet\]/],
    ['more than 1000 units', { units: Array.from({ length: 1001 }, (_, i) => unit(`u${i}.service`)) }, /at most 1000 units per request, got 1001/],
  ])('refuses %s with a 400 naming the problem, and stores nothing', async (_what, body, message) => {
    const { call, registry } = fresh();
    const answer = await call('POST', '/units', body);
    expect(answer.status).toBe(400);
    expect((answer.body as { error: { message: string } }).error.message).toMatch(message);
    expect(registry.units.size).toBe(0);
  });
});

describe('the status of an error follows its kind, never "any error is a 400"', () => {
  it.each([
    ['INVALID_UNIT_FILE', 400], ['INVALID_REQUEST', 400], ['UNIT_NOT_FOUND', 404], ['UNIT_EXISTS', 409],
    ['REGISTRY_UNAVAILABLE', 503], ['SYSTEMD_FAILED', 502], ['TIMEOUT', 504], ['CORRUPT_RECORD', undefined],
  ] as const)('%s is %s', (code, status) => {
    expect(statusOf(code)).toBe(status);
  });

  /** A registry whose unit writes throw `error`. */
  const throwing = (error: Error) => {
    class Throwing extends InMemoryRegistry {
      override async createUnit(): Promise<CreateUnitOutcome> {
        throw error;
      }
    }
    return api(new Throwing());
  };
  const put = (call: ReturnType<typeof fresh>['call']) => call('PUT', '/units/x.service', { desiredState: 'launched', options });

  it('answers a systemd failure with 502, a conflict with 409, and lets anything else through to the server (500)', async () => {
    expect((await put(throwing(new SystemdError('StartUnit', true)).call)).status).toBe(502);
    expect((await put(throwing(new FleetError('UNIT_EXISTS', 'unit x.service exists')).call)).status).toBe(409);
    await expect(put(throwing(new FleetError('CORRUPT_RECORD', 'corrupt record at /fleet/units/x.service: not JSON')).call)).rejects.toThrow('corrupt record');
    await expect(put(throwing(new TypeError('a bug')).call)).rejects.toThrow('a bug');
  });
});

describe('a corrupt record', () => {
  it("answers a unit whose record does not decode as corrupt (500, naming the key), not as a unit that does not exist", async () => {
    const keys = new KeySchema('/fleet/');
    const view = new ClusterState();
    applyWatchEvents(view, keys, [{ key: keys.unit(parseUnitName('bad.service')), value: '{not json', revision: '2' }]);
    const { call } = fresh({ cluster: { view: async () => view, unitFiles: async () => new Map() } });
    const answer = await call('GET', '/units/bad.service');
    expect(answer.status).toBe(500);
    expect((answer.body as { error: { message: string } }).error.message).toBe('the record of unit bad.service in etcd is corrupt (/fleet/units/bad.service): the unit is left where it is until the record is fixed or the unit destroyed');
    expect((await call('GET', '/units/other.service')).status).toBe(404);
  });
});

describe('API v1 methods and discovery', () => {
  it.each([
    ['PATCH', '/units', 'GET, POST'],
    ['PATCH', '/units/x.service', 'GET, PUT, DELETE'],
    ['PUT', '/state', 'GET'],
    ['DELETE', '/state/x.service', 'GET'],
    ['PUT', '/machines', 'GET, PATCH'],
    ['POST', '/discovery', 'GET'],
  ])('answers %s %s with 405 and Allow: %s', async (method, path, allow) => {
    const response = await fresh().call(method, path);
    expect(response.status).toBe(405);
    expect(response.headers).toEqual({ Allow: allow });
    expect((response.body as { error: { message: string } }).error.message).toBe(`method ${method} not allowed on ${path}: only ${allow} supported`);
  });

  it('serves the discovery document', async () => {
    const response = await fresh().call('GET', '/discovery');
    expect(response).toEqual({ status: 200, body: discoveryDocument });
    expect(discoveryDocument).toMatchObject({ kind: 'discovery#restDescription', id: 'fleet:v1', rootUrl: '$ENDPOINT/', basePath: '/fleet/v1/' });
    const methods = Object.values(discoveryDocument.resources).flatMap((r) => Object.values(r.methods).map((m) => `${m.httpMethod} ${m.path}`));
    expect(methods.sort()).toEqual([
      'DELETE units/{unitName}', 'GET machines', 'GET state', 'GET state/{unitName}', 'GET units', 'GET units/{unitName}', 'PATCH machines', 'PUT units/{unitName}',
    ]);
  });

  it.each(['/discovery/x', '/machines/x', '/units/a.service/b', '/nothing'])('answers 404 for %s', async (path) => {
    expect((await fresh().call('GET', path)).status).toBe(404);
  });

  it('answers 400 for malformed percent-encoding in a unit name', async () => {
    expect((await fresh().call('GET', '/units/%E0%A4%A.service')).status).toBe(400);
  });
});

describe('API v1 state and machines', () => {
  it('filters unit states by machine and unit, and lists machines', async () => {
    const { call, registry } = fresh();
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
    expect((await call('GET', '/state/x.service')).body).toMatchObject({ name: 'x.service', machineID: a.id });
    expect((await call('GET', '/state/z.service')).status).toBe(404);
  });
});
