import { describe, expect, it } from 'vitest';
import { hashUnitFile, parseUnitFile, parseUnitName, type ScheduledUnit, type TargetState } from '@fleet/core/model';
import type { ClusterView, LeaderFence, ScheduleChange, WriteOutcome } from '@fleet/core/registry';
import { aMachine, FakeClock, InMemoryLeadership, InMemoryRegistry, RecordingLogger, eventually } from '@fleet/core/testing';
import { defaultStopGraceMs, Engine } from './engine.js';

const reconcileIntervalMs = 2_000;
const a = aMachine('a');
const b = aMachine('b');

/** A gate a test opens by hand: `wait()` resolves once `open()` has been called. */
function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open: () => open(), wait: () => opened };
}

async function submit(registry: InMemoryRegistry, name: string, desiredState: TargetState = 'launched', fleetSection = ''): Promise<void> {
  const file = parseUnitFile(`[Service]\nExecStart=/bin/true\n${fleetSection === '' ? '' : `[X-Fleet]\n${fleetSection}\n`}`);
  const outcome = await registry.createUnit({ name: parseUnitName(name), file, hash: hashUnitFile(file), desiredState });
  expect(outcome).toEqual({ kind: 'created' });
}

function scheduleOf(registry: InMemoryRegistry): ScheduledUnit[] {
  return [...registry.schedule.values()].sort((x, y) => (x.name < y.name ? -1 : 1));
}

/** An engine for machine `a` over a fresh registry, its leadership and a fake clock. */
function startEngine(options: { stopGraceMs?: number; atMostOnceHoldMs?: number } = {}) {
  const registry = new InMemoryRegistry();
  const leadership = new InMemoryLeadership(registry);
  const clock = new FakeClock(1_000_000);
  const log = new RecordingLogger();
  let snapshotGate: ReturnType<typeof gate> | undefined;
  let snapshotsRead = 0;
  const writeOutcomes: WriteOutcome[] = [];
  // The engine sees the registry through this object, so that a test can hold a pass between its
  // read and its write (the window in which a leader can be deposed).
  const view = async (): Promise<ClusterView> => {
    const snap = await registry.view();
    snapshotsRead++;
    const held = snapshotGate;
    snapshotGate = undefined;
    if (held !== undefined) await held.wait();
    return snap;
  };
  const applyScheduleChanges = async (changes: readonly ScheduleChange[], fence: LeaderFence): Promise<WriteOutcome> => {
    const outcome = await registry.applyScheduleChanges(changes, fence);
    writeOutcomes.push(outcome);
    return outcome;
  };
  const seen = new Proxy(registry, {
    get: (target, prop) => {
      if (prop === 'view') return view;
      if (prop === 'applyScheduleChanges') return applyScheduleChanges;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  const stop = new AbortController();
  const engine = new Engine({
    machineId: a.id, registry: seen, leadership, clock, log, reconcileIntervalMs,
    ...(options.stopGraceMs === undefined ? {} : { stopGraceMs: options.stopGraceMs }),
    ...(options.atMostOnceHoldMs === undefined ? {} : { atMostOnceHoldMs: options.atMostOnceHoldMs }),
  });
  const done = engine.run(stop.signal);
  return {
    registry, leadership, clock, log, stop, done, writeOutcomes,
    get snapshotsRead() {
      return snapshotsRead;
    },
    /** The next pass's snapshot read waits until the returned gate opens. */
    holdNextSnapshot() {
      snapshotGate = gate();
      return snapshotGate;
    },
  };
}

describe('Engine', () => {
  it('campaigns, becomes leader, and schedules a submitted unit on a present machine', async () => {
    const t = startEngine();
    t.registry.putMachine(a);
    await submit(t.registry, 'web.service');
    await eventually(() => t.registry.schedule.size === 1, 'a schedule entry');
    expect(t.leadership.campaigns).toEqual([a.id]);
    expect(t.leadership.leader).toBe(a.id);
    expect(t.log.messages('info')).toContain('became engine leader');
    const hash = t.registry.units.get(parseUnitName('web.service'))?.hash;
    expect(scheduleOf(t.registry)).toEqual([{ name: 'web.service', machineId: a.id, targetState: 'launched', hash }]);
    t.stop.abort();
    await t.done;
    // Stopping resigns: nobody leads, and the registry no longer takes the old fence.
    expect(t.leadership.leader).toBeUndefined();
    expect(t.registry.leaderFence).toBeUndefined();
  });

  it('runs a pass every reconcile interval even when no change wakes it', async () => {
    const t = startEngine();
    t.registry.putMachine(a);
    await eventually(() => t.snapshotsRead >= 1 && t.clock.pendingSleeps.includes(reconcileIntervalMs), 'the first pass and its interval sleep');
    // A direct edit of the maps wakes no watcher: only the interval can find this unit.
    const file = parseUnitFile('[Service]\nExecStart=/bin/true\n');
    const name = parseUnitName('quiet.service');
    t.registry.files.set(hashUnitFile(file), file);
    t.registry.units.set(name, { name, hash: hashUnitFile(file), desiredState: 'launched' });
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(t.registry.schedule.size).toBe(0);
    t.clock.advance(reconcileIntervalMs);
    await eventually(() => t.registry.schedule.size === 1, 'the interval pass to schedule quiet.service');
    expect(scheduleOf(t.registry).map((e) => [e.name, e.machineId])).toEqual([['quiet.service', a.id]]);
    t.stop.abort();
    await t.done;
  });

  it('when deposed mid-pass, its fenced write is refused and writes nothing; it campaigns again and resumes when it leads', async () => {
    const t = startEngine();
    t.registry.putMachine(a);
    t.registry.putMachine(b);
    await eventually(() => t.leadership.leader === a.id && t.clock.sleeping > 0, 'engine a to lead and go idle');
    const firstFence = t.registry.leaderFence;

    // The next pass reads a snapshot with a new unit, then waits; meanwhile a second candidate
    // takes over (as when a's lease expires while it plans).
    const before = t.snapshotsRead;
    const held = t.holdNextSnapshot();
    await submit(t.registry, 'web.service');
    await eventually(() => t.snapshotsRead === before + 1, 'the pass holding its snapshot');
    const other = new AbortController();
    const otherTerm = t.leadership.campaign(b.id, other.signal);
    t.leadership.depose();
    const bTerm = await otherTerm;
    expect(t.leadership.leader).toBe(b.id);
    expect(t.registry.leaderFence).toBe(bTerm.fence);
    expect(bTerm.fence).not.toEqual(firstFence);

    const writesBefore = t.writeOutcomes.length;
    held.open();
    await eventually(() => t.log.messages('warn').includes('schedule write rejected: no longer the leader'), 'the refused write');
    expect(t.writeOutcomes.slice(writesBefore)).toEqual([{ ok: false, reason: 'not-leader' }]);
    expect(t.registry.schedule.size).toBe(0);
    expect(t.registry.reasons.size).toBe(0);
    await eventually(() => t.log.messages('warn').includes('lost engine leadership'), 'a to notice it lost');
    await eventually(() => t.leadership.campaigns.length === 3, 'a to campaign again');
    expect(t.leadership.campaigns).toEqual([a.id, b.id, a.id]);
    expect(t.leadership.leader).toBe(b.id);

    // b goes away; a leads again, with a fresh fence, and does what it could not do before.
    await bTerm.resign();
    await eventually(() => t.registry.schedule.size === 1, 'a to schedule web.service after leading again');
    expect(t.leadership.leader).toBe(a.id);
    expect(t.log.messages('info').filter((m) => m === 'became engine leader')).toHaveLength(2);
    expect(scheduleOf(t.registry)[0]?.name).toBe('web.service');
    t.stop.abort();
    await t.done;
  });

  it('when its lease is lost and nobody else campaigns, it campaigns again at once and goes on scheduling', async () => {
    const t = startEngine();
    t.registry.putMachine(a);
    await eventually(() => t.leadership.leader === a.id && t.clock.sleeping > 0, 'engine a to lead');
    t.leadership.depose();
    await eventually(() => t.leadership.campaigns.length === 2 && t.leadership.leader === a.id, 'a to lead again');
    await submit(t.registry, 'web.service');
    await eventually(() => t.registry.schedule.size === 1, 'a to schedule in its new term');
    t.stop.abort();
    await t.done;
  });

  it('defers the stop of a running unit by the stop grace, then stops it when the fake clock reaches it', async () => {
    const t = startEngine();
    t.registry.putMachine(a);
    await submit(t.registry, 'web.service');
    await eventually(() => scheduleOf(t.registry)[0]?.targetState === 'launched', 'web.service scheduled launched');
    await eventually(() => t.clock.sleeping > 0, 'the engine to go idle');

    expect(await t.registry.setDesiredState(parseUnitName('web.service'), 'loaded')).toBe(true);
    await eventually(() => t.clock.pendingSleeps.includes(defaultStopGraceMs), 'the engine to wait out the stop grace');
    expect(scheduleOf(t.registry)[0]?.targetState).toBe('launched');
    t.clock.advance(defaultStopGraceMs - 1);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(scheduleOf(t.registry)[0]?.targetState).toBe('launched');
    t.clock.advance(1);
    await eventually(() => scheduleOf(t.registry)[0]?.targetState === 'loaded', 'the deferred stop');
    t.stop.abort();
    await t.done;
  });

  it('holds an at-most-once unit of a vanished machine where it is for the hold, then moves it; an ordinary one moves at once', async () => {
    const holdMs = 6_250;
    const t = startEngine({ atMostOnceHoldMs: holdMs });
    t.registry.putMachine(a);
    t.registry.putMachine(b);
    // Least-loaded placement puts them on different machines.
    await submit(t.registry, 'once.service', 'launched', 'AtMostOnce=true');
    await submit(t.registry, 'plain.service');
    await eventually(() => t.registry.schedule.size === 2 && t.clock.sleeping > 0, 'both units scheduled');
    const where = (unit: string) => scheduleOf(t.registry).filter((e) => e.name === unit).map((e) => e.machineId);
    const [onceAt] = where('once.service');
    const [plainAt] = where('plain.service');
    expect(onceAt).not.toBe(plainAt);
    // The machine running the at-most-once unit vanishes.
    t.registry.removeMachine(onceAt!);
    const other = onceAt === a.id ? b.id : a.id;
    await eventually(() => t.clock.pendingSleeps.includes(holdMs), 'the engine to wait out the hold');
    expect(where('once.service')).toEqual([onceAt]);
    t.clock.advance(holdMs - 1);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(where('once.service')).toEqual([onceAt]);
    t.clock.advance(1);
    await eventually(() => where('once.service')[0] === other, 'the at-most-once unit moved after the hold');
    expect(t.log.messages('info')).toContain('at-most-once units of missing machines stay where they are until their hold ends');
    // The ordinary unit's machine vanishes: it moves at once, with no hold.
    t.registry.putMachine(onceAt === a.id ? a : b);
    t.registry.removeMachine(other);
    await eventually(() => where('plain.service')[0] === onceAt, 'the ordinary unit moved');
    t.stop.abort();
    await t.done;
  });

  it('a move planned while a machine was gone is refused if it came back before the write; the next pass keeps its units there', async () => {
    const t = startEngine();
    t.registry.putMachine(a);
    t.registry.putMachine(b);
    await submit(t.registry, 'db.service', 'launched');
    await submit(t.registry, 'web.service', 'launched');
    await eventually(() => t.registry.schedule.size === 2 && t.clock.sleeping > 0, 'both units scheduled');
    const onB = scheduleOf(t.registry).filter((e) => e.machineId === b.id);
    expect(onB).toHaveLength(1);
    const gate = t.holdNextSnapshot();
    const passes = t.snapshotsRead;
    t.registry.removeMachine(b.id);
    await eventually(() => t.snapshotsRead > passes, 'a pass that read the view without b');
    t.registry.putMachine(b); // b registers again before that pass writes
    gate.open();
    await eventually(() => t.log.messages('info').includes('schedule write refused: a machine came back meanwhile; planning again'), 'the stale write refused');
    await eventually(() => t.snapshotsRead > passes + 1 && t.clock.sleeping > 0, 'the pass after it');
    expect(scheduleOf(t.registry).filter((e) => e.machineId === b.id)).toEqual(onB);
    t.stop.abort();
    await t.done;
  });

  it('a stop withdrawn within the grace never happens', async () => {
    const t = startEngine({ stopGraceMs: 500 });
    t.registry.putMachine(a);
    await submit(t.registry, 'web.service');
    await eventually(() => t.registry.schedule.size === 1 && t.clock.sleeping > 0, 'web.service scheduled');
    const name = parseUnitName('web.service');
    await t.registry.setDesiredState(name, 'loaded');
    await eventually(() => t.clock.pendingSleeps.includes(500), 'the stop grace timer');
    await t.registry.setDesiredState(name, 'launched');
    const passes = t.snapshotsRead;
    await eventually(() => t.snapshotsRead > passes, 'a pass after the withdrawal');
    t.clock.advance(500);
    await eventually(() => t.snapshotsRead > passes + 1, 'the pass the grace timer asked for');
    expect(scheduleOf(t.registry)[0]?.targetState).toBe('launched');
    t.stop.abort();
    await t.done;
  });

  it('logs a failing pass (etcd down) and retries it on the next interval', async () => {
    const t = startEngine();
    t.registry.putMachine(a);
    await eventually(() => t.leadership.leader === a.id && t.clock.sleeping > 0, 'engine a to lead');
    t.registry.unavailable = true;
    t.clock.advance(reconcileIntervalMs);
    await eventually(() => t.log.messages('error').includes('pass failed'), 'the failed pass to be logged');
    await eventually(() => t.clock.pendingSleeps.includes(reconcileIntervalMs), 'the loop to wait for the next interval');
    // Back up, with a unit that no watcher announces: only the retry can find it.
    t.registry.unavailable = false;
    const file = parseUnitFile('[Service]\nExecStart=/bin/true\n');
    const name = parseUnitName('web.service');
    t.registry.files.set(hashUnitFile(file), file);
    t.registry.units.set(name, { name, hash: hashUnitFile(file), desiredState: 'launched' });
    t.clock.advance(reconcileIntervalMs);
    await eventually(() => t.registry.schedule.size === 1, 'the retry to schedule web.service');
    t.stop.abort();
    await t.done;
  });
});
