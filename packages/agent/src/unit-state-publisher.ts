import { runLoop, Wakeup, type Clock, type Logger } from '@fleet/core';
import type { MachineId, UnitName, UnitState } from '@fleet/core/model';
import type { UnitStateSink } from '@fleet/core/registry';
import type { AgentUnitState } from './agent.js';
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
      /** What the agent has brought each unit to, reported with its systemd state; absent: `loaded`. */
      agentStates?: ReadonlyMap<UnitName, AgentUnitState>;
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
      await runLoop({ name: 'publisher', intervalMs: this.options.intervalMs, clock: this.options.clock, log: this.options.log, signal, wake: wake.stream(signal) }, () => this.pass());
    } finally {
      unsubscribe();
      unRenew();
      await relay;
    }
  }

  /** One pass: read systemd, write what changed. Exposed for tests. */
  async pass(): Promise<void> {
    const { units, sink, machineId } = this.options;
    const loaded = await units.loadedUnits();
    const states = await units.unitStates([...loaded.keys()]);
    const writes: Array<{ name: UnitName; fingerprint: string | undefined; write: () => Promise<void> }> = [];
    for (const [name, hash] of loaded) {
      const s = states.get(name);
      if (s === undefined) continue;
      const agentState = this.options.agentStates?.get(name) ?? 'loaded';
      const fingerprint = `${hash} ${s.loadState} ${s.activeState} ${s.subState} ${agentState}`;
      if (this.published.get(name) === fingerprint) continue;
      const state: UnitState = { name, machineId, hash, loadState: s.loadState, activeState: s.activeState, subState: s.subState, agentState };
      writes.push({ name, fingerprint, write: () => sink.publishState(state) });
    }
    for (const name of this.published.keys()) {
      if (!loaded.has(name)) writes.push({ name, fingerprint: undefined, write: () => sink.deleteState(name) });
    }
    // Different keys: the writes go out together (after a lease renewal that is every unit).
    const outcomes = await Promise.allSettled(writes.map((w) => w.write()));
    let failure: unknown;
    for (const [i, outcome] of outcomes.entries()) {
      const { name, fingerprint } = writes[i] as (typeof writes)[number];
      if (outcome.status === 'rejected') failure ??= outcome.reason;
      else if (fingerprint === undefined) this.published.delete(name);
      else this.published.set(name, fingerprint);
    }
    if (failure !== undefined) throw failure;
  }
}
