import { FleetError } from '../errors.js';
import type { MachineId } from './machine.js';
import type { UnitFile } from './unit-file.js';
import type { UnitName } from './unit-name.js';

/** fleet's desired (target) states, in order: known → assigned and loaded → started. */
export const targetStates = ['inactive', 'loaded', 'launched'] as const;
export type TargetState = (typeof targetStates)[number];

export function isTargetState(value: unknown): value is TargetState {
  return typeof value === 'string' && (targetStates as readonly string[]).includes(value);
}

/** Validates a desired state from untrusted input. */
export function parseTargetState(value: unknown): TargetState {
  if (isTargetState(value)) return value;
  throw new FleetError('INVALID_TARGET_STATE', `invalid desired state ${JSON.stringify(value)}: must be one of ${targetStates.join(', ')}`);
}

/** A unit as submitted: its file and the state the user wants it in. */
export interface Unit {
  readonly name: UnitName;
  readonly file: UnitFile;
  /** SHA1 of the serialised file (see `hashUnitFile`). */
  readonly hash: string;
  readonly desiredState: TargetState;
}

/** What the engine decided for one unit on one machine: the per-machine schedule entry. */
export interface ScheduledUnit {
  readonly name: UnitName;
  readonly machineId: MachineId;
  /** `loaded` or `launched`; an `inactive` unit is not scheduled. */
  readonly targetState: Exclude<TargetState, 'inactive'>;
  /** The unit file's hash the agent must load. */
  readonly hash: string;
}

/** systemd's view of a unit on one machine, as the agent reports it. Values are systemd's, verbatim. */
export interface UnitState {
  readonly name: UnitName;
  readonly machineId: MachineId;
  /** Hash of the unit file the agent loaded. */
  readonly hash: string;
  readonly loadState: string;
  readonly activeState: string;
  readonly subState: string;
  /**
   * What the machine's agent has brought the unit to: `launched` once it started the unit (or found
   * it running) for a `launched` target, `loaded` once the file is loaded. This is fleet's agent
   * heartbeat: a unit's `currentState` in the API is read from it. Absent: `loaded`.
   */
  readonly agentState?: Exclude<TargetState, 'inactive'>;
  /**
   * Ours: why the agent gave up on this file of the unit (systemd refused to load or start it for
   * good); it tries again once the unit's file changes. Absent: no such failure.
   */
  readonly failure?: string;
}
