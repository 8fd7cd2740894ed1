
import type { TargetState } from '@fleet/engine/model';
import type { CommandModule } from 'yargs';
import type { FleetApiClient, ApiUnit } from '../api-client.js';
import { ensureUnits, refuseTemplates } from '../ensure-units.js';
import { MachineDirectory } from '../machine-directory.js';
import { isGlobalUnit } from '../unit-info.js';
import { UnitsNotReadyError, waitForUnits } from '../wait.js';
import type { WaitGoal } from '../wait.js';
import { blockAttempts, refuseSign, unitArgs, unitsPositional, withBlockFlags, withReplaceFlag, withSignFlag } from './context.js';
import type { BlockArgs, CommandDeps, GlobalArgs, ReplaceArgs, SignArgs } from './context.js';
import { findUnits } from './find-units.js';

/** What one command needs to change desired states and wait for them. */
export interface Driver {
  readonly deps: CommandDeps;
  readonly client: FleetApiClient;
  /** The machine IPs of the command's success lines: one machine list for all of its waits. */
  readonly machines: MachineDirectory;
  /** fleet's getBlockAttempts (see `blockAttempts`): `-1` does not wait, `0` waits forever. */
  readonly attempts: number;
}

export function driver(deps: CommandDeps, client: FleetApiClient, attempts: number): Driver {
  return { deps, client, machines: new MachineDirectory(client), attempts };
}

/**
 * Sets the desired state of each unit (skipping units already there), then waits as fleet does
 * (`replaced`: the units whose options `--replace` just changed, see `WaitOptions.replaced`):
 * global units never block (`Triggered global unit X start`), `--no-block` (attempts `-1`) prints
 * `Triggered unit X start`, otherwise {@link waitForUnits}. Throws one {@link UnitsNotReadyError}
 * naming every unit that failed or timed out.
 */
export async function driveUnits(
  d: Driver,
  units: readonly ApiUnit[],
  target: TargetState,
  verb: Exclude<WaitGoal, 'destroy'>,
  replaced: ReadonlySet<string> = new Set(),
): Promise<void> {
  const blocking: string[] = [];
  for (const unit of units) {
    if (unit.desiredState !== target) await d.client.setDesiredState(unit.name, target);
    if (isGlobalUnit(unit)) d.deps.output.out(`Triggered global unit ${unit.name} ${verb}\n`);
    else blocking.push(unit.name);
  }
  await waitOrTrigger(d, blocking, verb, replaced);
}

/** Waits for `names` to reach `goal`, or with attempts `-1` just says they were triggered. */
export async function waitOrTrigger(d: Driver, names: readonly string[], goal: WaitGoal, replaced: ReadonlySet<string> = new Set()): Promise<void> {
  if (names.length === 0) return;
  const { output, clock } = d.deps;
  if (d.attempts < 0) {
    for (const name of names) output.out(goal === 'destroy' ? `Destroyed ${name}\n` : `Triggered unit ${name} ${goal}\n`);
    return;
  }
  const failures = await waitForUnits(d.client, d.machines, names, goal, output, { attempts: d.attempts, clock, replaced });
  // One error for all failures (one line: fleetctl prints `Error: <message>`).
  if (failures.length > 0) throw new UnitsNotReadyError(failures);
}

export type SubmitAndDriveArgs = GlobalArgs & BlockArgs & ReplaceArgs & SignArgs & { units: string[] };

/**
 * `load` and `start`: submit the units if need be (see `ensureUnits`; templates are refused), then
 * set the desired state `target` and wait until fleet reports it (`start`: and systemd reports the
 * unit `active` on its machine).
 */
export function submitAndDriveCommand(
  deps: CommandDeps,
  verb: 'load' | 'start',
  target: 'loaded' | 'launched',
  describe: string,
): CommandModule<GlobalArgs, SubmitAndDriveArgs> {
  return {
    command: `${verb} <units..>`,
    describe,
    builder: (y) => withSignFlag(withReplaceFlag(withBlockFlags(y.positional('units', unitsPositional), deps.env, target))),
    handler: async (args) => {
      refuseSign(args);
      const names = unitArgs(args);
      const attempts = blockAttempts(args);
      refuseTemplates(names, verb);
      const client = await deps.client(args);
      const units = await ensureUnits(names, { client, readFile: deps.readFile, output: deps.output, replace: args.replace, clock: deps.clock });
      const replaced = new Set(units.filter((u) => u.outcome === 'replaced').map((u) => u.name));
      await driveUnits(driver(deps, client, attempts), units.map((u) => u.unit), target, verb, replaced);
    },
  };
}

export type DriveArgs = GlobalArgs & BlockArgs & { units: string[] };

/** How {@link driveRegisteredCommand} builds `stop` or `unload`. */
export interface DriveCommandSpec {
  readonly verb: 'stop' | 'unload';
  readonly target: TargetState;
  readonly describe: string;
  /** Completes "Wait until the units are ..." in the help of the blocking flags. */
  readonly waitsUntil: string;
  /** Throws for a unit the command refuses; called for every unit before anything changes. */
  readonly check?: (unit: ApiUnit) => void;
}

/**
 * `stop` and `unload`: set the desired state of the registered units the arguments name (skipping
 * names the registry does not know) and wait until fleet reports it.
 */
export function driveRegisteredCommand(deps: CommandDeps, spec: DriveCommandSpec): CommandModule<GlobalArgs, DriveArgs> {
  return {
    command: `${spec.verb} <units..>`,
    describe: spec.describe,
    builder: (y) => withBlockFlags(y.positional('units', unitsPositional), deps.env, spec.waitsUntil),
    handler: async (args) => {
      const attempts = blockAttempts(args);
      const client = await deps.client(args);
      const units = await findUnits(client, unitArgs(args));
      for (const unit of units) spec.check?.(unit);
      await driveUnits(driver(deps, client, attempts), units, spec.target, spec.verb);
    },
  };
}
