import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashUnitFile, parseUnitFile, parseUnitName } from '@fleet/core/model';
import { aMachine, InMemoryRegistry } from '@fleet/core/testing';
import type { ApiResponse } from './request.js';
import { handleApiRequest } from './routes.js';

/**
 * Property-based fuzzing of the API handler over a healthy in-memory registry (issue 9, guarantee
 * 6): whatever the method, path, query and body, the handler answers (never throws), never with a
 * 5xx, every 4xx carries a message, and a refused request changes nothing stored.
 */

const machine = aMachine('m');
const seeded = (): InMemoryRegistry => {
  const registry = new InMemoryRegistry();
  registry.putMachine(machine);
  const file = parseUnitFile('[Service]\nExecStart=/bin/sleep 1000\n');
  void registry.createUnit({ name: parseUnitName('seed.service'), file, hash: hashUnitFile(file), desiredState: 'launched' });
  return registry;
};

/** Everything a request may change, as text: units (with files), machine metadata, schedule. */
async function stored(registry: InMemoryRegistry): Promise<string> {
  const snapshot = await registry.snapshot();
  const units = await Promise.all([...snapshot.units.keys()].sort().map(async (name) => JSON.stringify(await registry.getUnit(name))));
  return JSON.stringify({ units, machines: [...snapshot.machines.values()], schedule: snapshot.schedule });
}

const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('', '..', '../x.service', 'a/b.service', '%2e%2e', '%zz', 'x@.service', 'x@1.service', 'seed.service', 'é.service', ' .service'));
const unitName = fc.oneof(text, fc.stringMatching(/^[a-z@._:-]{1,12}\.(service|socket|timer|path|target|exe)$/));
const option = fc.record(
  { section: fc.oneof(fc.constantFrom('Service', 'Unit', 'X-Fleet', 'Install', ''), text), name: fc.oneof(fc.constantFrom('ExecStart', 'MachineID', 'Global', 'Conflicts', 'MachineOf', 'MachineMetadata', 'Replaces', 'SpreadBy', 'WantedBy'), text), value: fc.oneof(text, fc.constant('true')) },
  { requiredKeys: [] },
);
const unitBody = fc.record(
  { name: fc.oneof(unitName, fc.anything()), desiredState: fc.oneof(fc.constantFrom('inactive', 'loaded', 'launched', '', 'running'), fc.anything()), options: fc.oneof(fc.array(option, { maxLength: 6 }), fc.anything()), extra: fc.anything() },
  { requiredKeys: [] },
);
const body = fc.oneof(fc.anything(), unitBody, fc.record({ units: fc.oneof(fc.array(unitBody, { maxLength: 5 }), fc.anything()) }), fc.array(fc.record({ op: fc.constantFrom('add', 'remove', 'replace', 'move'), path: fc.oneof(text, fc.constant(`/${machine.id}/metadata/rack`)), value: fc.anything() }, { requiredKeys: [] }), { maxLength: 4 }));
const path = fc.oneof(
  unitName.map((n) => `/units/${encodeURIComponent(n)}`),
  text.map((n) => `/units/${n}`),
  fc.constantFrom('/units', '/state', '/machines', '/discovery', '/', ''),
  unitName.map((n) => `/state/${encodeURIComponent(n)}`),
  fc.array(text, { maxLength: 5 }).map((segments) => `/${segments.join('/')}`),
);
const query = fc.oneof(fc.constant(''), fc.string(), fc.constantFrom('nextPageToken=MTAw', 'nextPageToken=-1', 'nextPageToken=%%%', 'unitName=seed.service', 'machineID=x'));
const method = fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS');

function isAnswerWithMessage(response: ApiResponse): boolean {
  const message = (response.body as { error?: { message?: unknown } } | undefined)?.error?.message;
  return typeof message === 'string' && message.length > 0;
}

describe('the API handler under fuzzing', () => {
  it('answers every request without a 5xx; a 4xx names the problem and changes nothing stored (10,000 cases)', async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(method, path, query, body, async (m, p, q, b) => {
        const registry = seeded();
        const before = await stored(registry);
        const response = await handleApiRequest({ method: m, path: p, query: new URLSearchParams(q), body: b }, { units: registry, cluster: registry, machines: registry, tokenLimit: 2 });
        expect(response.status, `${m} ${p}?${q} ${JSON.stringify(b)}`).toBeLessThan(500);
        if (response.status >= 400) {
          refused++;
          expect(isAnswerWithMessage(response), `${m} ${p}: ${JSON.stringify(response.body)}`).toBe(true);
          expect(await stored(registry), `${m} ${p} ${JSON.stringify(b)} was refused but changed what is stored`).toBe(before);
        }
      }),
      { numRuns: 10_000 },
    );
    console.log(`API fuzzing: 10000 requests, ${refused} refused with a 4xx and a message, 0 with a 5xx`);
  }, 120_000);
});
