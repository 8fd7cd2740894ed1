import type { ClusterSnapshot, ScheduleChange } from '../registry/index.js';
import type { MachineId, ScheduledUnit, UnitName } from '../model/index.js';
import { isTemplate } from '../model/index.js';
import { explainPlacement, place } from '../scheduler/place.js';

/** Why the engine made a change; rendered to text only when logged. A closed list. */
export type EngineReason =
  | { readonly code: 'unit-destroyed' }
  | { readonly code: 'target-inactive' }
  | { readonly code: 'machine-gone' }
  | { readonly code: 'duplicate' }
  | { readonly code: 'target-changed' }
  | { readonly code: 'placed' }
  | { readonly code: 'unreferenced-file' };

/** A schedule change with the reason it was planned. */
export interface EngineTask {
  readonly change: ScheduleChange;
  readonly reason: EngineReason;
}

/** A unit the engine wants to run but cannot place, with the explanation. */
export interface Unplaceable {
  readonly unit: UnitName;
  readonly reason: string;
}

export interface EnginePlan {
  readonly tasks: readonly EngineTask[];
  readonly unplaceable: readonly Unplaceable[];
}

/**
 * The engine's pure planner: from one snapshot, the schedule changes that bring the schedule in line with
 * the units' desired states and the live machines. Units that still fit stay where they are (no churn).
 */
export function planEngineTasks(snapshot: ClusterSnapshot): EnginePlan {
  const tasks: EngineTask[] = [];
  const unplaceable: Unplaceable[] = [];
  const kept = new Map<UnitName, ScheduledUnit>();
  const load = new Map<MachineId, number>();

  const entries = [...snapshot.schedule].sort((a, b) => a.name.localeCompare(b.name) || a.machineId.localeCompare(b.machineId));
  for (const entry of entries) {
    const unit = snapshot.units.get(entry.name);
    const unschedule = (reason: EngineReason): void => {
      tasks.push({ change: { kind: 'unschedule', machineId: entry.machineId, name: entry.name }, reason });
    };
    if (unit === undefined) unschedule({ code: 'unit-destroyed' });
    else if (unit.desiredState === 'inactive') unschedule({ code: 'target-inactive' });
    else if (!snapshot.machines.has(entry.machineId)) unschedule({ code: 'machine-gone' });
    else if (kept.has(entry.name)) unschedule({ code: 'duplicate' });
    else {
      kept.set(entry.name, entry);
      load.set(entry.machineId, (load.get(entry.machineId) ?? 0) + 1);
      if (entry.targetState !== unit.desiredState || entry.hash !== unit.hash) {
        tasks.push({
          change: { kind: 'schedule', entry: { ...entry, targetState: unit.desiredState, hash: unit.hash } },
          reason: { code: 'target-changed' },
        });
      }
    }
  }

  const machines = [...snapshot.machines.values()].sort((a, b) => a.id.localeCompare(b.id));
  const pending = [...snapshot.units.values()]
    .filter((u) => u.desiredState !== 'inactive' && !kept.has(u.name) && !isTemplate(u.name))
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const unit of pending) {
    if (unit.desiredState === 'inactive') continue;
    const placement = place(unit.name, { machines, load });
    if (!placement.ok) {
      unplaceable.push({ unit: unit.name, reason: explainPlacement(placement) });
      continue;
    }
    load.set(placement.machine, (load.get(placement.machine) ?? 0) + 1);
    tasks.push({
      change: { kind: 'schedule', entry: { name: unit.name, machineId: placement.machine, targetState: unit.desiredState, hash: unit.hash } },
      reason: { code: 'placed' },
    });
  }

  const referenced = new Set<string>([...snapshot.units.values()].map((u) => u.hash));
  for (const entry of snapshot.schedule) referenced.add(entry.hash);
  for (const hash of snapshot.unitFileHashes) {
    if (!referenced.has(hash)) tasks.push({ change: { kind: 'delete-unit-file', hash, unchangedSince: snapshot.revision }, reason: { code: 'unreferenced-file' } });
  }
  return { tasks, unplaceable };
}

/** One log line's worth of text for a task. */
export function describeEngineTask(task: EngineTask): string {
  const c = task.change;
  switch (c.kind) {
    case 'schedule':
      return `schedule ${c.entry.name} on ${c.entry.machineId} (${c.entry.targetState}): ${task.reason.code}`;
    case 'unschedule':
      return `unschedule ${c.name} from ${c.machineId}: ${task.reason.code}`;
    case 'delete-unit-file':
      return `delete unit file ${c.hash}: ${task.reason.code}`;
  }
}
