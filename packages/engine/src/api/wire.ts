/**
 * The JSON shapes of fleet's HTTP API v1 (fleet's schema/v1.json). Field names are fleet's, so existing
 * clients keep working. Shared by the server (here) and the client (fleetctl).
 */

/** One unit-file option. */
export interface WireUnitOption {
  section: string;
  name: string;
  value: string;
}

/** `GET /fleet/v1/units[/<name>]`. */
export interface WireUnit {
  name: string;
  options: WireUnitOption[];
  /** `inactive` | `loaded` | `launched`. */
  desiredState: string;
  /** What the engine has achieved: `inactive` when not scheduled, else the scheduled target state. */
  currentState: string;
  /** Machine the unit is scheduled to; absent when not scheduled (and for global units). */
  machineID?: string;
  /**
   * Ours (absent in fleet): why the engine cannot place the unit, with machine counts per rule,
   * e.g. `3 machines: 2 rejected by MachineMetadata rack=r3, 1 by Conflicts=db*`.
   */
  reason?: string;
}

/** `GET /fleet/v1/units` page. */
export interface WireUnitPage {
  units: WireUnit[];
  nextPageToken?: string;
}

/**
 * `PUT /fleet/v1/units/<name>` body: create (with options; 201), set the desired state (without
 * options, or with options of the same hash; 204), or replace the options (a different hash; 204).
 */
export interface WireUnitPut {
  name?: string;
  desiredState: string;
  options?: WireUnitOption[];
}

/** `GET /fleet/v1/state` entry: systemd's view of a unit on one machine. */
export interface WireUnitState {
  name: string;
  hash: string;
  machineID: string;
  systemdLoadState: string;
  systemdActiveState: string;
  systemdSubState: string;
}

export interface WireUnitStatePage {
  states: WireUnitState[];
  nextPageToken?: string;
}

/** `GET /fleet/v1/machines` entry. */
export interface WireMachine {
  id: string;
  primaryIP: string;
  metadata: Record<string, string>;
}

export interface WireMachinePage {
  machines: WireMachine[];
  nextPageToken?: string;
}

/**
 * One operation of a `PATCH /fleet/v1/machines` body (an array of them, applied all or none).
 * `add` and `replace` set the key, `remove` drops it (even a key from fleetd's configuration).
 */
export interface WireMachineMetadataOp {
  op: 'add' | 'remove' | 'replace';
  /** `/<machine ID>/metadata/<key>`; the key is `[A-Za-z0-9_.-]+`. */
  path: string;
  /** Required and non-empty for `add` and `replace`; ignored for `remove`. */
  value?: string;
}

/** Error body of every non-2xx answer. */
export interface WireError {
  error: { code: number; message: string };
}

/** Path prefixes the API is served under. */
export const apiPrefixes = ['/fleet/v1', '/v1-alpha'] as const;
