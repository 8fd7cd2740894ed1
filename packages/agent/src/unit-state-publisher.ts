import { runLoop, Wakeup, type Clock, type Logger } from '@fleet/engine';
import type { MachineId, UnitName, UnitState } from '@fleet/engine/model';
import type { MachinePresence } from '@fleet/engine/registry';
import type { UnitManager } from './unit-manager.js';

/** What the publisher needs of presence: lease-bound writes of this machine's unit states. */
export type StateSink = Pick<MachinePresence, 'publishState' | 'deleteState' | 'onRenewed'>;

/**
 * Reports systemd's LOAD/ACTIVE/SUB of every unit in the units directory to etcd. Woken by D-Bus
 * signals (and a slow interval as a safety net); writes only what changed since the last publish.
 */
export class UnitStatePublisher {
  private published = new Map<UnitName, string>();

  constructor(
    private readonly options: { machineId: MachineId; units: UnitManager; sink: StateSink; clock: Clock; log: Logger; intervalMs: number },
  ) {}

  async run(signal: AbortSignal, extraWake: Wakeup): Promise<void> {
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
      await runLoop({ name: 'publisher', intervalMs: this.options.intervalMs, clock: this.options.clock, log: this.options.log, signal, wake: wake.stream(signal) }, () => this.pass());
    } finally {
      unsubscribe();
      unRenew();
      await relay;
    }
  }

  private async pass(): Promise<void> {
    const { units, sink, machineId } = this.options;
    const loaded = await units.loadedUnits();
    const states = await units.unitStates([...loaded.keys()]);
    for (const [name, hash] of loaded) {
      const s = states.get(name);
      if (s === undefined) continue;
      const state: UnitState = { name, machineId, hash, loadState: s.loadState, activeState: s.activeState, subState: s.subState };
      const fingerprint = `${hash} ${s.loadState} ${s.activeState} ${s.subState}`;
      if (this.published.get(name) === fingerprint) continue;
      await sink.publishState(state);
      this.published.set(name, fingerprint);
    }
    for (const name of [...this.published.keys()]) {
      if (loaded.has(name)) continue;
      await sink.deleteState(name);
      this.published.delete(name);
    }
  }
}
