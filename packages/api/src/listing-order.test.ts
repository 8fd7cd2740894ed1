import { describe, expect, it } from 'vitest';
import { parseUnitName, type MachineId } from '@fleet/core/model';
import { aMachine, InMemoryRegistry } from '@fleet/core/testing';
import { compareKeys } from './listing-order.js';
import type { ApiResponse } from './request.js';
import { handleApiRequest } from './routes.js';

// Names on which byte order (fleet's, Go's `<`) and locale collation disagree.
const names = ['b.service', 'a_b.service', 'ab.service', 'B.service', 'a-b.service', 'a.service'];
const fleetOrder = ['B.service', 'a-b.service', 'a.service', 'a_b.service', 'ab.service', 'b.service'];

describe('compareKeys', () => {
  it("sorts in fleet's byte order, not the locale's", () => {
    expect([...names].sort(compareKeys)).toEqual(fleetOrder);
    expect([...names].sort((a, b) => a.localeCompare(b))).not.toEqual(fleetOrder);
  });
});

/** Every page of a listing, following `nextPageToken`. */
async function allPages<T>(path: string, field: string, registry: InMemoryRegistry): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const query = new URLSearchParams(token === undefined ? '' : `nextPageToken=${token}`);
    const response: ApiResponse = await handleApiRequest({ method: 'GET', path, query, body: undefined }, { units: registry, cluster: registry, machines: registry, tokenLimit: 2 });
    expect(response.status).toBe(200);
    const body = response.body as Record<string, unknown> & { nextPageToken?: string };
    items.push(...(body[field] as T[]));
    token = body.nextPageToken;
    pages++;
  } while (token !== undefined);
  return { items, pages };
}

describe('API listings share one order across pages', () => {
  const options = [{ section: 'Service', name: 'ExecStart', value: '/bin/true' }];
  const machines = ['m2', 'M1', 'm1'].map((label) => aMachine(label));
  const byId = machines.map((m) => m.id).sort(compareKeys);

  async function cluster(): Promise<InMemoryRegistry> {
    const registry = new InMemoryRegistry();
    for (const m of machines) registry.machines.set(m.id, m);
    for (const name of names) {
      const response = await handleApiRequest(
        { method: 'PUT', path: `/units/${name}`, query: new URLSearchParams(), body: { desiredState: 'inactive', options } },
        { units: registry, cluster: registry, machines: registry, tokenLimit: 2 },
      );
      expect(response.status).toBe(201);
      for (const m of [...machines].reverse()) {
        registry.putState({ name: parseUnitName(name), machineId: m.id, hash: 'h', loadState: 'loaded', activeState: 'active', subState: 'running' });
      }
    }
    return registry;
  }

  it('units by name', async () => {
    const { items, pages } = await allPages<{ name: string }>('/units', 'units', await cluster());
    expect(items.map((u) => u.name)).toEqual(fleetOrder);
    expect(pages).toBe(3);
  });

  it('unit states by unit name, then machine ID', async () => {
    const { items } = await allPages<{ name: string; machineID: MachineId }>('/state', 'states', await cluster());
    expect(items.map((s) => `${s.name} ${s.machineID}`)).toEqual(fleetOrder.flatMap((name) => byId.map((id) => `${name} ${id}`)));
  });

  it('machines by ID', async () => {
    const { items } = await allPages<{ id: MachineId }>('/machines', 'machines', await cluster());
    expect(items.map((m) => m.id)).toEqual(byId);
  });
});

