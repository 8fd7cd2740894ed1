import type { MachineId, UnitName } from '@fleet/core/model';
import { compareKeys } from '@fleet/core/registry';

/**
 * The one order of every API listing, fleet's: units by name, machines by ID, unit states by unit
 * name and then machine ID (fleet's `MUSKeys`). fleet compares with Go's `<` on strings, byte
 * order; for the ASCII that unit names and machine IDs are made of, that is JavaScript's `<` too.
 * Not `localeCompare`: locale collation ignores case and punctuation at first, so `a-b` and `ab`,
 * or `B` and `a`, would list in another order than fleet's, and a page token is an offset into
 * this order. The comparison itself lives in @fleet/core's registry, whose cluster view keeps its
 * indexes in this order, so that pages are read, not sorted.
 */
export { compareKeys };

/** Unit names in listing order (a new array). */
export function inUnitOrder(names: Iterable<UnitName>): UnitName[] {
  return [...names].sort(compareKeys);
}

/** Machines in listing order, by ID (a new array). */
export function inMachineOrder<M extends { readonly id: MachineId }>(machines: Iterable<M>): M[] {
  return [...machines].sort((a, b) => compareKeys(a.id, b.id));
}

/** Unit states in listing order, by unit name and then machine ID (a new array). */
export function inStateOrder<S extends { readonly name: UnitName; readonly machineId: MachineId }>(states: Iterable<S>): S[] {
  return [...states].sort((a, b) => compareKeys(a.name, b.name) || compareKeys(a.machineId, b.machineId));
}
