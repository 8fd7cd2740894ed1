import { applyMetadataOverrides, type MachineId, type MachineState, type MetadataOverrides } from '../model/machine.js';
import type { ScheduledUnit, UnitState } from '../model/unit.js';
import type { UnitName } from '../model/unit-name.js';
import { codec, type UnitRecord } from './codec.js';
import type { ClusterView, StateFilter, WatchEvent } from './cluster-view.js';
import type { KeySchema } from './keys.js';
import type { ClusterSnapshot, PlanningInput } from './registry.js';
import { compareKeys, SortedKeys } from './sorted-keys.js';

/** Separates unit and machine in the state indexes: below every character of a name, so order is by unit, then machine. */
const sep = '\u0000';

/**
 * The cluster's records with the indexes {@link ClusterView} promises, changed one watch event at
 * a time by {@link applyWatchEvents}. Holds no I/O, clock or timer: the same events give the same
 * view. Effective machine metadata is computed on read from presence and overrides, which change
 * independently.
 */
export class ClusterState implements ClusterView {
  revision = '0';
  readonly unitRecords = new Map<UnitName, UnitRecord>();
  readonly unitNames = new SortedKeys();
  /** By `machine/unit`, and by unit then machine. */
  readonly schedule = new Map<string, ScheduledUnit>();
  readonly placementsByUnit = new Map<UnitName, Map<MachineId, ScheduledUnit>>();
  readonly presence = new Map<MachineId, MachineState>();
  readonly machineIds = new SortedKeys();
  readonly overrides = new Map<MachineId, MetadataOverrides>();
  /** By `unit\0machine`; `byUnit` sorts them by unit then machine, `byMachine` by machine then unit. */
  readonly stateRecords = new Map<string, UnitState>();
  readonly statesByUnit = new SortedKeys();
  readonly statesByMachine = new SortedKeys();
  readonly reasons = new Map<UnitName, string>();
  readonly unitFileHashes = new Set<string>();
  /** Keys whose last value did not decode (skipped). */
  readonly corrupt = new Set<string>();
  /** Of those, the keys of unit records and schedule entries, with their unit. */
  readonly corruptUnitKeys = new Map<string, UnitName>();

  /** A state holding exactly `snapshot` (its machines already carry their effective metadata). */
  static of(snapshot: ClusterSnapshot): ClusterState {
    const s = new ClusterState();
    s.revision = snapshot.revision;
    for (const u of snapshot.units.values()) s.putUnit(u);
    for (const e of snapshot.schedule) s.putSchedule(e);
    for (const m of snapshot.machines.values()) s.putMachine(m);
    for (const st of snapshot.states) s.putState(st);
    for (const [name, reason] of snapshot.reasons) s.reasons.set(name, reason);
    for (const h of snapshot.unitFileHashes) s.unitFileHashes.add(h);
    for (const k of snapshot.corrupt) s.corrupt.add(k);
    // A unit's record and schedule keys end in its name.
    for (const key of snapshot.corrupt) {
      const name = [...snapshot.corruptUnits].find((n) => key.endsWith(`/${n}`));
      if (name !== undefined) s.corruptUnitKeys.set(key, name);
    }
    return s;
  }

  get unitCount(): number { return this.unitRecords.size; }
  unit(name: UnitName): UnitRecord | undefined { return this.unitRecords.get(name); }
  units(offset: number, limit: number): readonly UnitRecord[] {
    return this.unitNames.slice(offset, limit).flatMap((n) => this.unitRecords.get(n as UnitName) ?? []);
  }
  placements(name: UnitName): readonly ScheduledUnit[] {
    const byMachine = this.placementsByUnit.get(name);
    return byMachine === undefined ? [] : [...byMachine.values()].sort((a, b) => compareKeys(a.machineId, b.machineId));
  }
  state(machine: MachineId, name: UnitName): UnitState | undefined { return this.stateRecords.get(`${name}${sep}${machine}`); }
  states(filter: StateFilter, offset: number, limit: number): { items: readonly UnitState[]; total: number } {
    const { unitName, machineId } = filter;
    if (unitName !== undefined && machineId !== undefined) {
      const one = this.stateRecords.get(`${unitName}${sep}${machineId}`);
      return { items: one === undefined ? [] : [one].slice(offset, offset + limit), total: one === undefined ? 0 : 1 };
    }
    if (machineId !== undefined) {
      const { keys, total } = this.statesByMachine.withPrefix(`${machineId}${sep}`, offset, limit);
      return { items: keys.flatMap((k) => this.stateRecords.get(swap(k)) ?? []), total };
    }
    const { keys, total } = unitName !== undefined ? this.statesByUnit.withPrefix(`${unitName}${sep}`, offset, limit) : { keys: this.statesByUnit.slice(offset, limit), total: this.statesByUnit.size };
    return { items: keys.flatMap((k) => this.stateRecords.get(k) ?? []), total };
  }
  machine(id: MachineId): MachineState | undefined {
    const m = this.presence.get(id);
    if (m === undefined) return undefined;
    const o = this.overrides.get(id);
    return o === undefined ? m : { ...m, metadata: applyMetadataOverrides(m.metadata, o) };
  }
  machines(): readonly MachineState[] {
    return this.machineIds.values().flatMap((id) => this.machine(id as MachineId) ?? []);
  }
  reason(name: UnitName): string | undefined { return this.reasons.get(name); }
  corruptKeysOf(name: UnitName): readonly string[] {
    return this.corruptUnitKeys.size === 0 ? [] : [...this.corruptUnitKeys].flatMap(([key, unit]) => (unit === name ? [key] : []));
  }

  planningInput(): PlanningInput {
    return {
      revision: this.revision,
      units: new Map(this.unitRecords),
      schedule: [...this.schedule.values()],
      machines: new Map(this.machineIds.values().flatMap((id) => { const m = this.machine(id as MachineId); return m === undefined ? [] : [[m.id, m] as const]; })),
      reasons: new Map(this.reasons),
      unitFileHashes: [...this.unitFileHashes],
      corrupt: [...this.corrupt],
      corruptUnits: new Set(this.corruptUnitKeys.values()),
    };
  }

  putUnit(u: UnitRecord): void { this.unitRecords.set(u.name, u); this.unitNames.add(u.name); }
  deleteUnit(name: UnitName): void { this.unitRecords.delete(name); this.unitNames.delete(name); }
  putSchedule(e: ScheduledUnit): void {
    this.schedule.set(`${e.machineId}/${e.name}`, e);
    const byMachine = this.placementsByUnit.get(e.name) ?? new Map<MachineId, ScheduledUnit>();
    byMachine.set(e.machineId, e);
    this.placementsByUnit.set(e.name, byMachine);
  }
  deleteSchedule(machine: MachineId, name: UnitName): void {
    this.schedule.delete(`${machine}/${name}`);
    const byMachine = this.placementsByUnit.get(name);
    byMachine?.delete(machine);
    if (byMachine?.size === 0) this.placementsByUnit.delete(name);
  }
  putMachine(m: MachineState): void { this.presence.set(m.id, m); this.machineIds.add(m.id); }
  deleteMachine(id: MachineId): void { this.presence.delete(id); this.machineIds.delete(id); }
  putState(st: UnitState): void {
    this.stateRecords.set(`${st.name}${sep}${st.machineId}`, st);
    this.statesByUnit.add(`${st.name}${sep}${st.machineId}`);
    this.statesByMachine.add(`${st.machineId}${sep}${st.name}`);
  }
  deleteState(machine: MachineId, name: UnitName): void {
    this.stateRecords.delete(`${name}${sep}${machine}`);
    this.statesByUnit.delete(`${name}${sep}${machine}`);
    this.statesByMachine.delete(`${machine}${sep}${name}`);
  }
}

function swap(machineThenUnit: string): string {
  const i = machineThenUnit.indexOf(sep);
  return `${machineThenUnit.slice(i + 1)}${sep}${machineThenUnit.slice(0, i)}`;
}

/**
 * Applies watch events, in revision order, to `state`, through the key schema and the codecs
 * (the one home of key parsing and record validation). A put whose value does not decode removes
 * the record it replaces and is listed in `corrupt` (as a snapshot skips it); a delete removes
 * it. Keys outside the records the view holds (leader candidates, unknown kinds) are ignored.
 * Deterministic and free of I/O; it changes `state` in place so that one event costs O(log n).
 * Returns the keys that did not decode.
 */
export function applyWatchEvents(state: ClusterState, keys: KeySchema, events: Iterable<WatchEvent>): string[] {
  const corrupt: string[] = [];
  for (const event of events) {
    if (BigInt(event.revision) > BigInt(state.revision)) state.revision = event.revision;
    const c = keys.classify(event.key);
    if (c === undefined) continue;
    const [a = '', b = ''] = c.parts;
    const { key, value } = event;
    // A put replaces the record: drop the old one first, so that a corrupt put leaves none.
    state.corrupt.delete(key);
    state.corruptUnitKeys.delete(key);
    switch (c.kind) {
      case 'units': state.deleteUnit(a as UnitName); break;
      case 'schedule': state.deleteSchedule(a as MachineId, b as UnitName); break;
      case 'machines': state.deleteMachine(a as MachineId); break;
      case 'machine-metadata': state.overrides.delete(a as MachineId); break;
      case 'states': state.deleteState(a as MachineId, b as UnitName); break;
      case 'reasons': state.reasons.delete(a as UnitName); break;
      case 'unit-files': state.unitFileHashes.delete(a); break;
    }
    if (value === undefined) continue;
    try {
      switch (c.kind) {
        case 'units': state.putUnit(codec.decodeUnit(key, a, value)); break;
        case 'schedule': state.putSchedule(codec.decodeSchedule(key, a, b, value)); break;
        case 'machines': state.putMachine(codec.decodeMachine(key, a, value)); break;
        case 'machine-metadata': { const o = codec.decodeMetadataOverrides(key, a, value); state.overrides.set(o.machineId, o.overrides); break; }
        case 'states': state.putState(codec.decodeState(key, a, b, value)); break;
        case 'reasons': state.reasons.set(codec.decodeReasonKey(key, a), value); break;
        case 'unit-files': state.unitFileHashes.add(a); break;
      }
    } catch {
      state.corrupt.add(key);
      if (c.kind === 'units' || c.kind === 'schedule') state.corruptUnitKeys.set(key, (c.kind === 'units' ? a : b) as UnitName);
      corrupt.push(key);
    }
  }
  return corrupt;
}
