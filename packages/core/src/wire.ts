/**
 * The JSON shapes of fleet's HTTP API v1 (fleet's schema/v1.json). Field names are fleet's, so existing
 * clients keep working. Shared by the server (here) and the client (fleetctl).
 */

/**
 * One unit-file option. fleet leaves an empty `section` or `value` out (its schema marks both
 * optional), in requests and answers alike: absent means `""`.
 */
export interface WireUnitOption {
  section?: string;
  name: string;
  value?: string;
}

/** `GET /fleet/v1/units[/<name>]`. */
export interface WireUnit {
  name: string;
  options: WireUnitOption[];
  /** `inactive` | `loaded` | `launched`. */
  desiredState: string;
  /**
   * What the agent of the unit's machine has reported (fleet's heartbeat): `inactive` until then,
   * and for units not scheduled; `loaded` or `launched` after. Absent for global units, as in
   * fleet (they run on many machines).
   */
  currentState?: string;
  /** Machine the unit is scheduled to; absent when not scheduled (and for global units). */
  machineID?: string;
  /**
   * Ours (absent in fleet): why the engine cannot place the unit, with machine counts per rule,
   * e.g. `3 machines: 2 rejected by MachineMetadata rack=r3, 1 by Conflicts=db*`; or, when its
   * machine's systemd refused the unit for good, that failure.
   */
  reason?: string;
  /** Ours: why the agent of the unit's machine gave up on its current file (see `UnitState.failure`). */
  failure?: string;
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
  /** Absent on a create: the unit is stored `inactive` (fleet's client creates without one). */
  desiredState?: string;
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
  /** Ours (absent in fleet): why the machine's agent gave up on this unit file (see `UnitState.failure`). */
  failure?: string;
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
  /**
   * Required for `add` and `replace`, ignored for `remove`: fleet's form is an object with one
   * non-empty `value` string; the bare string is accepted too.
   */
  value?: { value: string } | string;
}

/** Error body of every non-2xx answer. */
export interface WireError {
  error: { code: number; message: string };
}

/** Path prefixes the API is served under. */
export const apiPrefixes = ['/fleet/v1', '/v1-alpha'] as const;
