import type { MachineId, MachineState, Requirements, UnitName } from '@fleet/core/model';
import { planEngineTasks, type EnginePlan } from '../reconciler/plan.js';
import type { UnitRecord } from '@fleet/core/registry';
import { aMachine, aRequirements, aSnapshot, scheduled } from '@fleet/core/testing';

/**
 * The machines of the planner's table tests: `a` and `b` in rack r1, `c` in r2, `d` in r3; each
 * also carries `name=<letter>`, which {@link planSummary} prints instead of the machine ID.
 */
export const planMachines = {
  a: aMachine('a', { rack: 'r1', name: 'a' }),
  b: aMachine('b', { rack: 'r1', name: 'b' }),
  c: aMachine('c', { rack: 'r2', name: 'c' }),
  d: aMachine('d', { rack: 'r3', name: 'd' }),
} as const;

/** One row of a planner table: units with their requirements, the cluster, and the expected {@link planSummary}. */
export interface PlanCase {
  readonly name: string;
  readonly units: ReadonlyArray<readonly [UnitRecord, Requirements?]>;
  /** Present machines; default a, b and c. */
  readonly machines?: readonly MachineState[];
  readonly schedule?: ReadonlyArray<readonly [UnitRecord, MachineState]>;
  readonly reasons?: ReadonlyArray<readonly [UnitRecord, string]>;
  /** Absent machines still within the grace after an etcd outage. */
  readonly held?: readonly MachineState[];
  readonly expected: readonly string[];
}

/** Plans a {@link PlanCase} (requirements default to none). */
export function planCase(k: Omit<PlanCase, 'name' | 'expected'>): EnginePlan {
  const requirements = new Map<UnitName, Requirements>(k.units.map(([u, r]) => [u.name, r ?? aRequirements()]));
  const { a, b, c } = planMachines;
  return planEngineTasks(
    aSnapshot({
      units: k.units.map(([u]) => u),
      machines: [...(k.machines ?? [a, b, c])],
      schedule: (k.schedule ?? []).map(([u, m]) => scheduled(u, m)),
      reasons: new Map((k.reasons ?? []).map(([u, r]) => [u.name, r])),
    }),
    requirements,
    new Set(),
    new Set((k.held ?? []).map((m) => m.id)),
  );
}

/**
 * A compact view of a plan, one line per task: `+unit@machine reason` (scheduled), `-unit@machine
 * reason [rule]` (unscheduled), `?unit why` (cannot be placed), `!unit` (placeable again).
 */
export function planSummary(plan: EnginePlan): string[] {
  const out: string[] = [];
  for (const t of plan.tasks) {
    const ch = t.change;
    if (ch.kind === 'schedule') out.push(`+${ch.entry.name}@${label(ch.entry.machineId)} ${t.reason.code}`);
    else if (ch.kind === 'unschedule') out.push(`-${ch.name}@${label(ch.machineId)} ${t.reason.code}${t.reason.code === 'rule-broken' ? ` ${t.reason.rule}` : ''}`);
    else if (ch.kind === 'set-reason') out.push(`?${ch.name} ${ch.reason}`);
    else if (ch.kind === 'clear-reason') out.push(`!${ch.name}`);
  }
  return out;
}

function label(id: MachineId): string {
  return Object.values(planMachines).find((m) => m.id === id)?.metadata['name'] ?? id;
}
