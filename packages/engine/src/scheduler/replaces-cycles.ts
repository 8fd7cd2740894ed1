import type { UnitName } from '@fleet/core/model';

/**
 * Circular `Replaces=` among the units of one scheduling pass, and which `Replaces=` the scheduler
 * therefore ignores.
 *
 * A replaces B when one of A's `Replaces=` globs matches B's name (a unit never replaces itself).
 * Units that can reach one another along such edges (a strongly connected component of two or
 * more units) are on a cycle, and every `Replaces=` between two units of the same cycle is
 * ignored. fleet ignores a pair of units that replace each other; a longer ring is the same
 * situation, and honouring it would move units round the ring forever. `Replaces=` from a cycle
 * to a unit outside it, or from outside into a cycle, still holds, and what is left is acyclic, so
 * displacements always come to an end.
 */
export interface ReplacesCycles {
  /** Whether the `Replaces=` from `from` to `to` is ignored: both are on the same cycle. */
  ignored(from: UnitName, to: UnitName): boolean;
  /** For every unit on a cycle, its shortest cycle. Units on no cycle are absent. */
  readonly cycles: ReadonlyMap<UnitName, ReplacesCycle>;
}

/** The cycle through one unit, for showing it. */
export interface ReplacesCycle {
  /**
   * Its shortest cycle, starting with the unit itself, in Replaces= order (the unit is not repeated
   * at the end); `undefined` when that cycle has more than {@link maxShownCycleUnits} units (it is
   * neither searched for nor shown: a reason stays short and cheap, however long the ring).
   */
  readonly units: readonly UnitName[] | undefined;
  /** How many units replace one another with it (its strongly connected component, itself included). */
  readonly size: number;
}

/** The longest cycle shown whole in a unit's reason. */
export const maxShownCycleUnits = 5;

/** No unit is on a cycle. */
export const noReplacesCycles: ReplacesCycles = { ignored: () => false, cycles: new Map() };

/**
 * Finds the cycles among `units` (those with a `Replaces=`), where `replaced(unit)` lists the units
 * that `unit` replaces. Deterministic: units are visited in the given order and edges in the order
 * `replaced` returns them. O(units + edges), plus a breadth-first search per unit on a cycle. Pure.
 */
export function findReplacesCycles(units: readonly UnitName[], replaced: (unit: UnitName) => readonly UnitName[]): ReplacesCycles {
  const known = new Set(units);
  const edges = new Map<UnitName, UnitName[]>();
  for (const u of units) edges.set(u, replaced(u).filter((v) => v !== u && known.has(v)));
  const component = stronglyConnected(units, edges);
  const size = new Map<number, number>();
  for (const c of component.values()) size.set(c, (size.get(c) ?? 0) + 1);
  const onCycle = (u: UnitName): boolean => (size.get(component.get(u) ?? -1) ?? 0) > 1;
  if (!units.some(onCycle)) return noReplacesCycles;

  const inside = new Map<UnitName, UnitName[]>();
  for (const u of units) if (onCycle(u)) inside.set(u, (edges.get(u) ?? []).filter((v) => component.get(v) === component.get(u)));
  const cycles = new Map<UnitName, ReplacesCycle>();
  for (const u of inside.keys()) {
    cycles.set(u, { units: shortCycle(u, (v) => inside.get(v) ?? []), size: size.get(component.get(u) ?? -1) ?? 0 });
  }
  return {
    ignored: (from, to) => from !== to && onCycle(from) && component.get(from) === component.get(to),
    cycles,
  };
}

/** Tarjan's algorithm, iteratively (no recursion depth limit): unit → component number. */
function stronglyConnected(units: readonly UnitName[], edges: ReadonlyMap<UnitName, readonly UnitName[]>): Map<UnitName, number> {
  const index = new Map<UnitName, number>();
  const low = new Map<UnitName, number>();
  const onStack = new Set<UnitName>();
  const stack: UnitName[] = [];
  const component = new Map<UnitName, number>();
  let counter = 0;
  let components = 0;
  for (const root of units) {
    if (index.has(root)) continue;
    const work: { unit: UnitName; next: number }[] = [{ unit: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { unit: UnitName; next: number };
      const out = edges.get(frame.unit) ?? [];
      if (frame.next < out.length) {
        const v = out[frame.next++] as UnitName;
        if (!index.has(v)) {
          index.set(v, counter);
          low.set(v, counter++);
          stack.push(v);
          onStack.add(v);
          work.push({ unit: v, next: 0 });
        } else if (onStack.has(v)) {
          low.set(frame.unit, Math.min(low.get(frame.unit) ?? 0, index.get(v) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.unit, Math.min(low.get(parent.unit) ?? 0, low.get(frame.unit) ?? 0));
      if (low.get(frame.unit) === index.get(frame.unit)) {
        for (;;) {
          const w = stack.pop() as UnitName;
          onStack.delete(w);
          component.set(w, components);
          if (w === frame.unit) break;
        }
        components++;
      }
    }
  }
  return component;
}

/**
 * Breadth-first search for the shortest path from `start` back to itself, of at most
 * {@link maxShownCycleUnits} units: its units, `start` first and not repeated at the end; or
 * `undefined` when there is none that short. Bounded: it never looks further than that many steps.
 */
function shortCycle(start: UnitName, next: (unit: UnitName) => readonly UnitName[]): UnitName[] | undefined {
  const parent = new Map<UnitName, UnitName>();
  const depth = new Map<UnitName, number>([[start, 0]]);
  const queue: UnitName[] = [start];
  for (let i = 0; i < queue.length; i++) {
    const at = queue[i] as UnitName;
    const d = depth.get(at) ?? 0;
    for (const v of next(at)) {
      if (v === start) {
        const path: UnitName[] = [];
        for (let n: UnitName | undefined = at; n !== undefined && n !== start; n = parent.get(n)) path.push(n);
        return [start, ...path.reverse()];
      }
      // A unit at depth d closes a cycle of d + 1 units: go no deeper than the longest shown.
      if (!depth.has(v) && d + 2 <= maxShownCycleUnits) {
        parent.set(v, at);
        depth.set(v, d + 1);
        queue.push(v);
      }
    }
  }
  return undefined;
}
