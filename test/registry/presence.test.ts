import { describe, expect, it } from 'vitest';
import { silentLogger, systemClock } from '@fleet/core';
import type { MachineState } from '@fleet/core/model';
import { EtcdRegistry, MachinePresence } from '@fleet/etcd';
import { KeySchema, RegistryOutages } from '@fleet/core/registry';
import { aMachine } from '@fleet/core/testing';
import { pollUntil } from '../../scripts/local-cluster/processes.js';
import { useEtcd } from './etcd-fixture.js';

const fixture = useEtcd('presence');

/** The machine as another host with the same machine ID would register it. */
const twin = (m: MachineState): MachineState => ({ ...m, publicIp: '10.9.9.9', metadata: { twin: 'yes' } });

describe('machine presence and duplicate machine IDs', () => {
  it('refuses a machine ID held by another live machine, leaving that record untouched', async () => {
    const prefix = fixture.freshPrefix();
    const registry = new EtcdRegistry(fixture.client, prefix, silentLogger);
    const first = aMachine('first', { rack: 'r1' });
    const owner = new MachinePresence(fixture.client, prefix, first, 10, systemClock, silentLogger);
    await owner.start(new AbortController().signal);
    const key = new KeySchema(prefix).machine(first.id);
    const before = (await fixture.client.get(key).exec()).kvs[0];

    const refusals: (MachineState | undefined)[] = [];
    const stop = new AbortController();
    const intruder = new MachinePresence(fixture.client, prefix, twin(first), 2, systemClock, silentLogger, { onRefused: (holder) => refusals.push(holder) });
    const joining = intruder.start(stop.signal);
    await pollUntil('two refused attempts', () => (refusals.length >= 2 ? true : undefined), { timeoutMs: 10_000 });
    expect(refusals[0]).toEqual(first);
    expect(intruder.currentLease).toBeUndefined();
    const after = (await fixture.client.get(key).exec()).kvs[0];
    expect(after?.mod_revision).toBe(before?.mod_revision);
    expect((await registry.snapshot()).machines.get(first.id)).toEqual(first);
    stop.abort();
    await joining;
    await owner.stop({ revoke: true });
  });

  it('joins once the other machine\'s record has expired', async () => {
    const prefix = fixture.freshPrefix();
    const registry = new EtcdRegistry(fixture.client, prefix, silentLogger);
    const first = aMachine('gone');
    const owner = new MachinePresence(fixture.client, prefix, first, 2, systemClock, silentLogger);
    await owner.start(new AbortController().signal);
    let refused = 0;
    const second = new MachinePresence(fixture.client, prefix, twin(first), 2, systemClock, silentLogger, { onRefused: () => refused++ });
    const joining = second.start(new AbortController().signal);
    await pollUntil('a refusal', () => (refused > 0 ? true : undefined), { timeoutMs: 10_000 });
    await owner.stop({ revoke: false }); // the first machine dies: its record expires after 2 s
    await joining;
    expect((await registry.snapshot()).machines.get(first.id)).toEqual(twin(first));
    await second.stop({ revoke: true });
  });

  it('takes over a record bound to a lease it inherited (a restarted fleetd of the same host)', async () => {
    const prefix = fixture.freshPrefix();
    const registry = new EtcdRegistry(fixture.client, prefix, silentLogger);
    const machine = aMachine('restarted');
    const recorded: string[] = [];
    const before = new MachinePresence(fixture.client, prefix, machine, 10, systemClock, silentLogger, { onRegistered: (id) => recorded.push(id) });
    await before.start(new AbortController().signal);
    const lease = await before.stop({ revoke: false }); // a hand-over: the record lives on
    expect(recorded).toEqual([lease]);

    const moved = { ...machine, metadata: { rack: 'r7' } };
    const refusals: unknown[] = [];
    const after = new MachinePresence(fixture.client, prefix, moved, 10, systemClock, silentLogger, { inheritedLeases: [lease ?? ''], onRefused: (h) => refusals.push(h) });
    await after.start(new AbortController().signal);
    expect(refusals).toEqual([]);
    expect(after.currentLease).not.toBe(lease);
    expect((await registry.snapshot()).machines.get(machine.id)).toEqual(moved);
    await after.stop({ revoke: true });
    expect((await registry.snapshot()).machines.has(machine.id)).toBe(false);
  });

  it('records when etcd cannot be reached', async () => {
    const { Etcd3 } = await import('etcd3');
    const nowhere = new Etcd3({ hosts: 'http://127.0.0.1:1', dialTimeout: 200 });
    const outages = new RegistryOutages();
    const stop = new AbortController();
    const presence = new MachinePresence(nowhere, fixture.freshPrefix(), aMachine('x'), 2, systemClock, silentLogger, { outages });
    const joining = presence.start(stop.signal);
    await pollUntil('an outage to be recorded', () => outages.lastAt, { timeoutMs: 10_000 });
    stop.abort();
    await joining;
    nowhere.close();
  });
});
