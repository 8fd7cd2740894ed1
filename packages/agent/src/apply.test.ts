import { describe, expect, it } from 'vitest';
import { SystemdError } from '@fleet/core';
import { parseUnitFile, parseUnitName, type UnitName } from '@fleet/core/model';
import { applyAgentTasks } from './apply.js';
import type { AgentTask } from './plan.js';
import { InMemoryUnitManager } from './testing/memory-unit-manager.js';

const file = parseUnitFile('[Service]\nExecStart=/bin/sleep 1000\n');
const names = Array.from({ length: 40 }, (_, i) => parseUnitName(`u${String(i).padStart(2, '0')}.service`));
const [a, b] = ['a.service', 'b.service'].map(parseUnitName) as [UnitName, UnitName];

const load = (unit: UnitName): AgentTask => ({ kind: 'load-unit', unit, file, reason: 'scheduled' });
const start = (unit: UnitName): AgentTask => ({ kind: 'start-unit', unit, reason: 'target-launched' });
const stop = (unit: UnitName): AgentTask => ({ kind: 'stop-unit', unit, reason: 'target-loaded' });
const unload = (unit: UnitName): AgentTask => ({ kind: 'unload-unit', unit, reason: 'unscheduled' });
const reload: AgentTask = { kind: 'reload-unit-files', reason: 'files-changed' };

/** The results as `[task kind and unit, ok]`, for exact comparison. */
function outcomes(results: Awaited<ReturnType<typeof applyAgentTasks>>): Array<[string, boolean]> {
  return results.map((r) => [r.task.kind === 'reload-unit-files' ? r.task.kind : `${r.task.kind} ${r.task.unit}`, r.ok]);
}

describe('applyAgentTasks', () => {
  it('runs every task in order and keeps `started` in step with starts', async () => {
    const units = new InMemoryUnitManager();
    const started = new Set<UnitName>();
    const results = await applyAgentTasks([load(a), load(b), reload, start(a), start(b)], units, started);
    expect(outcomes(results)).toEqual([['load-unit a.service', true], ['load-unit b.service', true], ['reload-unit-files', true], ['start-unit a.service', true], ['start-unit b.service', true]]);
    expect(units.calls).toEqual(['load a.service', 'load b.service', 'reload', 'start a.service', 'start b.service']);
    expect([...started].sort()).toEqual([a, b]);
    expect(await units.unitStates([a, b])).toEqual(new Map([a, b].map((u) => [u, { loadState: 'loaded', activeState: 'active', subState: 'running' }])));
  });

  it('a stop and an unload take the unit out of `started`', async () => {
    const units = new InMemoryUnitManager();
    const started = new Set<UnitName>();
    await applyAgentTasks([load(a), load(b), reload, start(a), start(b)], units, started);
    units.calls.length = 0;
    const results = await applyAgentTasks([stop(a), unload(b), reload], units, started);
    expect(outcomes(results)).toEqual([['stop-unit a.service', true], ['unload-unit b.service', true], ['reload-unit-files', true]]);
    expect(units.calls).toEqual(['stop a.service', 'unload b.service', 'reload']);
    expect(started).toEqual(new Set());
    expect((await units.unitStates([a])).get(a)).toEqual({ loadState: 'loaded', activeState: 'inactive', subState: 'dead' });
  });

  it('a failed reload, which concerns every unit, ends the run and is reported with its error; no start follows it', async () => {
    const units = new InMemoryUnitManager();
    const started = new Set<UnitName>();
    const injected = new SystemdError('reload (injected failure)', true);
    units.failNext('reloadUnitFiles', injected);
    const results = await applyAgentTasks([load(a), load(b), reload, start(a), start(b)], units, started);
    expect(outcomes(results)).toEqual([['load-unit a.service', true], ['load-unit b.service', true], ['reload-unit-files', false]]);
    const failed = results[2];
    expect(failed?.ok === false ? failed.error : undefined).toBe(injected);
    expect(units.calls).toEqual(['load a.service', 'load b.service', 'reload']);
    expect(started).toEqual(new Set());
  });

  it("a failed start leaves that unit out of `started`; the other unit's later tasks still run", async () => {
    const units = new InMemoryUnitManager();
    const started = new Set<UnitName>();
    // b was never loaded: systemd refuses its start (terminal); a's tasks go on.
    const results = await applyAgentTasks([load(a), reload, start(a), start(b), stop(a)], units, started);
    expect(outcomes(results)).toEqual([['load-unit a.service', true], ['reload-unit-files', true], ['start-unit a.service', true], ['start-unit b.service', false], ['stop-unit a.service', true]]);
    const failed = results[3];
    expect(failed?.ok === false ? failed.error : undefined).toBeInstanceOf(SystemdError);
    expect((failed?.ok === false ? failed.error : undefined) as SystemdError).toMatchObject({ transient: false });
    expect(started).toEqual(new Set());
    expect(units.calls).toEqual(['load a.service', 'reload', 'start a.service', 'start b.service', 'stop a.service']);
  });

  it('an empty task list does nothing', async () => {
    const units = new InMemoryUnitManager();
    expect(await applyAgentTasks([], units, new Set())).toEqual([]);
    expect(units.calls).toEqual([]);
  });

  it('keeps the order between kinds: every load before the reload, the reload before every start', async () => {
    const units = new InMemoryUnitManager();
    const tasks = [...names.map(load), reload, ...names.map(start)];
    const started = new Set<UnitName>();
    const results = await applyAgentTasks(tasks, units, started);
    expect(results.map((r) => r.ok)).toEqual(tasks.map(() => true));
    expect(results.map((r) => r.task)).toEqual(tasks);
    const reloadAt = units.calls.indexOf('reload');
    expect(units.calls.slice(0, reloadAt).sort()).toEqual(names.map((n) => `load ${n}`));
    expect(units.calls.slice(reloadAt + 1).sort()).toEqual(names.map((n) => `start ${n}`));
    expect([...started].sort()).toEqual(names);
  });

  it('a unit whose load fails is not started; every other unit is loaded and started (one unit never holds up the others)', async () => {
    const units = new InMemoryUnitManager();
    units.failNext('load');
    const tasks = [...names.map(load), reload, ...names.map(start)];
    const started = new Set<UnitName>();
    const results = await applyAgentTasks(tasks, units, started);
    const failedLoad = results.find((r) => !r.ok)?.task;
    expect(results.filter((r) => !r.ok).map((r) => r.task)).toEqual([failedLoad]);
    const loser = failedLoad?.kind === 'load-unit' ? failedLoad.unit : undefined;
    expect(loser).toBeDefined();
    expect(results.map((r) => r.task)).toEqual(tasks.filter((t) => t.kind !== 'start-unit' || t.unit !== loser));
    expect(units.calls).toContain('reload');
    expect([...started].sort()).toEqual(names.filter((n) => n !== loser));
  });
});
