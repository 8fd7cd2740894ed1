import type { MachineId, MachineState, UnitName } from '@fleet/core/model';

/** A unit's systemd status as the machine that runs it renders it. */
export interface UnitStatusReport {
  /** systemctl-status-like text. */
  readonly text: string;
  /** The same as plain data (no library types). */
  readonly unit: unknown;
}

/** The answer of another fleetd to a forwarded request. */
export interface ForwardedResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: AsyncIterable<Uint8Array>;
}

/**
 * How the API reaches the systemd of the machine that runs a unit, so that `fleetctl status` and
 * `journal` work without SSH. fleetd implements the local half over D-Bus and journalctl (in
 * packages/agent) and the remote half by forwarding to the other machine's fleetd.
 */
export interface UnitInspection {
  /** The machine this fleetd runs on. */
  readonly machineId: MachineId;
  /** systemd's status of a unit on this machine (a unit systemd does not know reports `not-found`). */
  localStatus(unit: UnitName): Promise<UnitStatusReport>;
  /** The unit's log lines on this machine, newest `lines`, then new ones while `follow`. */
  localJournal(unit: UnitName, options: { lines: number; follow: boolean; signal: AbortSignal }): AsyncIterable<string>;
  /**
   * GETs `pathAndQuery` (e.g. `/fleet/v1/machines/<id>/units/x.service/status`) from `machine`'s
   * fleetd. Rejects when the machine cannot be reached.
   */
  forward(machine: MachineState, pathAndQuery: string, signal: AbortSignal): Promise<ForwardedResponse>;
}
