import { FleetError } from '../errors.js';

/** A machine's ID: 32 lowercase hex digits, as in /etc/machine-id. */
export type MachineId = string & { readonly __brand: 'MachineId' };

/** Metadata as `key → value`; fleet's `metadata=k=v,k=v` option. */
export type Metadata = Readonly<Record<string, string>>;

/** A machine's presence record. */
export interface MachineState {
  readonly id: MachineId;
  readonly publicIp: string;
  readonly metadata: Metadata;
  /** fleetd version of the machine. */
  readonly version: string;
}

const machineIdPattern = /^[0-9a-f]{32}$/;

/** Validates a machine ID (trims a trailing newline, as /etc/machine-id has one). */
export function parseMachineId(value: string): MachineId {
  const id = value.trim();
  if (!machineIdPattern.test(id)) {
    throw new FleetError('INVALID_REQUEST', `invalid machine ID ${JSON.stringify(id)}: must be 32 lowercase hex digits`);
  }
  return id as MachineId;
}

/** True when `value` is a well-formed machine ID. */
export function isMachineId(value: unknown): value is MachineId {
  return typeof value === 'string' && machineIdPattern.test(value);
}

/**
 * Parses fleet's metadata syntax `k=v,k=v`: whitespace trimmed, the last duplicate key wins,
 * pairs with an empty key or without `=` are errors (fleet logs and drops them; we refuse them).
 */
export function parseMetadata(text: string): Metadata {
  const out: Record<string, string> = {};
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    const key = eq === -1 ? '' : pair.slice(0, eq).trim();
    if (eq === -1 || key === '') {
      throw new FleetError('INVALID_CONFIG', `invalid metadata pair ${JSON.stringify(pair.trim())}: expected key=value`);
    }
    out[key] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** The 8-character short form fleetctl prints. */
export function shortMachineId(id: MachineId): string {
  return id.slice(0, 8);
}
