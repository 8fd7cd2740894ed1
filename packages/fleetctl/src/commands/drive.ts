import type { WireUnit } from '@fleet/engine/api';
import type { TargetState } from '@fleet/engine/model';
import type { FleetApiClient } from '../api-client.js';
import { MachineDirectory } from '../machine-directory.js';
import { isGlobalUnit } from '../unit-info.js';
import { UnitsNotReadyError, waitForUnits } from '../wait.js';
import type { WaitFailure, WaitGoal } from '../wait.js';
import type { CommandDeps } from './context.js';

/** The goal a desired state is driven for, and the verb fleet prints in "Triggered unit X <verb>". */
export type DriveVerb = Exclude<WaitGoal, 'destroy'>;

/**
 * Sets the desired state of each unit (skipping units already there), then waits as fleet does
 * (`replaced`: the units whose options `--replace` just changed, see `WaitOptions.replaced`):
 * global units never block (`Triggered global unit X start`), `--no-block` (attempts `-1`) prints
 * `Triggered unit X start`, otherwise {@link waitForUnits}. Throws one {@link UnitsNotReadyError}
 * naming every unit that failed or timed out.
 */
export async function driveUnits(
  deps: CommandDeps,
  client: FleetApiClient,
  units: readonly WireUnit[],
  target: TargetState,
  verb: DriveVerb,
  attempts: number,
  replaced: ReadonlySet<string> = new Set(),
): Promise<void> {
  const blocking: string[] = [];
  for (const unit of units) {
    if (unit.desiredState !== target) await client.setDesiredState(unit.name, target);
    if (isGlobalUnit(unit.options)) deps.output.out(`Triggered global unit ${unit.name} ${verb}\n`);
    else blocking.push(unit.name);
  }
  await waitOrTrigger(deps, client, blocking, verb, attempts, replaced);
}

/** Waits for `names` to reach `goal`, or with attempts `-1` just says they were triggered. */
export async function waitOrTrigger(
  deps: CommandDeps,
  client: FleetApiClient,
  names: readonly string[],
  goal: WaitGoal,
  attempts: number,
  replaced: ReadonlySet<string> = new Set(),
): Promise<void> {
  if (names.length === 0) return;
  if (attempts < 0) {
    for (const name of names) deps.output.out(goal === 'destroy' ? `Destroyed ${name}\n` : `Triggered unit ${name} ${goal}\n`);
    return;
  }
  const failures = await waitForUnits(client, new MachineDirectory(client), names, goal, deps.output, {
    attempts,
    clock: deps.clock,
    replaced,
  });
  throwIfFailed(failures);
}

/** One error for all failures (one line: fleetctl prints `Error: <message>`). */
export function throwIfFailed(failures: readonly WaitFailure[]): void {
  if (failures.length > 0) throw new UnitsNotReadyError(failures);
}
