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
  /**
   * Ours: base URL of the machine's fleetd API over TCP (`http://127.0.0.1:4001`), through which
   * other fleetds reach the unit status and logs this machine holds; absent without `api_listen`.
   */
  readonly apiUrl?: string;
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

/**
 * Metadata changes made through the API (`PATCH /fleet/v1/machines`), kept apart from what fleetd
 * was configured with: a string sets the key, `null` removes it (fleet's "" tombstone), even when
 * the configured metadata has it.
 */
export type MetadataOverrides = Readonly<Record<string, string | null>>;

/** Keys the API accepts in metadata paths (fleet's `[A-Za-z0-9_.-]+`). */
export const metadataKeyPattern = /^[A-Za-z0-9_.-]+$/;

/**
 * The effective metadata of a machine: the configured metadata with the overrides applied (an
 * override wins; a `null` override removes the key). Pure; `undefined` overrides change nothing.
 */
export function applyMetadataOverrides(configured: Metadata, overrides: MetadataOverrides | undefined): Metadata {
  if (overrides === undefined) return configured;
  const out = new Map(Object.entries(configured));
  for (const [key, value] of Object.entries(overrides)) {
    if (value === null) out.delete(key);
    else out.set(key, value);
  }
  // fromEntries defines own properties, so a key such as `__proto__` stays plain data.
  return Object.fromEntries(out);
}

/** One metadata change of a `PATCH /fleet/v1/machines`: set `key` to `value`, or remove it (`null`). */
export interface MetadataChange {
  readonly machineId: MachineId;
  readonly key: string;
  readonly value: string | null;
}

/**
 * The stored overrides after `changes`, applied in order (the last change of a key wins). Machines
 * whose overrides end up empty map to `{}`. Pure: `current` is not modified.
 */
export function patchMetadataOverrides(
  current: ReadonlyMap<MachineId, MetadataOverrides>,
  changes: readonly MetadataChange[],
): Map<MachineId, MetadataOverrides> {
  const working = new Map<MachineId, Map<string, string | null>>();
  for (const [id, o] of current) working.set(id, new Map(Object.entries(o)));
  for (const c of changes) {
    const o = working.get(c.machineId) ?? new Map<string, string | null>();
    o.set(c.key, c.value);
    working.set(c.machineId, o);
  }
  return new Map([...working].map(([id, o]) => [id, Object.fromEntries(o)]));
}

/** The 8-character short form fleetctl prints. */
export function shortMachineId(id: MachineId): string {
  return id.slice(0, 8);
}
