import { describe, expect, it } from 'vitest';
import { RegistryUnavailableError } from '@fleet/core';
import { hashUnitFile, parseUnitFile, parseUnitName, serializeUnitFile, type ScheduledUnit, type UnitFile, type UnitName } from '@fleet/core/model';
import { aMachine, FakeClock, InMemoryRegistry, RecordingLogger, eventually } from '@fleet/core/testing';
import { Agent } from './agent.js';
import { InMemoryUnitManager } from './testing/memory-unit-manager.js';
import { UnitStatePublisher } from './unit-state-publisher.js';

const machine = aMachine('m');
const other = aMachine('o');
const web = parseUnitName('web.service');
const fileV1 = parseUnitFile('[Service]\nExecStart=/bin/sleep 1000\n');
const fileV2 = parseUnitFile('[Service]\nExecStart=/bin/sleep 2000\n');
const reconcileIntervalMs = 5_000;

/** An agent for `machine` over an in-memory registry and systemd, with the publisher that reports its states. */
function setUp() {
  const registry = new InMemoryRegistry();
  registry.putMachine(machine);
  registry.putMachine(other);
  const units = new InMemoryUnitManager();
  const clock = new FakeClock();
  const log = new RecordingLogger();
  const agent = new Agent({ machineId: machine.id, registry, units, clock, log, reconcileIntervalMs });
  const publisher = new UnitStatePublisher({ machineId: machine.id, units, sink: registry.stateSink(machine.id), clock, log, intervalMs: 60_000, agentStates: agent.reached, agentFailures: agent.failed });
  /** Puts (or replaces) a schedule entry directly, with its file stored as the engine would find it. */
  const schedule = (name: UnitName, file: UnitFile, targetState: ScheduledUnit['targetState'] = 'launched', on = machine): ScheduledUnit => {
    const hash = hashUnitFile(file);
    registry.files.set(hash, file);
    const entry = { name, machineId: on.id, targetState, hash };
    registry.schedule.set(`${on.id}/${name}`, entry);
    return entry;
  };
  const unschedule = (name: UnitName): void => {
    registry.schedule.delete(`${machine.id}/${name}`);
  };
  /** The states the registry holds for `machine`, as `name active/sub agent:state`. */
  const published = (): string[] =>
    [...registry.states.values()].filter((s) => s.machineId === machine.id).map((s) => `${s.name} ${s.loadState}/${s.activeState}/${s.subState} agent:${String(s.agentState)}`).sort();
  return { registry, units, clock, log, agent, publisher, schedule, unschedule, published };
}

describe('Agent.pass', () => {
  it('writes, loads and starts a scheduled unit; the publisher then reports it running and launched', async () => {
    const t = setUp();
    const entry = t.schedule(web, fileV1);
    await t.agent.pass();
    expect(t.units.calls).toEqual(['load web.service', 'start web.service']);
    expect(t.units.fileOf(web)).toBe(serializeUnitFile(fileV1));
    expect((await t.units.unitStates([web])).get(web)).toEqual({ loadState: 'loaded', activeState: 'active', subState: 'running' });
    expect(t.log.messages('info')).toEqual(['load-unit web.service: scheduled', 'start-unit web.service: target-launched']);
    expect(t.agent.reached).toEqual(new Map([[web, 'launched']]));

    await t.publisher.pass();
    expect(t.published()).toEqual(['web.service loaded/active/running agent:launched']);
    expect(t.registry.states.get(`${machine.id}/${web}`)?.hash).toBe(entry.hash);
  });

  it('does nothing on a pass with nothing to change', async () => {
    const t = setUp();
    t.schedule(web, fileV1);
    await t.agent.pass();
    const calls = t.units.calls.length;
    const lines = t.log.lines.length;
    await t.agent.pass();
    expect(t.units.calls.length).toBe(calls);
    expect(t.log.lines.length).toBe(lines);
  });

  it('ignores other machines\' schedules', async () => {
    const t = setUp();
    t.schedule(web, fileV1, 'launched', other);
    await t.agent.pass();
    expect(t.units.calls).toEqual([]);
    expect(t.agent.reached).toEqual(new Map());
  });

  it('stops and unloads a unit that is unscheduled; the publisher deletes its state', async () => {
    const t = setUp();
    t.schedule(web, fileV1);
    await t.agent.pass();
    await t.publisher.pass();
    t.units.calls.length = 0;
    t.unschedule(web);
    await t.agent.pass();
    expect(t.units.calls).toEqual(['stop web.service', 'unload web.service', 'reload']);
    expect(await t.units.loadedUnits()).toEqual(new Map());
    expect((await t.units.unitStates([web])).get(web)).toEqual({ loadState: 'not-found', activeState: 'inactive', subState: 'dead' });
    expect(t.agent.reached).toEqual(new Map());
    await t.publisher.pass();
    expect(t.published()).toEqual([]);
  });

  it('stops, but keeps loaded, a unit whose target becomes loaded', async () => {
    const t = setUp();
    t.schedule(web, fileV1);
    await t.agent.pass();
    t.units.calls.length = 0;
    t.schedule(web, fileV1, 'loaded');
    await t.agent.pass();
    expect(t.units.calls).toEqual(['stop web.service']);
    expect(t.agent.reached).toEqual(new Map([[web, 'loaded']]));
    await t.publisher.pass();
    expect(t.published()).toEqual(['web.service loaded/inactive/dead agent:loaded']);
  });

  it('replaces a unit whose file changed: stop, unload, load, reload, start', async () => {
    const t = setUp();
    t.schedule(web, fileV1);
    await t.agent.pass();
    t.units.calls.length = 0;
    t.schedule(web, fileV2);
    await t.agent.pass();
    expect(t.units.calls).toEqual(['stop web.service', 'unload web.service', 'load web.service', 'reload', 'start web.service']);
    expect(t.units.fileOf(web)).toBe(serializeUnitFile(fileV2));
    expect(t.log.messages('info').slice(-5)).toEqual([
      'stop-unit web.service: hash-changed', 'unload-unit web.service: hash-changed', 'load-unit web.service: hash-changed',
      'reload-unit-files: files-changed', 'start-unit web.service: hash-changed',
    ]);
  });

  it('logs a failed task, stops there, reports the unit loaded, and retries on the next pass', async () => {
    const t = setUp();
    const db = parseUnitName('db.service');
    t.schedule(db, fileV1);
    t.schedule(web, fileV1);
    t.units.failNext('start');
    await t.agent.pass();
    // Tasks go in order of kind (loads, then starts: no reload for new units); starts of one pass run together, so web's
    // start is issued alongside db's failing one and counts; the failure stops what would follow.
    expect(t.units.calls).toEqual(['load db.service', 'load web.service', 'start db.service', 'start web.service']);
    expect(t.log.messages('error')).toEqual(['task failed: start-unit db.service: target-launched']);
    expect(t.log.lines.find((l) => l.level === 'error')?.fields['err']).toBeInstanceOf(Error);
    expect(t.agent.reached).toEqual(new Map([[db, 'loaded'], [web, 'launched']]));
    await t.publisher.pass();
    expect(t.published()).toEqual(['db.service loaded/inactive/dead agent:loaded', 'web.service loaded/active/running agent:launched']);

    t.units.calls.length = 0;
    await t.agent.pass();
    expect(t.units.calls).toEqual(['start db.service']);
    expect(t.agent.reached).toEqual(new Map([[db, 'launched'], [web, 'launched']]));
    await t.publisher.pass();
    expect(t.published()).toEqual(['db.service loaded/active/running agent:launched', 'web.service loaded/active/running agent:launched']);
  });

  it('does not restart a unit it started that then exited by itself', async () => {
    const t = setUp();
    t.schedule(web, fileV1);
    await t.agent.pass();
    t.units.setState(web, { activeState: 'failed', subState: 'failed' });
    t.units.calls.length = 0;
    await t.agent.pass();
    expect(t.units.calls).toEqual([]);
  });

  it('leaves, with a warning, a scheduled unit whose file is not stored', async () => {
    const t = setUp();
    const entry = t.schedule(web, fileV1);
    t.registry.files.delete(entry.hash);
    await t.agent.pass();
    expect(t.units.calls).toEqual([]);
    expect(t.log.lines.filter((l) => l.level === 'warn')).toEqual([
      { level: 'warn', msg: 'scheduled unit has no stored file; leaving it as it is this pass', fields: { unit: web, hash: entry.hash } },
    ]);
  });

  it('fails before touching systemd when etcd is unreachable: running units keep running', async () => {
    const t = setUp();
    t.schedule(web, fileV1);
    await t.agent.pass();
    t.units.calls.length = 0;
    t.unschedule(web);
    t.registry.unavailable = true;
    await expect(t.agent.pass()).rejects.toBeInstanceOf(RegistryUnavailableError);
    expect(t.units.calls).toEqual([]);
    expect((await t.units.unitStates([web])).get(web)?.activeState).toBe('active');
  });
});

describe('Agent.pass with a schedule it cannot fully read', () => {
  it('leaves a running unit whose stored file is missing as it is: no stop, no unload, still reported launched', async () => {
    const t = setUp();
    const entry = t.schedule(web, fileV1);
    await t.agent.pass();
    t.units.calls.length = 0;
    t.registry.files.delete(entry.hash);
    await t.agent.pass();
    expect(t.units.calls).toEqual([]);
    expect((await t.units.unitStates([web])).get(web)?.activeState).toBe('active');
    expect(t.agent.reached.get(web)).toBe('launched');
    expect(t.log.messages('warn')).toEqual(['scheduled unit has no stored file; leaving it as it is this pass']);
  });
});

describe('Agent.pass with a unit systemd refuses', () => {
  /** An [Install] section whose only rule is reset: systemd has nothing to enable, and the load fails for good. */
  const unenablable = parseUnitFile('[Service]\nExecStart=/bin/sleep 1000\n\n[Install]\nWantedBy=default.target\nWantedBy=\n');
  const bad = parseUnitName('bad.service');

  it('starts the other units, remembers the failure for that file, does not try it again, and tries a new file', async () => {
    const t = setUp();
    t.schedule(bad, unenablable);
    t.schedule(web, fileV1);
    await t.agent.pass();
    expect(t.units.calls).toEqual(['load bad.service', 'enable bad.service', 'load web.service', 'start web.service']);
    expect(t.agent.failed.get(bad)).toMatchObject({ hash: hashUnitFile(unenablable), message: expect.stringContaining('[Install] section has no rule') });
    expect(t.agent.reached).toEqual(new Map([[bad, 'loaded'], [web, 'launched']]));
    expect(t.log.messages('error')).toEqual(['task failed: load-unit bad.service: scheduled; not retried until its unit file changes']);

    t.units.calls.length = 0;
    await t.agent.pass();
    await t.agent.pass();
    expect(t.units.calls).toEqual([]);
    expect(t.log.messages('error')).toHaveLength(1);

    t.schedule(bad, fileV2);
    await t.agent.pass();
    expect(t.units.calls).toEqual(['load bad.service', 'start bad.service']);
    expect(t.agent.failed.size).toBe(0);
    expect(t.agent.reached.get(bad)).toBe('launched');
  });

  it('retries a transient failure at the next pass', async () => {
    const t = setUp();
    t.schedule(web, fileV1);
    t.units.failNext('load'); // transient by default
    await t.agent.pass();
    expect(t.agent.failed.size).toBe(0);
    t.units.calls.length = 0;
    await t.agent.pass();
    expect(t.units.calls).toEqual(['load web.service', 'start web.service']);
  });
});

describe('Agent.run', () => {
  it('starts a unit as soon as a fenced schedule write names this machine, and the publisher reports it', async () => {
    const t = setUp();
    const stop = new AbortController();
    const agentDone = t.agent.run(stop.signal);
    const publisherDone = t.publisher.run(stop.signal, t.agent.afterChange, t.agent.firstPass);
    await t.agent.firstPass;
    expect(t.units.calls).toEqual([]);

    const fence = { key: 'engine/leader/1', createRevision: '1' };
    t.registry.leaderFence = fence;
    t.registry.files.set(hashUnitFile(fileV1), fileV1);
    const outcome = await t.registry.applyScheduleChanges([{ kind: 'schedule', entry: { name: web, machineId: machine.id, targetState: 'launched', hash: hashUnitFile(fileV1) } }], fence);
    expect(outcome).toEqual({ ok: true });
    await eventually(() => t.published().length > 0 && t.published()[0]?.includes('agent:launched') === true, 'web.service reported launched');
    expect(t.units.calls).toEqual(['load web.service', 'start web.service']);
    expect(t.published()).toEqual(['web.service loaded/active/running agent:launched']);
    stop.abort();
    await Promise.all([agentDone, publisherDone]);
  });

  it('logs a pass that fails (etcd down) and retries it after the reconcile interval of the fake clock', async () => {
    const t = setUp();
    t.schedule(web, fileV1);
    t.registry.unavailable = true;
    const stop = new AbortController();
    const done = t.agent.run(stop.signal);
    await t.agent.firstPass;
    await eventually(() => t.clock.pendingSleeps.includes(reconcileIntervalMs), 'the agent to wait for its interval');
    expect(t.log.messages('error').length).toBeGreaterThan(0);
    expect(new Set(t.log.messages('error'))).toEqual(new Set(['pass failed']));
    expect(t.units.calls).toEqual([]);
    t.registry.unavailable = false;
    t.clock.advance(reconcileIntervalMs - 1);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(t.units.calls).toEqual([]);
    t.clock.advance(1);
    await eventually(() => t.agent.reached.get(web) === 'launched', 'the retry to start web.service');
    expect(t.units.calls).toEqual(['load web.service', 'start web.service']);
    stop.abort();
    await done;
  });
});
