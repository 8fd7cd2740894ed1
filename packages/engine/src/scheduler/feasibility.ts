import type { MachineId, MachineState, Requirements, UnitName } from '@fleet/core/model';
import type { PlacementState } from './placement-state.js';

/** Why a machine cannot run a unit (a short rule text, counted per reason), or undefined if it can. */
export type Feasibility = (machine: MachineState) => string | undefined;

/**
 * Builds the feasibility check of one unit against the current placement, in fleet's predicate
 * order: MachineID → MachineMetadata → MachineOf → Conflicts (both directions, per machine or per
 * ConflictsScope) → Replaces (a unit that replaces this one blocks its machine). Everything that
 * depends only on the unit is computed once here, so the per-machine check is a few map lookups.
 */
export function feasibility(unit: UnitName, req: Requirements, state: PlacementState): Feasibility {
  const pinned = resolveMachineId(req.machineId, state.machines);
  const peers = req.machineOf.map((peer) => ({ peer, machine: state.machineOf(peer) }));
  const blockedMachines = new Map<MachineId, string>();
  const blockedScopes = new Map<string, Map<string, string>>();
  const blockScope = (key: string, value: string, reason: string): void => {
    let values = blockedScopes.get(key);
    if (values === undefined) blockedScopes.set(key, (values = new Map()));
    if (!values.has(value)) values.set(value, reason);
  };

  // This unit's own Conflicts=: machines (or scopes) where a matching unit is placed.
  for (const glob of req.conflicts) {
    for (const other of state.namesMatching(glob)) {
      if (other === unit) continue;
      const at = state.machineOf(other);
      if (at === undefined) continue;
      if (req.conflictsScope === undefined) {
        if (!blockedMachines.has(at)) blockedMachines.set(at, `Conflicts=${glob}`);
      } else {
        blockScope(req.conflictsScope, state.scopeValue(at, req.conflictsScope), `Conflicts=${glob} (ConflictsScope=${req.conflictsScope})`);
      }
    }
  }
  // Placed units whose Conflicts= match this unit: the rule is symmetric.
  for (const holder of state.conflictHoldersMatching(unit)) {
    if (holder.scope === undefined) {
      if (!blockedMachines.has(holder.machine)) blockedMachines.set(holder.machine, `Conflicts=${holder.glob} of ${holder.unit}`);
    } else {
      blockScope(holder.scope, state.scopeValue(holder.machine, holder.scope), `Conflicts=${holder.glob} (ConflictsScope=${holder.scope}) of ${holder.unit}`);
    }
  }
  // A placed unit that replaces this one keeps it off its machine, unless both are on a Replaces=
  // cycle (fleet ignores a pair that replace each other; see ReplacesCycles).
  const replacedOff = new Map<MachineId, string>();
  for (const holder of state.replaceHoldersMatching(unit)) {
    if (state.replacesCycles.ignored(holder.unit, unit)) continue;
    if (!replacedOff.has(holder.machine)) replacedOff.set(holder.machine, `Replaces=${holder.glob} of ${holder.unit}`);
  }

  return (machine) => {
    if (pinned !== undefined) {
      if (pinned.kind === 'ambiguous') return `MachineID=${req.machineId} (ambiguous)`;
      if (pinned.kind === 'unknown' || pinned.id !== machine.id) return `MachineID=${req.machineId}`;
    }
    for (const [key, values] of req.metadata) {
      const have = machine.metadata[key];
      if (have === undefined || !values.includes(have)) return `MachineMetadata ${values.map((v) => `${key}=${v}`).join('|')}`;
    }
    for (const { peer, machine: at } of peers) {
      if (at === undefined) return `MachineOf=${peer} (not scheduled)`;
      if (at !== machine.id) return `MachineOf=${peer}`;
    }
    const conflict = blockedMachines.get(machine.id);
    if (conflict !== undefined) return conflict;
    for (const [key, values] of blockedScopes) {
      const reason = values.get(state.scopeValue(machine.id, key));
      if (reason !== undefined) return reason;
    }
    return replacedOff.get(machine.id);
  };
}

type PinnedMachine = { kind: 'found'; id: MachineId } | { kind: 'unknown' } | { kind: 'ambiguous' };

/** Full ID, or an unambiguous prefix of one (fleet's MatchID also accepts short IDs). */
function resolveMachineId(wanted: string | undefined, machines: readonly MachineState[]): PinnedMachine | undefined {
  if (wanted === undefined) return undefined;
  const exact = machines.find((m) => m.id === wanted);
  if (exact !== undefined) return { kind: 'found', id: exact.id };
  const prefixed = wanted === '' ? [] : machines.filter((m) => m.id.startsWith(wanted));
  if (prefixed.length === 1 && prefixed[0] !== undefined) return { kind: 'found', id: prefixed[0].id };
  return prefixed.length > 1 ? { kind: 'ambiguous' } : { kind: 'unknown' };
}
