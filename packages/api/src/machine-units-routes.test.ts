import { describe, expect, it } from 'vitest';
import type { MachineState, UnitName } from '@fleet/core/model';
import { aMachine, InMemoryRegistry } from '@fleet/core/testing';
import type { UnitInspection } from './inspection.js';
import type { ApiResponse } from './request.js';
import { handleApiRequest } from './routes.js';

const here = aMachine('h');
const there: MachineState = { ...aMachine('t'), apiUrl: 'http://127.0.0.1:4001' };
const noTcp = aMachine('n');

/** A fake inspection: this machine knows `talk.service`; forwarding records the call and answers canned data. */
function fakeInspection() {
  const forwarded: string[] = [];
  const inspection: UnitInspection = {
    machineId: here.id,
    localStatus: async (unit: UnitName) => ({ text: `● ${unit}\n     Active: active (running)`, unit: { name: unit, activeState: 'active' } }),
    localJournal: async function* (unit, options) {
      for (let i = 1; i <= options.lines; i++) yield `${unit} line ${i}`;
    },
    forward: async (machine, path) => {
      forwarded.push(`${machine.apiUrl}${path}`);
      if (path.endsWith('/status')) {
        const body = Buffer.from(JSON.stringify({ machineID: machine.id, text: 'remote', unit: {} }));
        return { status: 200, contentType: 'application/json', body: (async function* () { yield body; })() };
      }
      return { status: 200, contentType: 'text/plain; charset=utf-8', body: (async function* () { yield Buffer.from('remote line\n'); })() };
    },
  };
  return { inspection, forwarded };
}

function api(options: { inspection?: boolean; forwarded?: boolean } = {}) {
  const registry = new InMemoryRegistry();
  for (const m of [here, there, noTcp]) registry.machines.set(m.id, m);
  const fake = fakeInspection();
  const call = (path: string, method = 'GET'): Promise<ApiResponse> => {
    const [p, q] = path.split('?');
    return handleApiRequest(
      { method, path: p ?? '', query: new URLSearchParams(q ?? ''), body: undefined, ...(options.forwarded === true ? { forwarded: true } : {}) },
      { units: registry, cluster: registry, machines: registry, tokenLimit: 100, ...(options.inspection === false ? {} : { inspection: fake.inspection }) },
    );
  };
  return { call, forwarded: fake.forwarded };
}

async function text(stream: AsyncIterable<string | Uint8Array> | undefined): Promise<string> {
  let out = '';
  for await (const chunk of stream ?? []) out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  return out;
}

describe('GET /machines/<id>/units/<unit>/status and /journal', () => {
  it('answers for this machine from the local systemd', async () => {
    const { call } = api();
    expect(await call(`/machines/${here.id}/units/talk.service/status`)).toEqual({
      status: 200,
      body: { machineID: here.id, text: '● talk.service\n     Active: active (running)', unit: { name: 'talk.service', activeState: 'active' } },
    });
    const journal = await call(`/machines/${here.id}/units/talk.service/journal?lines=2`);
    expect(journal.contentType).toBe('text/plain; charset=utf-8');
    expect(await text(journal.stream)).toBe('talk.service line 1\ntalk.service line 2\n');
  });

  it('forwards a request for another machine to its fleetd, JSON and streams alike', async () => {
    const { call, forwarded } = api();
    expect((await call(`/machines/${there.id}/units/talk.service/status`)).body).toEqual({ machineID: there.id, text: 'remote', unit: {} });
    expect(await text((await call(`/machines/${there.id}/units/talk.service/journal?lines=5&follow=true`)).stream)).toBe('remote line\n');
    expect(forwarded).toEqual([
      `http://127.0.0.1:4001/fleet/v1/machines/${there.id}/units/talk.service/status`,
      `http://127.0.0.1:4001/fleet/v1/machines/${there.id}/units/talk.service/journal?lines=5&follow=true`,
    ]);
  });

  it.each([
    ['an unknown machine', () => `/machines/${'f'.repeat(32)}/units/talk.service/status`, {}, 404, /is not in the cluster/],
    ['a machine without a TCP API', () => `/machines/${noTcp.id}/units/talk.service/status`, {}, 502, /does not serve its API over TCP/],
    ['a malformed machine ID', () => '/machines/xyz/units/talk.service/status', {}, 400, /invalid machine ID/],
    ['an invalid unit name', () => `/machines/${here.id}/units/..%2Fx.service/status`, {}, 400, /invalid unit name/],
    ['a bad line count', () => `/machines/${here.id}/units/talk.service/journal?lines=-1`, {}, 400, /lines must be an integer/],
    ['a bad follow flag', () => `/machines/${here.id}/units/talk.service/journal?follow=yes`, {}, 400, /follow must be true or false/],
    ['a request forwarded to the wrong fleetd', () => `/machines/${there.id}/units/talk.service/status`, { forwarded: true }, 502, /forwarded to a fleet server that is not that machine/],
    ['a server without inspection', () => `/machines/${here.id}/units/talk.service/status`, { inspection: false }, 501, /cannot read unit status/],
    ['an unknown item', () => `/machines/${here.id}/units/talk.service/logs`, {}, 404, /not found/],
  ])('refuses %s', async (_what, path, options, status, message) => {
    const response = await api(options).call(path());
    expect(response.status).toBe(status);
    expect((response.body as { error: { message: string } }).error.message).toMatch(message);
  });

  it('allows GET only', async () => {
    const response = await api().call(`/machines/${here.id}/units/talk.service/status`, 'POST');
    expect(response.status).toBe(405);
    expect(response.headers).toEqual({ Allow: 'GET' });
  });
});
