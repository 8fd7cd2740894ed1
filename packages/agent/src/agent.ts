import { InvalidUnitNameError, mergeWakeups, runLoop, SystemdError, Wakeup, type Clock, type Logger } from '@fleet/core';
import type { MachineId, TargetState, UnitName } from '@fleet/core/model';

/** What the agent has brought a unit to (see {@link Agent.reached}). */
export type AgentUnitState = Exclude<TargetState, 'inactive'>;
import type { ChangeFeed, MachineScheduleReader, PresenceLeaseHealth } from '@fleet/core/registry';
import { applyAgentTasks } from './apply.js';
import { AtMostOnceUnits, guardAtMostOnce, leaseVerdict } from './at-most-once.js';
import { describeAgentTask, holdStarts, leaveAlone, planAgentTasks, skipFailed, type AgentFailure, type AgentTask, type DesiredUnit } from './plan.js';
import type { UnitManager } from './unit-manager.js';

export interface AgentOptions {
  readonly machineId: MachineId;
  readonly registry: MachineScheduleReader & ChangeFeed;
  readonly units: UnitManager;
  readonly clock: Clock;
  readonly log: Logger;
  /** Safety-net interval of the reconcile loop (fleet: 5 s). */
  readonly reconcileIntervalMs: number;
  /**
   * The units this agent started and has not stopped since, shared by the agents a fleetd runs one
   * after the other (a configuration reload restarts the agent; a unit that exited stays down).
   */
  readonly started?: Set<UnitName>;
  /**
   * This machine's presence lease. With it, at-most-once units (`AtMostOnce=true`) start only while
   * the lease is safe and are stopped when it is not (see `guardAtMostOnce`); without it they are
   * run like any other.
   */
  readonly lease?: PresenceLeaseHealth;
  /** Which units are at-most-once, shared like {@link started} (a reload must not forget them). */
  readonly atMostOnce?: AtMostOnceUnits;
}

/**
 * Makes the local systemd match this machine's schedule. Watches only `schedule/<this machine>/`,
 * so other machines' changes never wake it. If etcd is unreachable the pass fails before doing
 * anything: running units keep running.
 */
export class Agent {
  private readonly started: Set<UnitName>;
  private readonly atMostOnce: AtMostOnceUnits;
  /** Woken when the lease is safe again, so that held-back starts happen at once. */
  private readonly leaseSafeAgain = new Wakeup();
  private readonly reachedStates = new Map<UnitName, AgentUnitState>();
  private readonly failures = new Map<UnitName, AgentFailure>();
  private firstPassDone!: () => void;
  /** Woken after each pass that changed something, so the publisher reports promptly. */
  readonly afterChange = new Wakeup();
  /** Settles after the first pass, whatever its outcome (the publisher waits for it). */
  readonly firstPass = new Promise<void>((resolve) => {
    this.firstPassDone = resolve;
  });

  constructor(private readonly options: AgentOptions) {
    this.started = options.started ?? new Set();
    this.atMostOnce = options.atMostOnce ?? new AtMostOnceUnits();
  }

  async run(signal: AbortSignal): Promise<void> {
    const { registry, machineId, clock, log, lease, units } = this.options;
    const guard = lease === undefined ? Promise.resolve() : guardAtMostOnce({
      lease, marked: this.atMostOnce, units, started: this.started, clock, log,
      onStopped: () => this.afterChange.notify(), onSafeAgain: () => this.leaseSafeAgain.notify(),
    }, signal);
    const loop = runLoop(
      { name: 'agent', intervalMs: this.options.reconcileIntervalMs, clock, log, signal, wake: mergeWakeups([registry.changes({ kind: 'machine-schedule', machine: machineId }, signal), this.leaseSafeAgain.stream(signal)], signal) },
      async () => {
        try {
          await this.pass();
        } finally {
          this.firstPassDone();
        }
      },
    );
    await Promise.all([loop, guard]);
  }

  /**
   * What this agent has brought each of its scheduled units to (fleet's agent heartbeat): the
   * schedule's target state once every task for the unit succeeded, `loaded` while its start is
   * pending or failed. Units not scheduled here are absent.
   */
  get reached(): ReadonlyMap<UnitName, AgentUnitState> {
    return this.reachedStates;
  }

  /**
   * Units whose load or start systemd refused for good (a terminal `SystemdError`), with the hash
   * of the file it refused: not tried again until the schedule names another file (or the unit
   * leaves and comes back); the others go on. Transient failures are retried at the next pass.
   */
  get failed(): ReadonlyMap<UnitName, AgentFailure> {
    return this.failures;
  }

  /** One reconcile pass: read the schedule, plan, apply. Exposed for tests. */
  async pass(): Promise<void> {
    const { registry, units, machineId, log } = this.options;
    const schedule = await registry.machineSchedule(machineId);
    // Files are immutable and cached by hash: after the first pass this read costs nothing, and
    // new ones come a hundred per request.
    const files = await registry.unitFiles(schedule.entries.map((entry) => entry.hash));
    const desired = new Map<UnitName, DesiredUnit>();
    // Units whose entry or file cannot be read are left as they are, not taken for unscheduled.
    const unreadable = new Set<UnitName>(schedule.corrupt);
    for (const entry of schedule.entries) {
      const file = files.get(entry.hash);
      if (file === undefined) {
        log.warn('scheduled unit has no stored file; leaving it as it is this pass', { unit: entry.name, hash: entry.hash });
        unreadable.add(entry.name);
        continue;
      }
      desired.set(entry.name, { targetState: entry.targetState, hash: entry.hash, file });
    }
    const loaded = await units.loadedUnits();
    // The desired units too: the planner must know whether systemd still holds an old definition of one not loaded here.
    const states = await units.unitStates([...new Set([...loaded.keys(), ...desired.keys()])]);
    let failuresChanged = false;
    for (const [name, failure] of this.failures) {
      if (desired.get(name)?.hash === failure.hash) continue;
      this.failures.delete(name); // a new file, or no longer here: try it afresh
      failuresChanged = true;
    }
    this.atMostOnce.update(desired, new Set(loaded.keys()));
    const planned = leaveAlone(skipFailed(planAgentTasks(desired, { loaded, states, started: this.started }), desired, this.failures), unreadable);
    const { lease, clock } = this.options;
    const unsafe = lease !== undefined && !leaseVerdict(lease, clock.now()).safe;
    const tasks = unsafe ? holdStarts(planned, this.atMostOnce.units) : planned;
    const heldBack = new Set(planned.flatMap((t) => (t.kind === 'start-unit' && !tasks.includes(t) ? [t.unit] : [])));
    if (heldBack.size > 0) log.warn('presence lease not safe: at-most-once units not started until it is', { units: [...heldBack] });
    const results = tasks.length === 0 ? [] : await applyAgentTasks(tasks, units, this.started);
    for (const result of results) {
      if (result.ok) {
        log.info(describeAgentTask(result.task));
        continue;
      }
      const { task, error } = result;
      const want = task.kind === 'reload-unit-files' ? undefined : desired.get(task.unit);
      if (task.kind === 'reload-unit-files' || want === undefined || !isTerminal(error) || (task.kind !== 'load-unit' && task.kind !== 'start-unit')) {
        log.error(`task failed: ${describeAgentTask(task)}`, { err: error });
        continue;
      }
      this.failures.set(task.unit, { hash: want.hash, message: (error as Error).message });
      failuresChanged = true;
      log.error(`task failed: ${describeAgentTask(task)}; not retried until its unit file changes`, { err: error });
    }
    const reachedChanged = this.updateReached(desired, tasks, new Set(results.filter((r) => r.ok).map((r) => r.task)), unreadable, heldBack);
    if (tasks.length > 0 || reachedChanged || failuresChanged) this.afterChange.notify();
  }

  /** Records what each desired unit reached; `true` when that changed. */
  private updateReached(desired: ReadonlyMap<UnitName, DesiredUnit>, tasks: readonly AgentTask[], succeeded: ReadonlySet<AgentTask>, unreadable: ReadonlySet<UnitName>, heldBack: ReadonlySet<UnitName>): boolean {
    // Tasks that failed or never ran (a failed reload ends the run), units the agent gave up on,
    // and starts held back leave their unit short of its target.
    const unfinished = new Set([...tasks.flatMap((t) => (t.kind === 'reload-unit-files' || succeeded.has(t) ? [] : [t.unit])), ...this.failures.keys(), ...heldBack]);
    const next = new Map<UnitName, AgentUnitState>();
    for (const [name, want] of desired) next.set(name, unfinished.has(name) ? 'loaded' : want.targetState);
    // A unit left as it is keeps what it had reached.
    for (const name of unreadable) {
      const before = this.reachedStates.get(name);
      if (before !== undefined) next.set(name, before);
    }
    const changed = next.size !== this.reachedStates.size || [...next].some(([name, state]) => this.reachedStates.get(name) !== state);
    this.reachedStates.clear();
    for (const [name, state] of next) this.reachedStates.set(name, state);
    return changed;
  }
}

/** A failure another attempt with the same file would meet again: systemd refused the unit itself. */
function isTerminal(error: unknown): boolean {
  return (error instanceof SystemdError && !error.transient) || error instanceof InvalidUnitNameError;
}
