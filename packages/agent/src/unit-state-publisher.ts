import { runLoop, Wakeup, type Clock, type Logger } from '@fleet/core';
import type { MachineId, UnitName, UnitState } from '@fleet/core/model';
import type { UnitStateSink } from '@fleet/core/registry';
import type { AgentUnitState } from './agent.js';
import type { AgentFailure } from './plan.js';
import type { UnitManager } from './unit-manager.js';

/**
 * Reports systemd's LOAD/ACTIVE/SUB of every unit in the units directory to etcd. Woken by D-Bus
 * signals (and a slow interval as a safety net); writes only what changed since the last publish.
 */
export class UnitStatePublisher {
  private published = new Map<UnitName, string>();

  constructor(
    private readonly options: {
      machineId: MachineId;
      units: UnitManager;
      /** This machine's presence: lease-bound writes of its unit states. */
      sink: UnitStateSink;
      clock: Clock;
      log: Logger;
      intervalMs: number;
      /**
       * The least time between two passes in a burst of signals (see `runLoop`; default 0): each
       * pass asks systemd for every unit's state, and while a hundred units start, systemd's time
       * is better spent starting them. A change after a quiet spell is still published at once.
       */
      minGapMs?: number;
      /** What the agent has brought each unit to, reported with its systemd state; absent: `loaded`. */
      agentStates?: ReadonlyMap<UnitName, AgentUnitState>;
      /**
       * The units the agent gave up on (see `Agent.failed`): reported with their failure, also when
       * their file is not in the units directory (a load systemd refused leaves none).
       */
      agentFailures?: ReadonlyMap<UnitName, AgentFailure>;
    },
  ) {}

  /**
   * Runs until `signal` aborts. `extraWake` wakes it too (the agent's passes that changed
   * something); the first pass waits for `startAfter` (the agent's first pass, so that the first
   * report already says what the agent has brought each unit to).
   */
  async run(signal: AbortSignal, extraWake: Wakeup, startAfter: Promise<void> = Promise.resolve()): Promise<void> {
    const wake = new Wakeup();
    const unsubscribe = this.options.units.subscribe(wake.notify);
    const unRenew = this.options.sink.onRenewed(() => {
      this.published = new Map(); // a new lease carries nothing: publish everything again
      wake.notify();
    });
    const relay = (async () => {
      for await (const _ of extraWake.stream(signal)) wake.notify();
    })();
    try {
      await startAfter;
      await runLoop(
        { name: 'publisher', intervalMs: this.options.intervalMs, minGapMs: this.options.minGapMs ?? 0, clock: this.options.clock, log: this.options.log, signal, wake: wake.stream(signal) },
        () => this.pass(),
      );
    } finally {
      unsubscribe();
      unRenew();
      await relay;
    }
  }

  /** One pass: read systemd, write what changed. Exposed for tests. */
  async pass(): Promise<void> {
    const { units, sink, machineId } = this.options;
    const loaded = new Map(await units.loadedUnits());
    const failures = this.options.agentFailures ?? new Map<UnitName, AgentFailure>();
    for (const [name, failure] of failures) if (!loaded.has(name)) loaded.set(name, failure.hash);
    const states = await units.unitStates([...loaded.keys()]);
    const publish: UnitState[] = [];
    const fingerprints = new Map<UnitName, string>();
    for (const [name, hash] of loaded) {
      const s = states.get(name);
      if (s === undefined) continue;
      const agentState = this.options.agentStates?.get(name) ?? 'loaded';
      const failed = failures.get(name);
      const failure = failed?.hash === hash ? failed.message : undefined;
      const fingerprint = `${hash} ${s.loadState} ${s.activeState} ${s.subState} ${agentState} ${failure ?? ''}`;
      if (this.published.get(name) === fingerprint) continue;
      publish.push({ name, machineId, hash, loadState: s.loadState, activeState: s.activeState, subState: s.subState, agentState, ...(failure === undefined ? {} : { failure }) });
      fingerprints.set(name, fingerprint);
    }
    const remove = [...this.published.keys()].filter((name) => !loaded.has(name));
    if (publish.length === 0 && remove.length === 0) return;
    // One call: after a lease renewal that is every unit, and etcd takes them a hundred per transaction.
    const { written, failure } = await sink.writeStates({ publish, remove });
    for (const name of written) {
      const fingerprint = fingerprints.get(name);
      if (fingerprint === undefined) this.published.delete(name);
      else this.published.set(name, fingerprint);
    }
    if (failure !== undefined) throw failure;
  }
}
