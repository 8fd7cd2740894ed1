import type { Clock } from '@fleet/core';
import type { WireUnitState } from '@fleet/core/wire';
import { hashUnitFile, isRunningState, isStartedState, isTransitionalState } from '@fleet/core/model';
import type { FleetApiClient, ApiUnit } from './api-client.js';
import { errorText } from './fleet-text.js';
import type { MachineDirectory } from './machine-directory.js';
import type { Output } from './output.js';
import { fetchUnits } from './unit-batch.js';
import { isGlobalUnit, unitReason } from './unit-info.js';

/** fleet's job states, as its commands wait for them. */
export type JobState = 'inactive' | 'loaded' | 'launched';

/** What waiting needs; built once per command. */
export interface WaitContext {
  readonly client: FleetApiClient;
  /** The machine legends of the success lines: one machine list per command. */
  readonly machines: MachineDirectory;
  readonly output: Output;
  readonly clock: Clock;
  /**
   * stderr is a terminal: progress lines (`Waiting for X: ...`) and the reason a wait failed may
   * be printed there. Never set when fleetctl's output goes to a script, whose output must be
   * exactly fleet's.
   */
  readonly interactive: boolean;
}

/** How one wait behaves beyond fleet's state check. */
export interface WaitOptions {
  /**
   * Ours: the state is only reached once systemd no longer runs the unit (`stop`; fleet returns
   * as soon as the registry says `loaded`, while the unit may still be stopping).
   */
  readonly untilStopped?: boolean;
  /**
   * Units whose file the command just replaced: the state only counts once their machine reports
   * the new file (a previous version's report would otherwise pass for the new one).
   */
  readonly replaced?: ReadonlySet<string>;
  /**
   * The state word of the success lines instead of the unit's current state: fleet's `restart`
   * says `launched` after its stop as well.
   */
  readonly reportAs?: string;
  /** Print no success lines (ours: `restart --no-block` still waits for its stop, silently). */
  readonly silent?: boolean;
}

/** Why a wait ended without every unit there: fleet's message, and what we know about it. */
export interface WaitFailure {
  /** fleet's words: `timed out waiting for unit X to report state launched`. */
  readonly message: string;
  /** Ours, for a terminal only: where the unit stands and why (the API's reason). */
  readonly detail: string;
}

/** fleet polls every 500 ms (its `defaultSleepTime`). */
const pollIntervalMs = 500;
/** How often a progress line per waiting unit goes to a terminal. */
const progressIntervalMs = 2_000;

/**
 * fleet's `tryWaitForUnitStates`: with `attempts < 0` (`--no-block`) prints `Triggered unit X
 * <verb>` for each unit and returns; otherwise polls every unit every 500 ms until its state
 * (the desired state for a global unit, whose current state is always empty) is `state`, printing
 * fleet's line as each arrives (`Unit X launched on c31e44e1.../10.10.1.1`, the machine left out
 * when unknown). `attempts` 0 polls forever, N gives up after N polls with the first unit still
 * pending; a unit whose machine's systemd refused it for good (the API's `failure`, ours) ends
 * the wait at once. Resolves the failure, or `undefined`; never rejects (a failed poll is retried).
 */
export async function waitForUnitStates(
  ctx: WaitContext,
  names: readonly string[],
  verb: string,
  state: JobState,
  attempts: number,
  options: WaitOptions = {},
): Promise<WaitFailure | undefined> {
  if (attempts < 0) {
    for (const name of names) ctx.output.out(`Triggered unit ${name} ${verb}\n`);
    return undefined;
  }
  const pending = [...names];
  const last = new Map<string, Observation>();
  let progressAt = ctx.clock.now() + progressIntervalMs;
  for (let round = 1; pending.length > 0; round++) {
    const seen = await observeAll(ctx.client, pending, (name) => needsState(name, options));
    const still: string[] = [];
    for (const name of pending) {
      const obs = seen.get(name) as Observation;
      last.set(name, obs);
      if (!reached(obs, state, options.untilStopped === true, options.replaced?.has(name) === true)) still.push(name);
      else if (options.silent !== true) ctx.output.out(`${await successLine(ctx, name, obs.unit as ApiUnit, options.reportAs)}\n`);
    }
    pending.splice(0, pending.length, ...still);
    const first = pending[0];
    if (first === undefined) break;
    // Ours: a unit its machine's systemd refused for good will not get there; say so instead of waiting.
    const refused = state === 'inactive' ? undefined : pending.find((name) => last.get(name)?.unit?.failure !== undefined);
    if (refused !== undefined) {
      return { message: `unit ${refused} cannot reach state ${state}: ${last.get(refused)?.unit?.failure ?? ''}`, detail: await describe(ctx, refused, last.get(refused)) };
    }
    if (attempts > 0 && round >= attempts) {
      return { message: `timed out waiting for unit ${first} to report state ${state}`, detail: await describe(ctx, first, last.get(first)) };
    }
    if (ctx.interactive && ctx.clock.now() >= progressAt) {
      for (const name of pending) ctx.output.err(`Waiting for ${name}: ${await describe(ctx, name, last.get(name))}\n`);
      progressAt = ctx.clock.now() + progressIntervalMs;
    }
    await ctx.clock.sleep(pollIntervalMs);
  }
  return undefined;
}

/** What one poll saw of one unit. */
interface Observation {
  readonly unit: ApiUnit | undefined;
  /** systemd's state on the machine the unit is scheduled to, when asked for and reported. */
  readonly state: WireUnitState | undefined;
  /** Set when the poll itself failed. */
  readonly error?: string;
}

function needsState(name: string, options: WaitOptions): boolean {
  return options.untilStopped === true || options.replaced?.has(name) === true;
}

/**
 * One poll of every pending unit: the units in one request (see {@link fetchUnits}) and, when some
 * need systemd's state, the states in one more (all of them, or the one unit's when only one
 * does). A failed request makes every unit's observation that error.
 */
async function observeAll(client: FleetApiClient, names: readonly string[], withState: (name: string) => boolean): Promise<Map<string, Observation>> {
  const seen = new Map<string, Observation>();
  try {
    const units = await fetchUnits(client, names);
    const stated = names.filter((n) => withState(n) && (units.get(n)?.machineID ?? '') !== '');
    const states = stated.length === 0 ? [] : await client.listUnitStates(stated.length === 1 ? { unitName: stated[0] as string } : {});
    for (const name of names) {
      const unit = units.get(name);
      const machineID = unit?.machineID ?? '';
      const state = machineID !== '' && withState(name) ? states.find((s) => s.name === name && s.machineID === machineID) : undefined;
      seen.set(name, { unit, state });
    }
  } catch (err) {
    for (const name of names) seen.set(name, { unit: undefined, state: undefined, error: errorText(err) });
  }
  return seen;
}

function reached(obs: Observation, state: JobState, untilStopped: boolean, replaced: boolean): boolean {
  const { unit, state: systemd } = obs;
  if (unit === undefined) return false;
  const current = isGlobalUnit(unit) ? unit.desiredState : unit.currentState;
  if (current !== state) return false;
  if (replaced && state !== 'inactive' && (systemd === undefined || !runsCurrentFile(unit, systemd))) return false;
  return !untilStopped || systemd === undefined || !isRunningState(systemd.systemdActiveState);
}

/** The machine reports the unit file the registry holds now (not the one a `--replace` replaced). */
function runsCurrentFile(unit: ApiUnit, state: WireUnitState): boolean {
  return state.hash === hashUnitFile(unit.options);
}

async function successLine(ctx: WaitContext, name: string, unit: ApiUnit, reportAs: string | undefined): Promise<string> {
  const legend = unit.machineID === undefined || unit.machineID === '' ? undefined : await ctx.machines.legend(unit.machineID);
  return `Unit ${name} ${reportAs ?? unit.currentState}${legend === undefined ? '' : ` on ${legend}`}`;
}

/** Where a pending unit stands, ending with the API's reason why it is not placed (ours). */
async function describe(ctx: WaitContext, name: string, obs: Observation | undefined): Promise<string> {
  if (obs === undefined) return `${name}: no answer yet`;
  if (obs.error !== undefined) return `${name}: ${obs.error}`;
  const { unit, state } = obs;
  if (unit === undefined) return `${name} is not in the registry`;
  const reason = unitReason(unit);
  const why = reason === undefined ? '' : `: ${reason}`;
  if (unit.machineID === undefined || unit.machineID === '') return `${name} is not scheduled (state ${unit.currentState || '-'})${why}`;
  const legend = (await ctx.machines.legend(unit.machineID)) ?? unit.machineID;
  const systemd = state === undefined ? `state ${unit.currentState}` : `${state.systemdActiveState}/${state.systemdSubState}`;
  const previous =
    state === undefined || runsCurrentFile(unit, state) ? '' : ` with the previous unit file ${state.hash.slice(0, 7)} (waiting for ${hashUnitFile(unit.options).slice(0, 7)})`;
  return `${name} is scheduled on ${legend}, ${systemd}${previous}${why}`;
}

/** fleet gives systemd this long to report a launched unit active. */
const activeWindowMs = 2_000;
const activePollMs = 250;

/**
 * fleet's check after `start`: with `attempts < 0` prints `Triggered unit X start` again (fleet
 * does); otherwise polls systemd's states every 250 ms until each unit is `active` on its machine
 * with the unit file the registry holds. A unit that is not within 2 s fails (fleet's `Failed to
 * find an active unit X within 2s`). Unlike fleet, the 2 s start again while systemd reports the
 * unit activating or still runs the previous file, so that a slow start is waited for. `units` are
 * the units as the state wait last saw them. Resolves the first failure, or `undefined`.
 */
export async function waitForActive(ctx: WaitContext, units: readonly ApiUnit[], attempts: number): Promise<WaitFailure | undefined> {
  if (attempts < 0) {
    for (const unit of units) ctx.output.out(`Triggered unit ${unit.name} start\n`);
    return undefined;
  }
  const pending = new Map(units.map((u) => [u.name, { unit: u, since: ctx.clock.now() }]));
  while (pending.size > 0) {
    const states = await ctx.client.listUnitStates().catch(() => undefined);
    for (const [name, entry] of pending) {
      const state = states?.find((s) => s.name === name && (entry.unit.machineID === undefined || s.machineID === entry.unit.machineID));
      if (state !== undefined && runsCurrentFile(entry.unit, state) && isStartedState(state.systemdActiveState)) {
        pending.delete(name);
        continue;
      }
      // While systemd is on its way, the window starts again: fleet's fixed 2 s fail slow starts.
      if (state !== undefined && (isTransitionalState(state.systemdActiveState) || !runsCurrentFile(entry.unit, state))) entry.since = ctx.clock.now();
      if (ctx.clock.now() - entry.since >= activeWindowMs) {
        const seen = state === undefined ? 'no state reported' : `${state.systemdActiveState}/${state.systemdSubState}`;
        return { message: `Failed to find an active unit ${name} within 2s, err: Failed to fetch states within 2s`, detail: `${name}: systemd reports ${seen}` };
      }
    }
    if (pending.size > 0) await ctx.clock.sleep(activePollMs);
  }
  return undefined;
}

/**
 * The lines fleet prints when a wait fails, then (on a terminal only) ours: `Error waiting for
 * units: <message>`, `<then> <message>`, the detail. For {@link CommandFailed}.
 */
export function failureLines(ctx: Pick<WaitContext, 'interactive'>, failure: WaitFailure, then: string): string[] {
  const lines = [`Error waiting for units: ${failure.message}`, `${then}${failure.message}`];
  return ctx.interactive ? [...lines, failure.detail] : lines;
}

/** The units as they are now, in `names`' order, skipping those that are gone (one request). For {@link waitForActive}. */
export async function currentUnits(client: FleetApiClient, names: readonly string[]): Promise<ApiUnit[]> {
  const units = await fetchUnits(client, names).catch(async () => {
    // One failed listing must not skip every unit's check: ask for each, as fleet does.
    const each = await Promise.all(names.map((n) => client.getUnit(n).catch(() => undefined)));
    return new Map(each.flatMap((u) => (u === undefined ? [] : [[u.name, u] as const])));
  });
  return names.flatMap((n) => units.get(n) ?? []);
}
