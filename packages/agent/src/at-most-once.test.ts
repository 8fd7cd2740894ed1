import { describe, expect, it } from 'vitest';
import { hashUnitFile, parseUnitFile, parseUnitName, type UnitFile, type UnitName } from '@fleet/core/model';
import type { PresenceLeaseHealth } from '@fleet/core/registry';
import { aMachine, FakeClock, InMemoryRegistry, RecordingLogger, eventually } from '@fleet/core/testing';
import { Agent } from './agent.js';
import { leaseVerdict } from './at-most-once.js';
import { InMemoryUnitManager } from './testing/memory-unit-manager.js';

describe('leaseVerdict', () => {
  // TTL 4 s: the margin is max(1 s, TTL/4) = 1 s, so a lease confirmed at 10 s is safe until 13 s.
  it.each<[string, number | undefined, number, ReturnType<typeof leaseVerdict>]>([
    ['not registered: never safe', undefined, 10_000, { safe: false }],
    ['just confirmed: safe until TTL minus the margin', 10_000, 10_000, { safe: true, until: 13_000 }],
    ['a moment before the margin: still safe', 10_000, 12_999, { safe: true, until: 13_000 }],
    ['within the margin of the expiry: not safe', 10_000, 13_000, { safe: false }],
    ['past the expiry: not safe', 10_000, 20_000, { safe: false }],
  ])('%s', (_, confirmedAt, now, expected) => {
    expect(leaseVerdict({ confirmedAt, ttlMs: 4_000 }, now)).toEqual(expected);
  });

  it('the margin is a quarter of a long TTL', () => {
    expect(leaseVerdict({ confirmedAt: 0, ttlMs: 60_000 }, 0)).toEqual({ safe: true, until: 45_000 });
  });
});

const machine = aMachine('m');
const once = parseUnitName('once.service');
const plain = parseUnitName('plain.service');
const onceFile = parseUnitFile('[Service]\nExecStart=/bin/sleep 1000\n[X-Fleet]\nAtMostOnce=true\n');
const plainFile = parseUnitFile('[Service]\nExecStart=/bin/sleep 1000\n');

/** An agent with a lease whose confirmation time the test sets, over an in-memory registry and systemd. */
function setUp() {
  const registry = new InMemoryRegistry();
  registry.putMachine(machine);
  const units = new InMemoryUnitManager();
  const clock = new FakeClock(100_000);
  const log = new RecordingLogger();
  const lease: { confirmedAt: number | undefined; ttlMs: number } = { confirmedAt: clock.now(), ttlMs: 4_000 };
  const health: PresenceLeaseHealth = lease;
  const agent = new Agent({ machineId: machine.id, registry, units, clock, log, reconcileIntervalMs: 60_000, lease: health });
  const schedule = (name: UnitName, file: UnitFile): void => {
    const hash = hashUnitFile(file);
    registry.files.set(hash, file);
    registry.schedule.set(`${machine.id}/${name}`, { name, machineId: machine.id, targetState: 'launched', hash });
  };
  const running = async (name: UnitName): Promise<boolean> => (await units.unitStates([name])).get(name)?.activeState === 'active';
  return { registry, units, clock, log, lease, agent, schedule, running };
}

describe('Agent: at-most-once units', () => {
  it('the guard stops them, and only them, once the lease is within its margin of expiring, with etcd out of reach', async () => {
    const t = setUp();
    t.schedule(once, onceFile);
    t.schedule(plain, plainFile);
    const stop = new AbortController();
    const done = t.agent.run(stop.signal);
    await t.agent.firstPass;
    expect(await t.running(once)).toBe(true);
    expect(await t.running(plain)).toBe(true);
    // etcd goes out of reach: no keepalive is confirmed from now on, and passes fail.
    t.registry.unavailable = true;
    await eventually(() => t.clock.pendingSleeps.includes(3_000), 'the guard to sleep until the lease stops being safe');
    t.clock.advance(2_999);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(await t.running(once)).toBe(true);
    t.clock.advance(1);
    await eventually(() => t.units.calls.includes('stop once.service'), 'the guard to stop the at-most-once unit');
    expect(await t.running(once)).toBe(false);
    expect(await t.running(plain)).toBe(true);
    expect(t.log.messages('warn')).toContain('presence lease not confirmed in time: stopped at-most-once units before it can expire');
    // etcd answers again and the lease is confirmed: the guard wakes a pass, which starts the unit again.
    t.registry.unavailable = false;
    t.lease.confirmedAt = t.clock.now();
    await eventually(() => t.clock.pendingSleeps.includes(250), 'the guard to poll the unsafe lease');
    t.clock.advance(250);
    await eventually(() => t.units.calls.filter((c) => c === 'start once.service').length === 2, 'the unit started again without waiting for the interval');
    expect(t.log.messages('info')).toContain('presence lease confirmed again: at-most-once units may run');
    stop.abort();
    await done;
  });

  it('a pass while the lease is not safe loads them but holds their start back; once it is confirmed again they start', async () => {
    const t = setUp();
    t.lease.confirmedAt = undefined; // lost, re-registering
    t.schedule(once, onceFile);
    t.schedule(plain, plainFile);
    await t.agent.pass();
    expect(t.units.calls).toEqual(['load once.service', 'load plain.service', 'start plain.service']);
    expect(t.agent.reached.get(once)).toBe('loaded');
    expect(t.log.messages('warn')).toContain('presence lease not safe: at-most-once units not started until it is');
    t.lease.confirmedAt = t.clock.now();
    await t.agent.pass();
    expect(await t.running(once)).toBe(true);
    expect(t.agent.reached.get(once)).toBe('launched');
  });

  it('without a lease (no presence given) they run like any other unit', async () => {
    const t = setUp();
    const agent = new Agent({ machineId: machine.id, registry: t.registry, units: t.units, clock: t.clock, log: t.log, reconcileIntervalMs: 60_000 });
    t.schedule(once, onceFile);
    await agent.pass();
    expect(await t.running(once)).toBe(true);
  });
});
