import { describe, expect, it } from 'vitest';
import { parseUnitFile, parseUnitName, type UnitName } from '@fleet/core/model';
import { applyAgentTasks } from './apply.js';
import type { AgentTask } from './plan.js';
import { InMemoryUnitManager } from './testing/memory-unit-manager.js';

const file = parseUnitFile('[Service]\nExecStart=/bin/sleep 1000\n');
const names = Array.from({ length: 40 }, (_, i) => parseUnitName(`u${String(i).padStart(2, '0')}.service`));
const load = (unit: UnitName): AgentTask => ({ kind: 'load-unit', unit, file, reason: 'scheduled' });
const start = (unit: UnitName): AgentTask => ({ kind: 'start-unit', unit, reason: 'target-launched' });
const reload: AgentTask = { kind: 'reload-unit-files', reason: 'files-changed' };

describe('applyAgentTasks', () => {
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

  it('reports results in plan order up to the first failure and runs no later kind', async () => {
    const units = new InMemoryUnitManager();
    units.failNext('load');
    const tasks = [...names.map(load), reload, ...names.map(start)];
    const results = await applyAgentTasks(tasks, units, new Set());
    const failed = results.at(-1);
    expect(failed?.ok).toBe(false);
    expect(results.slice(0, -1).every((r) => r.ok)).toBe(true);
    expect(results.map((r) => r.task)).toEqual(tasks.slice(0, results.length));
    expect(units.calls).not.toContain('reload');
    expect(units.calls.some((c) => c.startsWith('start '))).toBe(false);
  });
});
