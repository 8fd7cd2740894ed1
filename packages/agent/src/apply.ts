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
 * Executes tasks in order and stops at the first failure (the next pass re-plans from the real
 * state). Keeps `started` in step with what was started and stopped.
 *
 * The plan's order between kinds (stop, unload, load, reload, start) is kept: a kind starts only
 * when every task before it has finished. Within a run of loads or of starts, which concern one
 * unit each, up to {@link tasksInFlight} run at once, so that systemd gets the links of a batch
 * in one call (see the unit manager) and many starts are not one round trip each. A failure
 * stops the run after the tasks already in flight beside it; the results are those of every task
 * that ran, in plan order, so what succeeded next to a failure is still recorded.
 */
export async function applyAgentTasks(tasks: readonly AgentTask[], units: UnitManager, started: Set<UnitName>): Promise<TaskResult[]> {
  const results: TaskResult[] = [];
  for (let i = 0; i < tasks.length; ) {
    const kind = (tasks[i] as AgentTask).kind;
    let end = i + 1;
    if (concurrentKinds.has(kind)) while (end < tasks.length && (tasks[end] as AgentTask).kind === kind) end++;
    const run = await runConcurrently(tasks.slice(i, end), units, started);
    results.push(...run);
    if (run.some((r) => !r.ok)) break;
    i = end;
  }
  return results;
}

/** Runs `tasks` at most {@link tasksInFlight} at a time, none started after a failure; the results of those that ran, in order. */
async function runConcurrently(tasks: readonly AgentTask[], units: UnitManager, started: Set<UnitName>): Promise<TaskResult[]> {
  const results: (TaskResult | undefined)[] = new Array<TaskResult | undefined>(tasks.length).fill(undefined);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < tasks.length) {
      const task = tasks[next++] as AgentTask;
      const index = next - 1;
      try {
        await runTask(task, units, started);
        results[index] = { task, ok: true };
      } catch (error) {
        results[index] = { task, ok: false, error };
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(tasksInFlight, tasks.length) }, worker));
  return results.filter((r): r is TaskResult => r !== undefined);
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
