import type { Clock, Logger } from '@fleet/core';
import type { Leadership, ChangeFeed, ClusterViewSource, LeaderFence, RegistryOutages, ScheduleWriter } from '@fleet/core/registry';
import { RegistryUnavailableError, mergeWakeups, runLoop, Wakeup } from '@fleet/core';
import type { MachineId, UnitName } from '@fleet/core/model';
import { holdAtMostOnce } from './reconciler/at-most-once-hold.js';
import { heldMachines } from './reconciler/grace.js';
import { describeEngineTask, planEngineTasks } from './reconciler/plan.js';
import { RequirementsCache } from './reconciler/requirements-cache.js';
import { deferStops } from './reconciler/stop-grace.js';

export interface EngineOptions {
  readonly machineId: MachineId;
  /**
   * The cluster view it plans from (this fleetd's cache: a pass reads no etcd, and sees the
   * engine's own last writes), the change feed that wakes it and the fenced schedule writes.
   */
  readonly registry: ClusterViewSource & ScheduleWriter & ChangeFeed;
  readonly leadership: Leadership;
  readonly clock: Clock;
  readonly log: Logger;
  /** fleet's `engine_reconcile_interval`, in ms. */
  readonly reconcileIntervalMs: number;
  /**
   * The least time between two passes in a burst of changes (see `runLoop`; default 0): a pass
   * plans every unit, and while a client writes a hundred units a pass per write is wasted work.
   */
  readonly minGapMs?: number;
  /** How long a running unit's stop is deferred (see `deferStops`); default {@link defaultStopGraceMs}. */
  readonly stopGraceMs?: number;
  /**
   * When this process last failed to reach etcd, and how long after that a machine missing from
   * the registry keeps its units (it may still be re-registering: see `reconciler/grace.ts`).
   * Without them, a missing machine is gone at once.
   */
  readonly outages?: RegistryOutages;
  readonly outageGraceMs?: number;
  /**
   * How long after a machine disappears its at-most-once units stay where they are before they
   * are started elsewhere (see `holdAtMostOnce`); 0 or absent: they move at once, like any unit.
   */
  readonly atMostOnceHoldMs?: number;
}

/** Long enough for any client to read a unit once after asking for its stop; short next to a stop. */
export const defaultStopGraceMs = 250;

/**
 * The cluster's scheduler. Campaigns for leadership; while it leads, runs reconcile passes
 * (cluster view → pure plan → fenced apply) on every unit/machine change and every interval.
 */
export class Engine {
  private readonly requirements: RequirementsCache;
  private stopsSeen: ReadonlyMap<UnitName, number> = new Map();
  private missingSince: ReadonlyMap<MachineId, number> = new Map();
  /** The at-most-once units last logged as held. */
  private atMostOnceLogged = '';
  /** Wakes the loop when a deferred stop falls due. */
  private readonly timer = new Wakeup();
  private pendingTimer: { at: number; abort: AbortController } | undefined;
  /** The held machines last logged, so that the log says when the set changes, not every pass. */
  private heldLogged = '';
  /** The units with corrupt records last logged, so that the log says when the set changes, not every pass. */
  private corruptLogged = '';

  constructor(private readonly options: EngineOptions) {
    this.requirements = new RequirementsCache(options.registry);
  }

  /** Runs until `signal` aborts; resigns leadership on the way out. */
  async run(signal: AbortSignal): Promise<void> {
    const { leadership, machineId, log } = this.options;
    while (!signal.aborted) {
      let term;
      try {
        term = await leadership.campaign(machineId, signal);
      } catch (err) {
        if (signal.aborted) return;
        throw err;
      }
      log.info('became engine leader', { fence: term.fence.key });
      const termSignal = AbortSignal.any([signal, term.signal]);
      try {
        await runLoop(
          {
            name: 'engine',
            intervalMs: this.options.reconcileIntervalMs,
            minGapMs: this.options.minGapMs ?? 0,
            clock: this.options.clock,
            log,
            signal: termSignal,
            wake: mergeWakeups([this.options.registry.changes({ kind: 'cluster' }, termSignal), this.timer.stream(termSignal)], termSignal),
          },
          () => this.pass(term.fence, termSignal),
        );
      } finally {
        this.pendingTimer?.abort.abort();
        this.pendingTimer = undefined;
        this.stopsSeen = new Map();
        this.missingSince = new Map();
        if (signal.aborted) await term.resign();
        else log.warn('lost engine leadership', { reason: String(term.signal.reason) });
      }
    }
  }

  private async pass(fence: LeaderFence, signal: AbortSignal): Promise<void> {
    const { registry, log, clock, outages } = this.options;
    let read;
    try {
      // Unit states are left out: neither the planner nor the stop deferral reads them.
      read = (await registry.view()).planningInput();
    } catch (err) {
      if (err instanceof RegistryUnavailableError) outages?.record(clock.now());
      throw err;
    }
    const deferred = deferStops(read, this.stopsSeen, clock.now(), this.options.stopGraceMs ?? defaultStopGraceMs);
    this.stopsSeen = deferred.firstSeen;
    if (deferred.nextDueAt !== undefined) this.wakeAt(deferred.nextDueAt, signal);
    const snapshot = deferred.snapshot;
    const { requirements, unreadable } = await this.requirements.forSnapshot(snapshot);
    if (unreadable.size > 0) log.warn('unit files unreadable; leaving those units as they are', { units: [...unreadable] });
    const lastOutageAt = outages?.lastAt;
    const graceMs = this.options.outageGraceMs ?? 0;
    const held = heldMachines(snapshot, { now: clock.now(), lastOutageAt, graceMs });
    const heldKey = [...held].sort().join(',');
    if (heldKey !== this.heldLogged) {
      this.heldLogged = heldKey;
      if (held.size > 0) {
        log.warn('machines missing since etcd was unreachable: their units stay until they re-register or the grace ends', {
          machines: [...held], graceEnds: new Date((lastOutageAt ?? 0) + graceMs).toISOString(),
        });
      }
    }
    const corruptKey = [...snapshot.corruptUnits].sort().join(',');
    if (corruptKey !== this.corruptLogged) {
      this.corruptLogged = corruptKey;
      if (corruptKey !== '') log.error('corrupt records in etcd: leaving those units where they are until the records are fixed or the units destroyed', { units: [...snapshot.corruptUnits], keys: snapshot.corrupt });
    }
    const hold = holdAtMostOnce(snapshot, requirements, this.missingSince, clock.now(), this.options.atMostOnceHoldMs ?? 0);
    this.missingSince = hold.missingSince;
    if (hold.nextDueAt !== undefined) this.wakeAt(hold.nextDueAt, signal);
    const holdKey = [...hold.units].sort().join(',');
    if (holdKey !== this.atMostOnceLogged) {
      this.atMostOnceLogged = holdKey;
      if (holdKey !== '') log.info('at-most-once units of missing machines stay where they are until their hold ends', { units: [...hold.units], holdEnds: new Date(hold.nextDueAt ?? 0).toISOString() });
    }
    const frozen = snapshot.corruptUnits.size === 0 && hold.units.size === 0 ? unreadable : new Set([...unreadable, ...snapshot.corruptUnits, ...hold.units]);
    const plan = planEngineTasks(snapshot, requirements, frozen, held);
    if (plan.tasks.length === 0) return;
    const outcome = await registry.applyScheduleChanges(plan.tasks.map((t) => t.change), fence);
    if (!outcome.ok && outcome.reason === 'stale') {
      // A machine whose units it was moving came back: plan again from a view that has it.
      log.info('schedule write refused: a machine came back meanwhile; planning again', { tasks: plan.tasks.length });
      this.timer.notify();
      return;
    }
    if (!outcome.ok) {
      log.warn('schedule write rejected: no longer the leader', { tasks: plan.tasks.length });
      return;
    }
    for (const task of plan.tasks) log.info(describeEngineTask(task), { revision: snapshot.revision });
  }

  /** Makes a pass run at `at` (the earliest of the times asked for). */
  private wakeAt(at: number, signal: AbortSignal): void {
    if (this.pendingTimer !== undefined && this.pendingTimer.at <= at) return;
    this.pendingTimer?.abort.abort();
    const abort = new AbortController();
    this.pendingTimer = { at, abort };
    const { clock } = this.options;
    clock.sleep(Math.max(0, at - clock.now()), AbortSignal.any([signal, abort.signal])).then(
      () => {
        if (this.pendingTimer?.abort === abort) this.pendingTimer = undefined;
        this.timer.notify();
      },
      () => undefined,
    );
  }
}
