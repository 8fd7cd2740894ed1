import { isTemplate, noRequirements, type MachineId, type Requirements, type ScheduledUnit, type UnitName } from '@fleet/core/model';
import type { PlanningInput, ScheduleChange } from '@fleet/core/registry';
import { feasibility } from '../scheduler/feasibility.js';
import { explainPlacement, placeUnit } from '../scheduler/place.js';
import { PlacementState } from '../scheduler/placement-state.js';
import type { ReplacesCycle } from '../scheduler/replaces-cycles.js';
import { placeGlobals } from './global-placement.js';

/** Why the engine made a change; rendered to text only when logged. A closed list. */
export type EngineReason =
  | { readonly code: 'unit-destroyed' }
  | { readonly code: 'target-inactive' }
  | { readonly code: 'machine-gone' }
  | { readonly code: 'duplicate' }
  | { readonly code: 'target-changed' }
  | { readonly code: 'placed' }
  | { readonly code: 'rule-broken'; readonly rule: string }
  | { readonly code: 'replaced-by'; readonly unit: UnitName }
  | { readonly code: 'follows'; readonly unit: UnitName }
  | { readonly code: 'global' }
  | { readonly code: 'unplaceable' }
  | { readonly code: 'replaces-cycle' }
  | { readonly code: 'placeable' }
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

/** Bound on displacements in one pass, so that pathological Replaces= chains cannot loop. */
const maxDisplacementsPerUnit = 3;

/**
 * The engine's pure planner. From one snapshot and the units' parsed requirements it computes where
 * every unit should run, then the schedule changes that get there:
 * 1. placements that still satisfy every rule are kept (no churn), checked in dependency order
 *    (MachineOf targets before their followers), so a unit that breaks a rule (its machine's metadata
 *    changed, a conflicting unit holds the machine, its MachineOf target moved) is moved;
 * 2. the rest are placed least-loaded among the machines that pass every rule; a unit placed next
 *    to one it Replaces displaces that unit (and its followers) elsewhere;
 * 3. global units go to every machine that matches their metadata and has no conflict; of two
 *    global units that conflict, a machine keeps the one it runs, else takes the first by name.
 * Units that fit nowhere get a reason (`reasons/<unit>`), cleared once they are placed; units on a
 * `Replaces=` cycle, whose `Replaces=` within the cycle are ignored, get a reason that says so.
 */
export function planEngineTasks(
  snapshot: PlanningInput,
  requirements: ReadonlyMap<UnitName, Requirements> = new Map(),
  /** Units whose requirements could not be read this pass: their schedule entries are left alone. */
  frozenUnits: ReadonlySet<UnitName> = new Set(),
  /**
   * Machines absent from the snapshot that may still come back (they had no time to re-register
   * after an etcd outage): their schedule entries stay, and their units are not placed elsewhere.
   */
  held: ReadonlySet<MachineId> = new Set(),
): EnginePlan {
  const req = (u: UnitName): Requirements => requirements.get(u) ?? noRequirements;
  const frozen = held.size === 0 ? frozenUnits : new Set([...frozenUnits, ...unitsOnlyOn(held, snapshot, req)]);
  const active = [...snapshot.units.values()]
    .filter((u) => u.desiredState !== 'inactive' && !isTemplate(u.name) && !frozen.has(u.name))
    .map((u) => u.name)
    .sort(compare);
  const state = new PlacementState([...snapshot.machines.values()], active, req);
  const regular = dependencyOrder(active.filter((u) => !req(u).global), req);
  const globals = active.filter((u) => req(u).global);
  const why = new Map<string, EngineReason>(); // `${unit} ${machine}` → why an existing entry goes
  const placedWhy = new Map<UnitName, EngineReason>();
  const unplaceable = new Map<UnitName, string>();

  const existing = groupByUnit(snapshot.schedule);
  const followers = new Map<UnitName, UnitName[]>();
  for (const u of regular) for (const target of req(u).machineOf) pushTo(followers, target, u);

  // 1. Keep what still fits.
  const pending: UnitName[] = [];
  for (const unit of regular) {
    const entries = (existing.get(unit) ?? []).filter((e) => snapshot.machines.has(e.machineId));
    const keep = entries[0];
    if (keep === undefined) {
      pending.push(unit);
      continue;
    }
    const machine = snapshot.machines.get(keep.machineId);
    const broken = machine === undefined ? undefined : feasibility(unit, req(unit), state)(machine);
    if (broken === undefined) state.add(unit, keep.machineId);
    else {
      why.set(`${unit} ${keep.machineId}`, { code: 'rule-broken', rule: broken });
      pending.push(unit);
    }
  }

  // 2. Place the rest; Replaces= may push already placed units back into the queue.
  const displaced = new Map<UnitName, number>();
  const queue = [...pending];
  while (queue.length > 0) {
    const unit = queue.shift() as UnitName;
    const placement = placeUnit(unit, req(unit), state);
    if (!placement.ok) {
      unplaceable.set(unit, explainPlacement(placement));
      continue;
    }
    unplaceable.delete(unit);
    state.add(unit, placement.machine);
    placedWhy.set(unit, { code: 'placed' });
    for (const victim of [...state.unitsOnMachine(placement.machine)]) {
      if (!state.displaces(unit, victim)) continue;
      const times = (displaced.get(victim) ?? 0) + 1;
      displaced.set(victim, times);
      if (times > maxDisplacementsPerUnit) continue;
      const moved = [victim, ...followersOf(victim, followers, state)];
      for (const m of moved) {
        const at = state.machineOf(m);
        if (at !== undefined) why.set(`${m} ${at}`, m === victim ? { code: 'replaced-by', unit } : { code: 'follows', unit: victim });
        state.remove(m);
        queue.push(m);
      }
    }
  }

  // 3. Global units: every machine that passes their rules and runs no conflicting global unit.
  const globalPlacement = placeGlobals(globals, req, state, snapshot.schedule);
  const globalMachines = globalPlacement.machines;
  for (const [unit, reason] of globalPlacement.unplaceable) unplaceable.set(unit, reason);
  for (const [key, rule] of globalPlacement.dropped) why.set(key, { code: 'rule-broken', rule });

  const tasks = diffSchedule(snapshot, state, globalMachines, why, placedWhy, frozen, held);
  const reasons = unitReasons(unplaceable, state);
  for (const [unit, { text, code }] of reasons) {
    if (snapshot.reasons.get(unit) !== text) tasks.push({ change: { kind: 'set-reason', name: unit, reason: text }, reason: { code } });
  }
  for (const unit of snapshot.reasons.keys()) {
    if (!reasons.has(unit) && !frozen.has(unit)) tasks.push({ change: { kind: 'clear-reason', name: unit }, reason: { code: 'placeable' } });
  }
  // A record that did not decode may refer to any file: collect none while there is one.
  if (snapshot.corrupt.length === 0) tasks.push(...collectUnitFiles(snapshot));
  return { tasks, unplaceable: [...unplaceable].map(([unit, reason]) => ({ unit, reason })) };
}

/**
 * The reason stored for each unit (`reasons/<unit>`): why it cannot be placed, and for a unit on a
 * `Replaces=` cycle that the cycle's `Replaces=` are ignored (after the placement reason, if any).
 */
function unitReasons(unplaceable: ReadonlyMap<UnitName, string>, state: PlacementState): Map<UnitName, { text: string; code: 'unplaceable' | 'replaces-cycle' }> {
  const out = new Map<UnitName, { text: string; code: 'unplaceable' | 'replaces-cycle' }>();
  for (const [unit, text] of unplaceable) out.set(unit, { text, code: 'unplaceable' });
  for (const [unit, cycle] of state.replacesCycles.cycles) {
    const note = replacesCycleNote(unit, cycle);
    const placement = unplaceable.get(unit);
    out.set(unit, placement === undefined ? { text: note, code: 'replaces-cycle' } : { text: `${placement}; ${note}`, code: 'unplaceable' });
  }
  return out;
}

/**
 * The reason of a unit on a `Replaces=` cycle: `circular Replaces= ignored: a.service -> b.service
 * -> a.service`, or for a long ring `circular Replaces= ignored: r0.service and 4999 other units
 * replace one another in a cycle`.
 */
export function replacesCycleNote(unit: UnitName, cycle: ReplacesCycle): string {
  if (cycle.units === undefined) return `circular Replaces= ignored: ${unit} and ${cycle.size - 1} other units replace one another in a cycle`;
  return `circular Replaces= ignored: ${[...cycle.units, unit].join(' -> ')}`;
}

/** Turns the planned placement into schedule changes against what is stored. */
function diffSchedule(
  snapshot: PlanningInput,
  state: PlacementState,
  globalMachines: ReadonlyMap<UnitName, ReadonlySet<MachineId>>,
  why: ReadonlyMap<string, EngineReason>,
  placedWhy: ReadonlyMap<UnitName, EngineReason>,
  frozen: ReadonlySet<UnitName>,
  held: ReadonlySet<MachineId>,
): EngineTask[] {
  const tasks: EngineTask[] = [];
  const stored = new Set<string>();
  const entries = [...snapshot.schedule].sort((a, b) => compare(a.name, b.name) || compare(a.machineId, b.machineId));
  const wanted = (unit: UnitName, machine: MachineId): boolean =>
    globalMachines.get(unit)?.has(machine) ?? state.machineOf(unit) === machine;
  for (const entry of entries) {
    if (frozen.has(entry.name)) continue;
    const unit = snapshot.units.get(entry.name);
    const key = `${entry.name} ${entry.machineId}`;
    if (unit !== undefined && unit.desiredState !== 'inactive' && !isTemplate(unit.name) && wanted(entry.name, entry.machineId) && !stored.has(key)) {
      stored.add(key);
      if (entry.targetState !== unit.desiredState || entry.hash !== unit.hash) {
        tasks.push({ change: { kind: 'schedule', entry: { ...entry, targetState: unit.desiredState, hash: unit.hash } }, reason: { code: 'target-changed' } });
      }
      continue;
    }
    // A held machine keeps its entries of units that should still run (global units included).
    if (held.has(entry.machineId) && unit !== undefined && unit.desiredState !== 'inactive' && !isTemplate(unit.name)) continue;
    const reason: EngineReason =
      unit === undefined ? { code: 'unit-destroyed' }
      : unit.desiredState === 'inactive' ? { code: 'target-inactive' }
      : !snapshot.machines.has(entry.machineId) ? { code: 'machine-gone' }
      : why.get(key) ?? { code: 'duplicate' };
    // Moving a machine's units away is right only while it is gone: should it register again before
    // the write lands, its agent may have read its schedule and started them already.
    tasks.push({ change: { kind: 'unschedule', machineId: entry.machineId, name: entry.name, ...(reason.code === 'machine-gone' ? { ifMachineAbsent: true } : {}) }, reason });
  }
  const add = (unit: UnitName, machine: MachineId, reason: EngineReason): void => {
    if (stored.has(`${unit} ${machine}`)) return;
    const record = snapshot.units.get(unit);
    if (record === undefined || record.desiredState === 'inactive') return;
    const entry: ScheduledUnit = { name: unit, machineId: machine, targetState: record.desiredState, hash: record.hash };
    tasks.push({ change: { kind: 'schedule', entry }, reason });
  };
  for (const unit of [...snapshot.units.keys()].sort(compare)) {
    const machines = globalMachines.get(unit);
    if (machines !== undefined) for (const m of machines) add(unit, m, { code: 'global' });
    else {
      const at = state.machineOf(unit);
      if (at !== undefined) add(unit, at, placedWhy.get(unit) ?? { code: 'placed' });
    }
  }
  return tasks;
}

/** Regular units that should run, scheduled on one of the given (absent) machines and on no present one. */
function unitsOnlyOn(machines: ReadonlySet<MachineId>, snapshot: PlanningInput, req: (u: UnitName) => Requirements): Set<UnitName> {
  const elsewhere = new Set<UnitName>();
  const there = new Set<UnitName>();
  for (const e of snapshot.schedule) {
    if (machines.has(e.machineId)) there.add(e.name);
    else if (snapshot.machines.has(e.machineId)) elsewhere.add(e.name);
  }
  const out = new Set<UnitName>();
  for (const unit of there) {
    const record = snapshot.units.get(unit);
    if (!elsewhere.has(unit) && record !== undefined && record.desiredState !== 'inactive' && !req(unit).global) out.add(unit);
  }
  return out;
}

/** Unit files no unit or schedule entry refers to any more. */
function collectUnitFiles(snapshot: PlanningInput): EngineTask[] {
  const referenced = new Set<string>([...snapshot.units.values()].map((u) => u.hash));
  for (const entry of snapshot.schedule) referenced.add(entry.hash);
  return snapshot.unitFileHashes
    .filter((hash) => !referenced.has(hash))
    .map((hash) => ({ change: { kind: 'delete-unit-file', hash, unchangedSince: snapshot.revision }, reason: { code: 'unreferenced-file' } }));
}

/** Units placed via MachineOf= on `unit`, transitively. */
function followersOf(unit: UnitName, followers: ReadonlyMap<UnitName, readonly UnitName[]>, state: PlacementState): UnitName[] {
  const out: UnitName[] = [];
  const visit = (u: UnitName): void => {
    for (const f of followers.get(u) ?? []) {
      if (out.includes(f) || state.machineOf(f) === undefined) continue;
      out.push(f);
      visit(f);
    }
  };
  visit(unit);
  return out;
}

/** Units in name order, except that MachineOf= targets come before their followers. */
function dependencyOrder(units: readonly UnitName[], req: (u: UnitName) => Requirements): UnitName[] {
  const known = new Set(units);
  const done = new Set<UnitName>();
  const visiting = new Set<UnitName>();
  const out: UnitName[] = [];
  const visit = (u: UnitName): void => {
    if (done.has(u) || visiting.has(u)) return; // a MachineOf cycle stays unplaceable
    visiting.add(u);
    for (const target of req(u).machineOf) if (known.has(target)) visit(target);
    visiting.delete(u);
    done.add(u);
    out.push(u);
  };
  for (const u of units) visit(u);
  return out;
}

function groupByUnit(entries: readonly ScheduledUnit[]): Map<UnitName, ScheduledUnit[]> {
  const out = new Map<UnitName, ScheduledUnit[]>();
  for (const e of [...entries].sort((a, b) => compare(a.machineId, b.machineId))) pushTo(out, e.name, e);
  return out;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One log line's worth of text for a task. */
export function describeEngineTask(task: EngineTask): string {
  const c = task.change;
  const reason = renderReason(task.reason);
  switch (c.kind) {
    case 'schedule':
      return `schedule ${c.entry.name} on ${c.entry.machineId} (${c.entry.targetState}): ${reason}`;
    case 'unschedule':
      return `unschedule ${c.name} from ${c.machineId}: ${reason}`;
    case 'delete-unit-file':
      return `delete unit file ${c.hash}: ${reason}`;
    case 'set-reason':
      return `cannot place ${c.name}: ${c.reason}`;
    case 'clear-reason':
      return `${c.name} is placeable again`;
  }
}

function renderReason(reason: EngineReason): string {
  switch (reason.code) {
    case 'rule-broken':
      return `rule no longer holds (${reason.rule})`;
    case 'replaced-by':
      return `replaced by ${reason.unit}`;
    case 'follows':
      return `follows ${reason.unit} (MachineOf)`;
    default:
      return reason.code;
  }
}
