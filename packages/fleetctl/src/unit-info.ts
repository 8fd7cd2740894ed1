import { optionValues } from '@fleet/engine/model';
import type { WireUnit } from '@fleet/engine/api';
import type { UnitFile } from '@fleet/engine/model';

const truthy = new Set(['true', 'yes', '1', 'on', 't']);

/** `[X-Fleet] Global=` is truthy (last value wins, case-insensitive), as in fleet's `job.IsGlobal`. */
export function isGlobalUnit(file: UnitFile): boolean {
  const values = optionValues(file, 'X-Fleet', 'Global');
  const last = values[values.length - 1];
  return last !== undefined && truthy.has(last.trim().toLowerCase());
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
export function unitReason(unit: WireUnit): string | undefined {
  const reason: unknown = unit.reason;
  return typeof reason === 'string' && reason !== '' ? reason : undefined;
}
