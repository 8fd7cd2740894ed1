import type { MachineId, MachineState } from '../model/machine.js';
import type { ScheduledUnit, UnitState } from '../model/unit.js';
import type { UnitFile } from '../model/unit-file.js';
import type { UnitName } from '../model/unit-name.js';
import type { UnitRecord } from './codec.js';
import type { PlanningInput } from './registry.js';

/**
 * A consistent in-memory view of the cluster as of {@link revision}: what one fleetd's API and
 * engine read instead of etcd. Point reads are O(1) and listings O(log n + page): no read costs
 * more as the cluster grows. Listings are in code-unit order (units by name; states by unit, then
 * machine; machines by ID); offsets index those orders.
 *
 * A view may be live (updated in place as changes arrive): a caller that needs several reads to
 * agree takes them without awaiting in between.
 */
export interface ClusterView {
  /** The etcd revision the view reflects (every change up to it is in). */
  readonly revision: string;
  readonly unitCount: number;
  unit(name: UnitName): UnitRecord | undefined;
  /** Units by name, `limit` of them from position `offset`. */
  units(offset: number, limit: number): readonly UnitRecord[];
  /** The unit's schedule entries (several for a global unit), by machine ID. */
  placements(name: UnitName): readonly ScheduledUnit[];
  state(machine: MachineId, name: UnitName): UnitState | undefined;
  /** Reported states matching the filter, by unit then machine: one page and how many match. */
  states(filter: StateFilter, offset: number, limit: number): { readonly items: readonly UnitState[]; readonly total: number };
  /** A present machine with its effective metadata (configured, then API overrides). */
  machine(id: MachineId): MachineState | undefined;
  /** Present machines by ID, with their effective metadata. */
  machines(): readonly MachineState[];
  /** Why the unit is not placed (or which of its rules are ignored), as the engine last wrote it. */
  reason(name: UnitName): string | undefined;
  /** The keys of the unit's records that did not decode (its `units/` record, its schedule entries); empty when none. */
  corruptKeysOf(name: UnitName): readonly string[];
  /** A copy of what the engine plans from (O(cluster): the engine's pass is, the API's never). */
  planningInput(): PlanningInput;
}

export interface StateFilter {
  readonly unitName?: string;
  readonly machineId?: string;
}

/**
 * Where the API and the engine get their {@link ClusterView}. The view returned reflects every
 * write this process made through its registry before the call (read-your-own-writes); writes by
 * others appear as the change feed delivers them. Unit files are immutable per hash and cached.
 */
export interface ClusterViewSource {
  view(): Promise<ClusterView>;
  /** The stored files with these hashes (missing ones are absent from the map). */
  unitFiles(hashes: readonly string[]): Promise<ReadonlyMap<string, UnitFile>>;
}

/** One change under the key prefix, as a watch delivers it: a put (`value`) or a delete (`undefined`). */
export interface WatchEvent {
  readonly key: string;
  readonly value: string | undefined;
  /** The revision of the change (the key's mod revision). */
  readonly revision: string;
}
