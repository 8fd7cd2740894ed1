import { globLiteralPrefix, globMatch, templateOf } from '@fleet/core/model';
import type { MachineId, MachineState, Requirements, UnitName } from '@fleet/core/model';
import { findReplacesCycles, type ReplacesCycles } from './replaces-cycles.js';

/** A placed unit that holds globs (Conflicts= or Replaces=) which constrain other units. */
interface GlobHolder {
  readonly unit: UnitName;
  readonly machine: MachineId;
  /** Metadata key the rule applies across (ConflictsScope=); undefined: the machine only. */
  readonly scope: string | undefined;
  readonly glob: string;
}

/**
 * The cluster as the scheduler sees it while it plans one pass: which unit is placed where, and
 * the indexes the filters need so that a decision costs O(machines + matching units), never
 * O(all units):
 * - glob → names it matches, computed once per distinct glob over the pass's unit names
 *   (instances of a template share their globs, so there are few);
 * - glob → placed units holding it (for the symmetric "an existing unit's Conflicts blocks a
 *   newcomer" rule and for Replaces);
 * - per machine the placed units, per template and metadata value the sibling counts (SpreadBy).
 */
export class PlacementState {
  readonly machines: readonly MachineState[];
  readonly machineById: ReadonlyMap<MachineId, MachineState>;
  private readonly placement = new Map<UnitName, MachineId>();
  private readonly unitsOn = new Map<MachineId, Set<UnitName>>();
  private readonly conflictHolders = new Map<string, Map<UnitName, GlobHolder>>();
  private readonly replaceHolders = new Map<string, Map<UnitName, GlobHolder>>();
  private readonly globMatches = new Map<string, readonly UnitName[]>();
  private readonly siblings = new Map<string, Map<string, number>>();
  private cycles: ReplacesCycles | undefined;

  /** Every unit name the pass knows about, in code-unit order: globs are matched against these. */
  private readonly allNames: readonly UnitName[];

  constructor(
    machines: readonly MachineState[],
    names: readonly UnitName[],
    private readonly requirementsOf: (unit: UnitName) => Requirements,
  ) {
    this.allNames = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.machines = [...machines].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.machineById = new Map(this.machines.map((m) => [m.id, m]));
  }

  /** Where the unit is placed in this plan, or undefined. */
  machineOf(unit: UnitName): MachineId | undefined {
    return this.placement.get(unit);
  }

  /** Units placed on a machine (not counting global units). */
  load(machine: MachineId): number {
    return this.unitsOn.get(machine)?.size ?? 0;
  }

  unitsOnMachine(machine: MachineId): ReadonlySet<UnitName> {
    return this.unitsOn.get(machine) ?? emptySet;
  }

  /** Names of the pass's units that `glob` matches (cached per glob). */
  namesMatching(glob: string): readonly UnitName[] {
    let names = this.globMatches.get(glob);
    if (names === undefined) {
      // Only names that start with the glob's literal prefix can match: a contiguous, sorted range.
      const prefix = globLiteralPrefix(glob);
      const from = lowerBound(this.allNames, prefix);
      let to = from;
      while (to < this.allNames.length && (this.allNames[to] as string).startsWith(prefix)) to++;
      names = this.allNames.slice(from, to).filter((n) => globMatch(glob, n));
      this.globMatches.set(glob, names);
    }
    return names;
  }

  /**
   * The circular `Replaces=` among the pass's units (computed once, on first use): the scheduler
   * ignores every `Replaces=` between two units of the same cycle.
   */
  get replacesCycles(): ReplacesCycles {
    this.cycles ??= findReplacesCycles(
      this.allNames.filter((u) => this.requirementsOf(u).replaces.length > 0),
      (u) => [...new Set(this.requirementsOf(u).replaces.flatMap((glob) => this.namesMatching(glob)))],
    );
    return this.cycles;
  }

  /** Whether `from` displaces `to`: one of its `Replaces=` globs matches `to`, and they are on no common cycle. */
  displaces(from: UnitName, to: UnitName): boolean {
    return from !== to && this.requirementsOf(from).replaces.some((glob) => globMatch(glob, to)) && !this.replacesCycles.ignored(from, to);
  }

  /** Placed units whose Conflicts= globs match `unit` (excluding itself). */
  conflictHoldersMatching(unit: UnitName): GlobHolder[] {
    return this.holdersMatching(this.conflictHolders, unit);
  }

  /** Placed units whose Replaces= globs match `unit` (excluding itself). */
  replaceHoldersMatching(unit: UnitName): GlobHolder[] {
    return this.holdersMatching(this.replaceHolders, unit);
  }

  /**
   * Counts of a unit's template siblings per value of `key` (SpreadBy), or undefined when the unit
   * is not a template instance. Look it up once per decision, then per machine by value.
   */
  siblingCounts(unit: UnitName, key: string): ReadonlyMap<string, number> | undefined {
    const group = templateOf(unit);
    if (group === undefined) return undefined;
    return this.siblings.get(`${group}\u0000${key}`) ?? emptyCounts;
  }

  add(unit: UnitName, machine: MachineId): void {
    this.remove(unit);
    this.placement.set(unit, machine);
    let set = this.unitsOn.get(machine);
    if (set === undefined) this.unitsOn.set(machine, (set = new Set()));
    set.add(unit);
    const req = this.requirementsOf(unit);
    for (const glob of req.conflicts) register(this.conflictHolders, glob, { unit, machine, scope: req.conflictsScope, glob });
    for (const glob of req.replaces) register(this.replaceHolders, glob, { unit, machine, scope: undefined, glob });
    this.countSiblings(unit, machine, +1);
  }

  remove(unit: UnitName): void {
    const machine = this.placement.get(unit);
    if (machine === undefined) return;
    this.placement.delete(unit);
    this.unitsOn.get(machine)?.delete(unit);
    const req = this.requirementsOf(unit);
    for (const glob of req.conflicts) this.conflictHolders.get(glob)?.delete(unit);
    for (const glob of req.replaces) this.replaceHolders.get(glob)?.delete(unit);
    this.countSiblings(unit, machine, -1);
  }

  /** The value a machine has for a metadata key; machines without it form a group of their own. */
  scopeValue(machine: MachineId, key: string): string {
    const value = this.machineById.get(machine)?.metadata[key];
    return value === undefined ? `\u0000${machine}` : value;
  }

  private countSiblings(unit: UnitName, machine: MachineId, delta: number): void {
    const group = templateOf(unit);
    const key = this.requirementsOf(unit).spreadBy;
    if (group === undefined || key === undefined) return;
    const id = `${group}\u0000${key}`;
    let counts = this.siblings.get(id);
    if (counts === undefined) this.siblings.set(id, (counts = new Map()));
    const value = this.scopeValue(machine, key);
    counts.set(value, (counts.get(value) ?? 0) + delta);
  }

  private holdersMatching(index: Map<string, Map<UnitName, GlobHolder>>, unit: UnitName): GlobHolder[] {
    const out: GlobHolder[] = [];
    for (const [glob, holders] of index) {
      if (holders.size === 0 || !globMatch(glob, unit)) continue;
      for (const holder of holders.values()) if (holder.unit !== unit) out.push(holder);
    }
    return out;
  }
}

const emptySet: ReadonlySet<UnitName> = new Set();

/** The first index whose name is not below `key` (binary search over code-unit order). */
function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
const emptyCounts: ReadonlyMap<string, number> = new Map();

function register(index: Map<string, Map<UnitName, GlobHolder>>, glob: string, holder: GlobHolder): void {
  let holders = index.get(glob);
  if (holders === undefined) index.set(glob, (holders = new Map()));
  holders.set(holder.unit, holder);
}

export type { GlobHolder };
