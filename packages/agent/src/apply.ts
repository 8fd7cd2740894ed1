import { assertNever } from '@fleet/core';
import type { UnitName } from '@fleet/core/model';
import type { AgentTask } from './plan.js';
import type { UnitManager } from './unit-manager.js';

/** Outcome of one task. */
export type TaskResult = { readonly task: AgentTask; readonly ok: true } | { readonly task: AgentTask; readonly ok: false; readonly error: unknown };

/**
 * Executes tasks in order and stops at the first failure (the next pass re-plans from the real state).
 * Keeps `started` in step with what was started and stopped.
 */
export async function applyAgentTasks(tasks: readonly AgentTask[], units: UnitManager, started: Set<UnitName>): Promise<TaskResult[]> {
  const results: TaskResult[] = [];
  for (const task of tasks) {
    try {
      await runTask(task, units, started);
      results.push({ task, ok: true });
    } catch (error) {
      results.push({ task, ok: false, error });
      break;
    }
  }
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
