import { assertNever } from '@fleet/core';
import type { UnitName } from '@fleet/core/model';
import type { AgentTask } from './plan.js';
import type { UnitManager } from './unit-manager.js';

/** Outcome of one task. */
export type TaskResult = { readonly task: AgentTask; readonly ok: true } | { readonly task: AgentTask; readonly ok: false; readonly error: unknown };

/** Task kinds whose consecutive tasks (one per unit, independent) may run side by side. */
const concurrentKinds: ReadonlySet<AgentTask['kind']> = new Set(['load-unit', 'start-unit']);
/** How many of them at once: enough to keep systemd busy, few enough to keep D-Bus replies prompt. */
const tasksInFlight = 16;

/**
 * Executes tasks in order and keeps `started` in step with what was started and stopped. A unit's
 * failed task skips that unit's later tasks and nothing else: one unit that cannot be loaded or
 * started never holds up another (the next pass re-plans from the real state). A failed reload,
 * which concerns every unit, ends the run.
 *
 * The plan's order between kinds (stop, unload, load, reload, start) is kept: a kind starts only
 * when every task before it has finished. Within a run of loads or of starts, which concern one
 * unit each, up to {@link tasksInFlight} run at once, so that systemd gets the links of a batch
 * in one call (see the unit manager) and many starts are not one round trip each. The results are
 * those of every task that ran, in plan order.
 */
export async function applyAgentTasks(tasks: readonly AgentTask[], units: UnitManager, started: Set<UnitName>): Promise<TaskResult[]> {
  const results: TaskResult[] = [];
  const failedUnits = new Set<UnitName>();
  for (let i = 0; i < tasks.length; ) {
    const kind = (tasks[i] as AgentTask).kind;
    let end = i + 1;
    if (concurrentKinds.has(kind)) while (end < tasks.length && (tasks[end] as AgentTask).kind === kind) end++;
    const runnable = tasks.slice(i, end).filter((t) => t.kind === 'reload-unit-files' || !failedUnits.has(t.unit));
    const run = await runConcurrently(runnable, units, started);
    results.push(...run);
    for (const r of run) {
      if (r.ok) continue;
      if (r.task.kind === 'reload-unit-files') return results;
      failedUnits.add(r.task.unit);
    }
    i = end;
  }
  return results;
}

/** Runs `tasks` at most {@link tasksInFlight} at a time; the result of each, in order. */
async function runConcurrently(tasks: readonly AgentTask[], units: UnitManager, started: Set<UnitName>): Promise<TaskResult[]> {
  const results: TaskResult[] = new Array<TaskResult>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const index = next++;
      const task = tasks[index] as AgentTask;
      try {
        await runTask(task, units, started);
        results[index] = { task, ok: true };
      } catch (error) {
        results[index] = { task, ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(tasksInFlight, tasks.length) }, worker));
  return results;
}

async function runTask(task: AgentTask, units: UnitManager, started: Set<UnitName>): Promise<void> {
  switch (task.kind) {
    case 'stop-unit':
      await units.stop(task.unit);
      started.delete(task.unit);
      return;
    case 'unload-unit':
      await units.unload(task.unit);
      started.delete(task.unit);
      return;
    case 'load-unit':
      return units.load(task.unit, task.file);
    case 'reload-unit-files':
      return units.reloadUnitFiles();
    case 'start-unit':
      await units.start(task.unit);
      started.add(task.unit);
      return;
    default:
      return assertNever(task);
  }
}
