import { FleetError } from '@fleet/engine';
import type { Clock } from '@fleet/engine';
import type { WireUnitState } from '@fleet/engine/api';
import { hashUnitFile } from '@fleet/engine/model';
import type { FleetApiClient, ApiUnit } from './api-client.js';
import type { MachineDirectory } from './machine-directory.js';
import type { Output } from './output.js';
import { unitReason } from './unit-info.js';

/** What a command waits for after changing desired states. */
export type WaitGoal = 'start' | 'load' | 'stop' | 'unload' | 'destroy';

/** The fleet state each goal reports, as in fleet's "timed out ... to report state X". */
const goalState: Readonly<Record<WaitGoal, string>> = {
  start: 'launched',
  load: 'loaded',
  stop: 'loaded',
  unload: 'inactive',
  destroy: 'destroyed',
};

/** fleet polls every 250 ms (FLEET.md §1.7). */
const pollIntervalMs = 250;
/** How often a progress line per waiting unit goes to stderr. */
const progressIntervalMs = 2_000;

/** How long to poll. */
export interface WaitOptions {
  /** Polls per unit before giving up; `0` polls until done (fleet's `--block-attempts`). */
  readonly attempts: number;
  readonly clock: Clock;
  /**
   * Units whose options the command just replaced (`--replace`): `load` then also waits until the
   * unit's machine reports the new unit file (`start` always does).
   */
  readonly replaced?: ReadonlySet<string>;
}

/** A unit that did not reach its goal: it failed, vanished, or the attempts ran out. */
export interface WaitFailure {
  readonly name: string;
  readonly kind: 'failed' | 'timed-out';
  readonly message: string;
}

/**
 * Some units did not reach their goal; the message names each (one line). Code `TIMEOUT` when the
 * attempts ran out, `SYSTEMD_FAILED` when a unit failed.
 */
export class UnitsNotReadyError extends FleetError {
  override readonly name = 'UnitsNotReadyError';
  constructor(readonly failures: readonly WaitFailure[]) {
    super(failures.some((f) => f.kind === 'failed') ? 'SYSTEMD_FAILED' : 'TIMEOUT', failures.map((f) => f.message).join('; '));
  }
}

/** What one poll saw of one unit. */
interface Observation {
  readonly unit: ApiUnit | undefined;
  /** systemd's state on the machine the unit is scheduled to, when reported. */
  readonly state: WireUnitState | undefined;
  /** Set when the poll itself failed; the wait goes on. */
  readonly error?: string;
}

type Verdict = 'done' | 'failed' | 'pending';

// systemd states in which a unit is, or is about to be, running.
const runningStates = new Set(['active', 'activating', 'deactivating', 'reloading']);

/**
 * Polls the API until every unit reaches `goal`, printing fleet's success line for each to stdout
 * (`Unit hello.service launched on c31e44e1.../10.10.1.1`, `Destroyed hello.service`...) and, every
 * few seconds, a `Waiting for ...` line per unit still pending to stderr. When the API gives a
 * `reason` (why the engine cannot place the unit), the progress line and the timeout message end
 * with it: `Waiting for hello.service: not scheduled: <reason>`, `timed out waiting for unit
 * hello.service to report state launched after 3 attempts (not scheduled): <reason>`. One attempt
 * is one poll of the pending units.
 *
 * `start` waits for the fleet state `launched` and systemd's ActiveState `active` on the unit's
 * machine, for the unit file the registry holds now: a state entry whose `hash` differs (the
 * previous version, still running after `--replace`) does not count, neither as done nor as failed.
 * It gives up on a unit as soon as systemd reports that file `failed`. `load` waits for `loaded`
 * (and, for units in `replaced`, for the machine to report the new hash). `stop` waits for `loaded`
 * and an ActiveState that is not running. Resolves the units that did not make it (empty on
 * success); never rejects.
 */
export async function waitForUnits(
  client: FleetApiClient,
  machines: MachineDirectory,
  names: readonly string[],
  goal: WaitGoal,
  output: Output,
  options: WaitOptions,
): Promise<WaitFailure[]> {
  const { clock, attempts } = options;
  const replaced = options.replaced ?? new Set<string>();
  const pending = [...new Set(names)];
  const failures: WaitFailure[] = [];
  const lastStatus = new Map<string, Status>();
  let lastProgress = clock.now();
  for (let attempt = 1; pending.length > 0; attempt++) {
    const seen = await Promise.all(pending.map((name) => observe(client, name, goal, replaced.has(name))));
    const still: string[] = [];
    for (const [i, name] of pending.entries()) {
      const obs = seen[i] as Observation;
      const verdict = judge(goal, obs, replaced.has(name));
      if (verdict === 'done') output.out(`${await successLine(name, goal, obs, machines)}\n`);
      else if (verdict === 'failed') failures.push({ name, kind: 'failed', message: await failureMessage(name, goal, obs, machines) });
      else {
        still.push(name);
        lastStatus.set(name, await describe(goal, obs, machines));
      }
    }
    pending.splice(0, pending.length, ...still);
    if (pending.length === 0) break;
    if (attempts > 0 && attempt >= attempts) {
      for (const name of pending) {
        const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
        failures.push({
          name,
          kind: 'timed-out',
          message: timeoutMessage(name, goal, tries, lastStatus.get(name)),
        });
      }
      break;
    }
    if (clock.now() - lastProgress >= progressIntervalMs) {
      for (const name of pending) output.err(`Waiting for ${name}: ${progressText(lastStatus.get(name))}\n`);
      lastProgress = clock.now();
    }
    await clock.sleep(pollIntervalMs);
  }
  return failures;
}

async function observe(client: FleetApiClient, name: string, goal: WaitGoal, replaced: boolean): Promise<Observation> {
  try {
    const unit = await client.getUnit(name);
    const needsState = goal === 'start' || goal === 'stop' || (goal === 'load' && replaced);
    if (unit === undefined || unit.machineID === undefined || !needsState) {
      return { unit, state: undefined };
    }
    const states = await client.listUnitStates({ unitName: name, machineID: unit.machineID });
    return { unit, state: states.find((s) => s.name === name && s.machineID === unit.machineID) };
  } catch (err) {
    return { unit: undefined, state: undefined, error: err instanceof Error ? err.message : String(err) };
  }
}

function judge(goal: WaitGoal, obs: Observation, replaced: boolean): Verdict {
  if (obs.error !== undefined) return 'pending';
  const { unit, state } = obs;
  if (goal === 'destroy') return unit === undefined ? 'done' : 'pending';
  // The unit was there when the command started: if it is gone now, someone destroyed it.
  if (unit === undefined) return 'failed';
  switch (goal) {
    case 'load':
      if (unit.currentState !== 'loaded') return 'pending';
      return !replaced || (state !== undefined && runsCurrentFile(unit, state)) ? 'done' : 'pending';
    case 'unload':
      return unit.currentState === 'inactive' ? 'done' : 'pending';
    case 'stop':
      if (unit.currentState !== 'loaded') return 'pending';
      return state === undefined || !runningStates.has(state.systemdActiveState) ? 'done' : 'pending';
    case 'start':
      if (unit.currentState !== 'launched' || state === undefined || !runsCurrentFile(unit, state)) return 'pending';
      if (state.systemdActiveState === 'failed') return 'failed';
      return state.systemdActiveState === 'active' ? 'done' : 'pending';
  }
}

/** The machine reports the unit file the registry holds now (not the one a `--replace` replaced). */
function runsCurrentFile(unit: ApiUnit, state: WireUnitState): boolean {
  return state.hash === hashUnitFile(unit.options);
}

async function successLine(name: string, goal: WaitGoal, obs: Observation, machines: MachineDirectory): Promise<string> {
  if (goal === 'destroy') return `Destroyed ${name}`;
  const unit = obs.unit as ApiUnit;
  const where = unit.machineID === undefined ? '' : ` on ${await machines.legend(unit.machineID)}`;
  return `Unit ${name} ${unit.currentState}${where}`;
}

async function failureMessage(name: string, goal: WaitGoal, obs: Observation, machines: MachineDirectory): Promise<string> {
  const { unit, state } = obs;
  if (unit === undefined) return `unit ${name} was destroyed while waiting for it to report state ${goalState[goal]}`;
  const where = unit.machineID === undefined ? '' : ` on ${await machines.legend(unit.machineID)}`;
  const sub = state === undefined ? '' : ` (${state.systemdActiveState}/${state.systemdSubState})`;
  return `unit ${name} failed to start${where}${sub}`;
}

/** Where a pending unit stands, and the API's reason why it is not placed (when it gives one). */
interface Status {
  readonly where: string;
  readonly reason?: string;
}

function progressText(status: Status | undefined): string {
  if (status === undefined) return 'no answer yet';
  return status.reason === undefined ? status.where : `${status.where}: ${status.reason}`;
}

// The reason comes last, so that the message ends with it.
function timeoutMessage(name: string, goal: WaitGoal, tries: string, status: Status | undefined): string {
  const head = `timed out waiting for unit ${name} to report state ${goalState[goal]} after ${tries}`;
  if (status === undefined) return `${head} (no answer)`;
  return status.reason === undefined ? `${head} (${status.where})` : `${head} (${status.where}): ${status.reason}`;
}

/** The status shown in progress lines and timeout messages. */
async function describe(goal: WaitGoal, obs: Observation, machines: MachineDirectory): Promise<Status> {
  if (obs.error !== undefined) return { where: obs.error };
  const { unit, state } = obs;
  if (unit === undefined) return { where: 'not found' };
  if (goal === 'destroy') return { where: 'still registered' };
  const reason = unitReason(unit);
  if (unit.machineID === undefined) {
    return reason === undefined ? { where: `not scheduled (state ${unit.currentState})` } : { where: 'not scheduled', reason };
  }
  const legend = await machines.legend(unit.machineID);
  const systemd = state === undefined ? `state ${unit.currentState}` : `${state.systemdActiveState}/${state.systemdSubState}`;
  const previous =
    state === undefined || runsCurrentFile(unit, state) ? '' : ` with the previous unit file ${state.hash.slice(0, 7)} (waiting for ${hashUnitFile(unit.options).slice(0, 7)})`;
  const where = `scheduled on ${legend}, ${systemd}${previous}`;
  return reason === undefined ? { where } : { where, reason };
}
