import type { MachineId, MachineState, UnitName } from '../model/index.js';

/** A feasibility check: `undefined` means the unit may run on the machine, a string is the rejection reason. */
export type Filter = (unit: UnitName, machine: MachineState) => string | undefined;

/** Where a unit goes, or why it cannot go anywhere (rejection reasons with machine counts, Nomad-style). */
export type Placement =
  | { readonly ok: true; readonly machine: MachineId }
  | { readonly ok: false; readonly evaluated: number; readonly rejected: ReadonlyMap<string, number> };

/** The view placement decisions are made on; `load` is updated by the caller as decisions are made. */
export interface PlacementView {
  /** Machines in ascending ID order (ties are broken by ID, deterministically). */
  readonly machines: readonly MachineState[];
  /** Units scheduled per machine. */
  readonly load: ReadonlyMap<MachineId, number>;
}

/**
 * Least-loaded placement among the machines that pass every filter; ties go to the lowest machine ID.
 * Pure. The constraint families (metadata, conflicts, co-location, pinning) plug in as filters.
 */
export function place(unit: UnitName, view: PlacementView, filters: readonly Filter[] = []): Placement {
  let best: MachineState | undefined;
  let bestLoad = Infinity;
  const rejected = new Map<string, number>();
  for (const machine of view.machines) {
    const reason = firstRejection(unit, machine, filters);
    if (reason !== undefined) {
      rejected.set(reason, (rejected.get(reason) ?? 0) + 1);
      continue;
    }
    const load = view.load.get(machine.id) ?? 0;
    if (load < bestLoad) {
      best = machine;
      bestLoad = load;
    }
  }
  if (best !== undefined) return { ok: true, machine: best.id };
  return { ok: false, evaluated: view.machines.length, rejected };
}

function firstRejection(unit: UnitName, machine: MachineState, filters: readonly Filter[]): string | undefined {
  for (const filter of filters) {
    const reason = filter(unit, machine);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

/** Renders a failed placement as text: `3 machines: 2 rejected by X, 1 by Y` / `no machines`. */
export function explainPlacement(placement: Extract<Placement, { ok: false }>): string {
  if (placement.evaluated === 0) return 'no machines in the cluster';
  const parts = [...placement.rejected].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const text = parts.map(([reason, n], i) => (i === 0 ? `${n} rejected by ${reason}` : `${n} by ${reason}`)).join(', ');
  return `${placement.evaluated} machine${placement.evaluated === 1 ? '' : 's'}: ${text}`;
}
