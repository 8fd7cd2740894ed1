import type { ApiUnit } from './api-client.js';
import { optionValues, parseRequirements, unitNameProblem, type UnitFile, type UnitName } from '@fleet/core/model';

/**
 * Whether the unit is global, read with the engine's own `[X-Fleet]` parser so that fleetctl and
 * the engine never disagree (e.g. on `Global="true"`).
 */
export function isGlobalUnit(unit: Pick<ApiUnit, 'name' | 'options'>): boolean {
  if (unitNameProblem(unit.name) !== undefined) return false;
  return parseRequirements(unit.name as UnitName, unit.options).global;
}

/** `[Unit] Description=` (the last one), or `''`. */
export function unitDescription(file: UnitFile): string {
  const values = optionValues(file, 'Unit', 'Description');
  return values[values.length - 1] ?? '';
}

/**
 * The API's optional explanation of why the engine cannot place a unit (ours, absent in fleet),
 * e.g. `3 machines: 2 rejected by MachineMetadata rack=r3, 1 by Conflicts=db*`; `undefined` when
 * the API gives none (or an empty or non-string value).
 */
export function unitReason(unit: ApiUnit): string | undefined {
  const reason: unknown = unit.reason;
  return typeof reason === 'string' && reason !== '' ? reason : undefined;
}
