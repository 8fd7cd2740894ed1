import { describe, expect, it } from 'vitest';
import { applyMetadataOverrides, patchMetadataOverrides, type MachineId } from '@fleet/core/model';
import { planEngineTasks } from '@fleet/engine';
import { aMachine, aRequirements, aUnit, InMemoryRegistry, scheduled } from '@fleet/core/testing';
import type { ApiResponse } from './request.js';
import { handleApiRequest } from './routes.js';

const a = aMachine('a', { rack: 'r1', disk: 'hdd' });
const b = aMachine('b', { rack: 'r2' });

function api() {
  const registry = new InMemoryRegistry();
  registry.machines.set(a.id, a);
  registry.machines.set(b.id, b);
  const call = (method: string, path: string, body?: unknown): Promise<ApiResponse> =>
    handleApiRequest({ method, path, query: new URLSearchParams(), body }, { units: registry, cluster: registry, machines: registry, tokenLimit: 100 });
  const metadata = async (id: MachineId) =>
    ((await call('GET', '/machines')).body as { machines: { id: string; metadata: Record<string, string> }[] }).machines.find((m) => m.id === id)?.metadata;
  return { registry, call, metadata };
}

const op = (o: string, id: string, key: string, value?: string) => (value === undefined ? { op: o, path: `/${id}/metadata/${key}` } : { op: o, path: `/${id}/metadata/${key}`, value });

describe('PATCH /fleet/v1/machines', () => {
  it('adds, replaces and removes metadata (204); GET /machines shows the effective metadata', async () => {
    const { call, metadata } = api();
    const response = await call('PATCH', '/machines', [op('add', a.id, 'zone', 'z1'), op('replace', a.id, 'rack', 'r9'), op('remove', a.id, 'disk'), op('add', b.id, 'gpu', 'yes')]);
    expect(response).toEqual({ status: 204 });
    expect(await metadata(a.id)).toEqual({ rack: 'r9', zone: 'z1' });
    expect(await metadata(b.id)).toEqual({ rack: 'r2', gpu: 'yes' });
  });

  it("takes fleet's own body, where each value is an object {\"value\": \"...\"}, and a remove carries {\"value\": \"\"}", async () => {
    const { call, metadata } = api();
    const fleets = (o: string, id: string, key: string, value: string) => ({ op: o, path: `/${id}/metadata/${key}`, value: { value } });
    expect(await call('PATCH', '/machines', [fleets('add', a.id, 'zone', 'z1'), fleets('replace', a.id, 'rack', 'r9'), fleets('remove', a.id, 'disk', '')])).toEqual({ status: 204 });
    expect(await metadata(a.id)).toEqual({ rack: 'r9', zone: 'z1' });
    const empty = await call('PATCH', '/machines', [fleets('add', a.id, 'x', '')]);
    expect(empty.status).toBe(400);
    expect(JSON.stringify(empty.body)).toMatch(/add requires a non-empty string value/);
  });

  it('applies the operations in order: the last change of a key wins', async () => {
    const { call, metadata } = api();
    await call('PATCH', '/machines', [op('add', a.id, 'zone', 'z1'), op('remove', a.id, 'zone'), op('replace', a.id, 'rack', 'r3'), op('replace', a.id, 'rack', 'r4')]);
    expect(await metadata(a.id)).toEqual({ rack: 'r4', disk: 'hdd' });
  });

  it('keeps overrides of a machine that is not present, and applies them when it joins', async () => {
    const { call, registry, metadata } = api();
    const c = aMachine('c', { rack: 'r1' });
    expect(await call('PATCH', '/machines', [op('replace', c.id, 'rack', 'r5')])).toEqual({ status: 204 });
    expect(await metadata(c.id)).toBeUndefined();
    registry.machines.set(c.id, c);
    expect(await metadata(c.id)).toEqual({ rack: 'r5' });
    // Leaving and rejoining (a new presence record with the configured metadata) keeps them.
    registry.machines.delete(c.id);
    registry.machines.set(c.id, { ...c });
    expect(await metadata(c.id)).toEqual({ rack: 'r5' });
  });

  it('makes the engine schedule on the effective metadata', async () => {
    const { call, registry } = api();
    const db = aUnit('db.service');
    registry.units.set(db.name, db);
    registry.schedule.set(`${a.id}/${db.name}`, scheduled(db, a));
    const requirements = new Map([[db.name, aRequirements({ metadata: { rack: ['r1'] } })]]);
    expect(planEngineTasks(await registry.snapshot(), requirements).tasks).toEqual([]);
    await call('PATCH', '/machines', [op('replace', a.id, 'rack', 'r2'), op('replace', b.id, 'rack', 'r1')]);
    const moves = planEngineTasks(await registry.snapshot(), requirements).tasks.map((t) => t.change);
    expect(moves).toEqual([
      { kind: 'unschedule', machineId: a.id, name: db.name },
      { kind: 'schedule', entry: scheduled(db, b) },
    ]);
  });

  it.each([
    ['a body that is not an array', { op: 'add' }, 'request body must be a JSON array of {"op", "path", "value"} operations'],
    ['an operation that is not an object', ['add'], 'invalid operation 0 "add": must be a JSON object'],
    ['an unknown op', [op('noop', a.id, 'x', 'y')], `invalid operation 0 {"op":"noop","path":"/${a.id}/metadata/x","value":"y"}: op must be one of add, remove, replace`],
    ['a path without /metadata/', [{ op: 'add', path: `/${a.id}/foo`, value: 'bar' }], `invalid operation 0 {"op":"add","path":"/${a.id}/foo","value":"bar"}: path must be /<machine ID>/metadata/<key>`],
    ['a missing path', [{ op: 'remove' }], 'invalid operation 0 {"op":"remove"}: path must be /<machine ID>/metadata/<key>'],
    ['a malformed machine ID', [op('add', 'node1', 'x', 'y')], 'invalid operation 0 {"op":"add","path":"/node1/metadata/x","value":"y"}: invalid machine ID "node1": must be 32 lowercase hex digits'],
    ['a bad key', [op('add', a.id, 'a b', 'y')], `invalid operation 0 {"op":"add","path":"/${a.id}/metadata/a b","value":"y"}: invalid metadata key "a b": only letters, digits, "_", "." and "-"`],
    ['an add without a value', [op('add', a.id, 'x')], `invalid operation 0 {"op":"add","path":"/${a.id}/metadata/x"}: add requires a non-empty string value`],
    ['a replace with an empty value', [op('replace', a.id, 'x', '')], `invalid operation 0 {"op":"replace","path":"/${a.id}/metadata/x","value":""}: replace requires a non-empty string value`],
    ['a non-string value', [{ ...op('add', a.id, 'x'), value: 3 }], `invalid operation 0 {"op":"add","path":"/${a.id}/metadata/x","value":3}: add requires a non-empty string value`],
    ['an unknown field', [{ ...op('add', a.id, 'x', 'y'), from: '/a' }], `invalid operation 0 {"op":"add","path":"/${a.id}/metadata/x","value":"y","from":"/a"}: unknown field(s): from`],
    ['a bad operation after good ones', [op('add', a.id, 'zone', 'z1'), op('add', b.id, 'zone', 'z2'), op('move', a.id, 'rack', 'r1')], /^invalid operation 2 /],
  ])('refuses %s with 400 naming the operation, and changes nothing', async (_what, body, message) => {
    const { call, registry, metadata } = api();
    const response = await call('PATCH', '/machines', body);
    expect(response.status).toBe(400);
    expect((response.body as { error: { message: string } }).error.message).toMatch(typeof message === 'string' ? new RegExp(`^${escape(message)}$`) : message);
    expect(registry.metadata.size).toBe(0);
    expect(await metadata(a.id)).toEqual(a.metadata);
  });

  it('ignores the value of a remove (fleet clients send "")', async () => {
    const { call, metadata } = api();
    expect(await call('PATCH', '/machines', [op('remove', a.id, 'disk', '')])).toEqual({ status: 204 });
    expect(await metadata(a.id)).toEqual({ rack: 'r1' });
  });

  it('accepts an empty patch (204, nothing stored) and answers 503 while etcd is unreachable', async () => {
    const { call, registry } = api();
    expect(await call('PATCH', '/machines', [])).toEqual({ status: 204 });
    expect(registry.metadata.size).toBe(0);
    registry.unavailable = true;
    expect((await call('PATCH', '/machines', [op('add', a.id, 'x', 'y')])).status).toBe(503);
  });
});

describe('metadata overrides', () => {
  it('apply over the configured metadata: a value wins, null removes, other keys stay', () => {
    expect(applyMetadataOverrides({ rack: 'r1', disk: 'hdd' }, { rack: 'r2', disk: null, zone: 'z' })).toEqual({ rack: 'r2', zone: 'z' });
    expect(applyMetadataOverrides({ rack: 'r1' }, undefined)).toEqual({ rack: 'r1' });
  });

  it('keep a __proto__ key as plain data', () => {
    const merged = applyMetadataOverrides({}, JSON.parse('{"__proto__":"x"}') as Record<string, string>);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.keys(merged)).toEqual(['__proto__']);
  });

  it('patch stored overrides in order without modifying them', () => {
    const current = new Map([[a.id, { rack: 'r2' }]]);
    const next = patchMetadataOverrides(current, [{ machineId: a.id, key: 'rack', value: null }, { machineId: b.id, key: 'zone', value: 'z' }]);
    expect(next).toEqual(new Map([[a.id, { rack: null }], [b.id, { zone: 'z' }]]));
    expect(current).toEqual(new Map([[a.id, { rack: 'r2' }]]));
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
