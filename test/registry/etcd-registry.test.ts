import { describe, expect, it } from 'vitest';
import { EtcdLeadership, EtcdRegistry, MachinePresence } from '@fleet/etcd';
import { silentLogger, systemClock } from '@fleet/core';
import { hashUnitFile, parseUnitFile, parseUnitName } from '@fleet/core/model';
import { KeySchema } from '@fleet/core/registry';
import { aMachine } from '@fleet/core/testing';
import { pollUntil } from '../../scripts/local-cluster/processes.js';
import { useEtcd } from './etcd-fixture.js';

const fixture = useEtcd('test');

const file = parseUnitFile('[Service]\nExecStart=/bin/sleep 1000\n');
const hello = { name: parseUnitName('hello.service'), file, hash: hashUnitFile(file), desiredState: 'launched' as const };

describe('EtcdRegistry on a real etcd', () => {
  it('skips corrupt records instead of failing the snapshot', async () => {
    const prefix = fixture.freshPrefix();
    const registry = new EtcdRegistry(fixture.client, prefix, silentLogger);
    await registry.createUnit(hello);
    await fixture.client.put(`${new KeySchema(prefix).units}bad.service`).value('{not json');
    await fixture.client.put(`${new KeySchema(prefix).units}..%2Fx`).value('{}');
    const snapshot = await registry.snapshot();
    expect([...snapshot.units.keys()]).toEqual([hello.name]);
    expect([...snapshot.corrupt].sort()).toEqual([`${prefix}units/..%2Fx`, `${prefix}units/bad.service`]);
    expect(snapshot.corruptUnits).toEqual(new Set([parseUnitName('bad.service'), '..%2Fx']));
  });

  it("names a machine's corrupt schedule entries, so that its agent leaves their units as they are", async () => {
    const prefix = fixture.freshPrefix();
    const registry = new EtcdRegistry(fixture.client, prefix, silentLogger);
    const keys = new KeySchema(prefix);
    const a = aMachine('a');
    await fixture.client.put(keys.schedule(a.id, hello.name)).value('{"targetState":"launched","hash":"' + hello.hash + '"}');
    await fixture.client.put(keys.schedule(a.id, parseUnitName('bad.service'))).value('{not json');
    const schedule = await registry.machineSchedule(a.id);
    expect(schedule.entries.map((e) => e.name)).toEqual([hello.name]);
    expect(schedule.corrupt).toEqual(['bad.service']);
  });

  it('fences schedule writes: a deposed leader cannot write', async () => {
    const prefix = fixture.freshPrefix();
    const registry = new EtcdRegistry(fixture.client, prefix, silentLogger);
    const leadership = new EtcdLeadership(fixture.client, prefix, 5, systemClock, silentLogger);
    const a = aMachine('a');
    const term = await leadership.campaign(a.id, new AbortController().signal);
    const entry = { name: hello.name, machineId: a.id, targetState: 'launched' as const, hash: hello.hash };
    expect(await registry.applyScheduleChanges([{ kind: 'schedule', entry }], term.fence)).toEqual({ ok: true });
    expect((await registry.machineSchedule(a.id)).entries).toEqual([entry]);
    await term.resign();
    expect(term.signal.aborted).toBe(true);
    expect(await registry.applyScheduleChanges([{ kind: 'unschedule', machineId: a.id, name: hello.name }], term.fence)).toEqual({ ok: false, reason: 'not-leader' });
    expect((await registry.machineSchedule(a.id)).entries).toEqual([entry]);
  });

  it('elects one leader at a time and hands over when it resigns', async () => {
    const prefix = fixture.freshPrefix();
    const leadership = new EtcdLeadership(fixture.client, prefix, 5, systemClock, silentLogger);
    const stop = new AbortController();
    const first = await leadership.campaign(aMachine('a').id, stop.signal);
    let secondLeads = false;
    const second = leadership.campaign(aMachine('b').id, stop.signal).then((t) => {
      secondLeads = true;
      return t;
    });
    // The second candidate's key exists but is younger: it must not lead while the first does.
    await pollUntil('second candidate key', async () => ((await fixture.client.getAll().prefix(new KeySchema(prefix).leaderCandidates).keys()).length === 2 ? true : undefined), { timeoutMs: 5_000 });
    expect(secondLeads).toBe(false);
    await first.resign();
    const term = await second;
    expect(term.signal.aborted).toBe(false);
    await term.resign();
    stop.abort();
  });

  it('revokes the lease of a term that ended without a resign, so that none of its keys outlives the term', async () => {
    const prefix = fixture.freshPrefix();
    const leadership = new EtcdLeadership(fixture.client, prefix, 5, systemClock, silentLogger);
    const term = await leadership.campaign(aMachine('a').id, new AbortController().signal);
    // A witness bound to the term's lease (the lease ID is the candidate key's last segment).
    const witness = `${prefix}witness`;
    await fixture.client.put(witness).value('x').lease(term.fence.key.split('/').at(-1)!).exec();
    await fixture.client.delete().key(term.fence.key).exec();
    await pollUntil('the term to end', () => (term.signal.aborted ? true : undefined), { timeoutMs: 5_000, intervalMs: 20 });
    // Revoked at once, not kept alive (nor left to expire a TTL later).
    await pollUntil('the lease to be revoked', async () => ((await fixture.client.get(witness).exists()) ? undefined : true), { timeoutMs: 2_000, intervalMs: 20 });
  });

  it('binds machine presence to a lease: revoked presence disappears with its unit states', async () => {
    const prefix = fixture.freshPrefix();
    const registry = new EtcdRegistry(fixture.client, prefix, silentLogger);
    const machine = aMachine('m', { rack: 'r1' });
    const presence = new MachinePresence(fixture.client, prefix, machine, 5, systemClock, silentLogger);
    await presence.start(new AbortController().signal);
    await presence.publishState({ name: hello.name, machineId: machine.id, hash: hello.hash, loadState: 'loaded', activeState: 'active', subState: 'running' });
    let snapshot = await registry.snapshot();
    expect(snapshot.machines.get(machine.id)).toEqual(machine);
    expect(snapshot.states).toHaveLength(1);
    await presence.stop({ revoke: true });
    snapshot = await registry.snapshot();
    expect(snapshot.machines.size).toBe(0);
    expect(snapshot.states).toHaveLength(0);
  });

  it('lets presence expire after the TTL when released (a killed fleetd)', async () => {
    const prefix = fixture.freshPrefix();
    const registry = new EtcdRegistry(fixture.client, prefix, silentLogger);
    const machine = aMachine('k');
    const presence = new MachinePresence(fixture.client, prefix, machine, 2, systemClock, silentLogger);
    await presence.start(new AbortController().signal);
    await presence.stop({ revoke: false });
    expect((await registry.snapshot()).machines.has(machine.id)).toBe(true);
    await pollUntil('presence to expire', async () => ((await registry.snapshot()).machines.size === 0 ? true : undefined), { timeoutMs: 10_000 });
  });

  it('wakes a machine-schedule watcher when that machine is scheduled work', async () => {
    const prefix = fixture.freshPrefix();
    const registry = new EtcdRegistry(fixture.client, prefix, silentLogger);
    const leadership = new EtcdLeadership(fixture.client, prefix, 5, systemClock, silentLogger);
    const a = aMachine('a');
    const term = await leadership.campaign(a.id, new AbortController().signal);
    const stop = new AbortController();
    const wakes = registry.changes({ kind: 'machine-schedule', machine: a.id }, stop.signal)[Symbol.asyncIterator]();
    await wakes.next(); // the immediate first wake-up
    const next = wakes.next();
    await registry.applyScheduleChanges([{ kind: 'schedule', entry: { name: hello.name, machineId: a.id, targetState: 'launched', hash: hello.hash } }], term.fence);
    expect((await next).done).toBe(false);
    stop.abort();
    await wakes.return?.();
    await term.resign();
  });
});
