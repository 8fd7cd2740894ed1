import type { MachineId, Requirements, UnitName } from '@fleet/core/model';
import { feasibility } from './feasibility.js';
import type { PlacementState } from './placement-state.js';

/** Where a unit goes, or why it cannot go anywhere (rejection reasons with machine counts, Nomad-style). */
export type Placement =
  | { readonly ok: true; readonly machine: MachineId }
  | { readonly ok: false; readonly evaluated: number; readonly rejected: ReadonlyMap<string, number> };

/**
 * Chooses a machine for one unit among those that pass every rule: with `SpreadBy=key`, the
 * machines whose value of `key` is least used by the unit's template siblings first; then the
 * least-loaded; ties to the lowest machine ID. Pure over `state`; does not record the decision.
 */
export function placeUnit(unit: UnitName, req: Requirements, state: PlacementState): Placement {
  const check = feasibility(unit, req, state);
  const spreadKey = req.spreadBy;
  const siblings = spreadKey === undefined ? undefined : state.siblingCounts(unit, spreadKey);
  const rejected = new Map<string, number>();
  let best: MachineId | undefined;
  let bestSpread = Infinity;
  let bestLoad = Infinity;
  for (const machine of state.machines) {
    const reason = check(machine);
    if (reason !== undefined) {
      rejected.set(reason, (rejected.get(reason) ?? 0) + 1);
      continue;
    }
    const spread = siblings === undefined || spreadKey === undefined ? 0 : siblings.get(state.scopeValue(machine.id, spreadKey)) ?? 0;
    const load = state.load(machine.id);
    // Machines come sorted by ID, so strict comparisons keep the lowest ID on ties.
    if (spread < bestSpread || (spread === bestSpread && load < bestLoad)) {
      best = machine.id;
      bestSpread = spread;
      bestLoad = load;
    }
  }
  if (best !== undefined) return { ok: true, machine: best };
  return { ok: false, evaluated: state.machines.length, rejected };
}

/** Renders a failed placement: `3 machines: 2 rejected by X, 1 by Y`, or `no machines in the cluster`. */
export function explainPlacement(placement: Extract<Placement, { ok: false }>): string {
  if (placement.evaluated === 0) return 'no machines in the cluster';
  const parts = [...placement.rejected].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const text = parts.map(([reason, n], i) => (i === 0 ? `${n} rejected by ${reason}` : `${n} by ${reason}`)).join(', ');
  return `${placement.evaluated} machine${placement.evaluated === 1 ? '' : 's'}: ${text}`;
}
