import type { MachineId, Requirements, ScheduledUnit, UnitName } from '@fleet/core/model';
import { feasibility, type Feasibility } from '../scheduler/feasibility.js';
import { explainPlacement } from '../scheduler/place.js';
import type { PlacementState } from '../scheduler/placement-state.js';

/** Where the global units go, and why those that go nowhere cannot run. */
export interface GlobalPlacement {
  readonly machines: ReadonlyMap<UnitName, ReadonlySet<MachineId>>;
  readonly unplaceable: ReadonlyMap<UnitName, string>;
  /** `<unit> <machine>` of scheduled entries that must go → the rule that no longer holds there. */
  readonly dropped: ReadonlyMap<string, string>;
}

/** A global unit that must not share a machine (or a ConflictsScope group) with another. */
interface Rival {
  readonly unit: UnitName;
  readonly scope: string | undefined;
  /** The rule as a rejection reason, in the words the feasibility check uses. */
  readonly rule: string;
}

/**
 * Places global units on every machine that passes their rules (metadata, the Conflicts= of the
 * regular units placed there, ...) and where no conflicting global unit runs. Of two global units
 * that conflict, a machine runs one: the one already scheduled there keeps it (no churn), else the
 * first by name. Incumbents are placed on every machine first, so that with a ConflictsScope= a unit
 * already running in a group keeps the group even if a machine of another group is visited first.
 */
export function placeGlobals(
  globals: readonly UnitName[],
  req: (u: UnitName) => Requirements,
  state: PlacementState,
  schedule: readonly ScheduledUnit[],
): GlobalPlacement {
  const rivals = rivalsOf(globals, req, state);
  const scopes = new Set<string>();
  for (const list of rivals.values()) for (const r of list) if (r.scope !== undefined) scopes.add(r.scope);
  const incumbent = new Set(schedule.map((e) => `${e.name} ${e.machineId}`));
  const checks = new Map<UnitName, Feasibility>(globals.map((g) => [g, feasibility(g, req(g), state)]));
  const placed = new Map<UnitName, Set<MachineId>>(globals.map((g) => [g, new Set()]));
  const onMachine = new Map<MachineId, Set<UnitName>>();
  const inGroup = new Map<string, Set<UnitName>>();
  const rejected = new Map<UnitName, Map<string, number>>();
  const group = (scope: string, machine: MachineId): string => `${scope}\u0000${state.scopeValue(machine, scope)}`;

  const verdict = (unit: UnitName, machine: MachineId): string | undefined => {
    const m = state.machineById.get(machine);
    if (m === undefined) return 'machine gone';
    const broken = checks.get(unit)?.(m);
    if (broken !== undefined) return broken;
    for (const r of rivals.get(unit) ?? []) {
      const holders = r.scope === undefined ? onMachine.get(machine) : inGroup.get(group(r.scope, machine));
      if (holders?.has(r.unit) === true) return r.rule;
    }
    return undefined;
  };
  const place = (unit: UnitName, machine: MachineId): void => {
    placed.get(unit)?.add(machine);
    addToSet(onMachine, machine, unit);
    for (const scope of scopes) addToSet(inGroup, group(scope, machine), unit);
  };

  // Round 1: every global unit keeps the machines it is scheduled on, if its rules still allow it.
  const dropped = new Map<string, string>();
  for (const machine of state.machines) {
    for (const unit of globals) {
      const key = `${unit} ${machine.id}`;
      if (!incumbent.has(key)) continue;
      const broken = verdict(unit, machine.id);
      if (broken === undefined) place(unit, machine.id);
      else dropped.set(key, broken);
    }
  }
  // Round 2: the rest, by name; each rejection is counted once per machine, for the explanation.
  for (const machine of state.machines) {
    for (const unit of globals) {
      if (placed.get(unit)?.has(machine.id) === true) continue;
      const reason = verdict(unit, machine.id);
      if (reason === undefined) {
        place(unit, machine.id);
        continue;
      }
      const counts = rejected.get(unit) ?? new Map<string, number>();
      counts.set(reason, (counts.get(reason) ?? 0) + 1);
      rejected.set(unit, counts);
    }
  }
  const unplaceable = new Map<UnitName, string>();
  for (const unit of globals) {
    if ((placed.get(unit)?.size ?? 0) > 0) continue;
    unplaceable.set(unit, explainPlacement({ ok: false, evaluated: state.machines.length, rejected: rejected.get(unit) ?? new Map() }));
  }
  return { machines: placed, unplaceable, dropped };
}

/** For each global unit, the global units it conflicts with (either side's Conflicts= matching). */
function rivalsOf(globals: readonly UnitName[], req: (u: UnitName) => Requirements, state: PlacementState): Map<UnitName, Rival[]> {
  const known = new Set(globals);
  const out = new Map<UnitName, Rival[]>();
  for (const unit of globals) {
    const { conflicts, conflictsScope: scope } = req(unit);
    const inScope = scope === undefined ? '' : ` (ConflictsScope=${scope})`;
    for (const glob of conflicts) {
      for (const other of state.namesMatching(glob)) {
        if (other === unit || !known.has(other)) continue;
        pushTo(out, unit, { unit: other, scope, rule: `Conflicts=${glob}${inScope}` });
        pushTo(out, other, { unit, scope, rule: `Conflicts=${glob}${inScope} of ${unit}` });
      }
    }
  }
  return out;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function addToSet<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set === undefined) map.set(key, new Set([value]));
  else set.add(value);
}
