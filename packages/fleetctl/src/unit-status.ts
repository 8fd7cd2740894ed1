import type { WireUnitState } from '@fleet/core/wire';
import type { FleetApiClient } from './api-client.js';
import { compareText } from './output.js';
import { isGlobalUnit, unitDescription, unitReason } from './unit-info.js';

/** systemd's view of a unit on one machine, as `GET /fleet/v1/state` reports it. */
export interface UnitMachineState {
  /** Full machine ID. */
  readonly machine: string;
  readonly load: string;
  readonly active: string;
  readonly sub: string;
  /** SHA1 of the unit file the machine runs. */
  readonly hash: string;
}

/**
 * What fleetctl knows about one unit from the API alone: the registry's record and every state
 * entry the machines report. Machine IDs are full; legends are the renderer's business.
 */
export interface UnitStatus {
  readonly unit: string;
  /** `[Unit] Description=`, `undefined` when the unit has none. */
  readonly description: string | undefined;
  readonly desiredState: string;
  readonly currentState: string;
  /** The machine the engine scheduled the unit to; `undefined` when not scheduled and for global units. */
  readonly machine: string | undefined;
  /** `[X-Fleet] Global=true`: runs on every matching machine (one state entry each). */
  readonly global: boolean;
  /** Why the engine cannot place the unit, when the API says. */
  readonly reason: string | undefined;
  /** One entry per reporting machine, sorted by machine ID. */
  readonly states: readonly UnitMachineState[];
  /**
   * systemd's own status from each machine of `states`, in the same order; `undefined` when not
   * asked for (see {@link withSystemdReports}).
   */
  readonly systemd?: readonly SystemdReport[];
}

/**
 * systemd's status of a unit on one machine, as that machine renders it
 * (`GET /fleet/v1/machines/<id>/units/<unit>/status`), or why it could not be read.
 */
export type SystemdReport =
  | { readonly machine: string; readonly ok: true; readonly text: string; readonly unit: unknown }
  | { readonly machine: string; readonly ok: false; readonly error: string };

/**
 * Reads the status of unit `name` through the API: `GET /units/<name>`, then
 * `GET /state?unitName=<name>`. Resolves `undefined` when the unit does not exist. API errors
 * reject as the client's errors.
 */
export async function collectUnitStatus(client: FleetApiClient, name: string): Promise<UnitStatus | undefined> {
  const unit = await client.getUnit(name);
  if (unit === undefined) return undefined;
  const reported = await client.listUnitStates({ unitName: name });
  const description = unitDescription(unit.options);
  return {
    unit: unit.name,
    description: description === '' ? undefined : description,
    desiredState: unit.desiredState,
    currentState: unit.currentState,
    machine: unit.machineID === undefined || unit.machineID === '' ? undefined : unit.machineID,
    global: isGlobalUnit(unit),
    reason: unitReason(unit),
    states: reported
      .filter((s) => s.name === name)
      .sort((a, b) => compareText(a.machineID, b.machineID))
      .map(machineState),
  };
}

/**
 * `status` with systemd's own status of the unit from every machine that reports a state for it
 * (one request each, in the order of `states`). Never rejects: a machine whose status cannot be
 * read (unknown, unreachable, etcd down...) gets a report with the error's message instead.
 */
export async function withSystemdReports(client: Pick<FleetApiClient, 'unitStatus'>, status: UnitStatus): Promise<UnitStatus> {
  const systemd: SystemdReport[] = [];
  for (const { machine } of status.states) {
    if (machine === '') continue;
    try {
      const { text, unit } = await client.unitStatus(machine, status.unit);
      systemd.push({ machine, ok: true, text, unit });
    } catch (err) {
      systemd.push({ machine, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return { ...status, systemd };
}

function machineState(s: WireUnitState): UnitMachineState {
  return { machine: s.machineID, load: s.systemdLoadState, active: s.systemdActiveState, sub: s.systemdSubState, hash: s.hash };
}
