import { Engine } from '@fleet/engine';
import { EtcdLeadership, type EtcdClusterCache, type EtcdConnection, MachinePresence, type EtcdRegistry } from '@fleet/etcd';
import { type Clock, type Logger } from '@fleet/core';
import { type FleetdConfig } from './config.js';
import { atMostOnceHoldMs, type MachineState, type UnitName } from '@fleet/core/model';
import { type RegistryOutages } from '@fleet/core/registry';
import { Agent, type AtMostOnceUnits, UnitStatePublisher } from '@fleet/agent';
import type { UnitManager } from '@fleet/agent';

/** The agent's reconcile interval (fleet's is 5 s); watches make it a safety net. */
const agentReconcileIntervalMs = 5_000;
/** The state publisher's least gap between passes in a burst of D-Bus signals (see UnitStatePublisher). */
const publishGapMs = 50;
/** The engine's least gap between passes in a burst of writes (see EngineOptions.minGapMs). */
const engineGapMs = 50;

/** What one generation of fleetd's components runs on. */
export interface GenerationDeps {
  readonly config: FleetdConfig;
  readonly machine: MachineState;
  readonly client: EtcdConnection;
  readonly registry: EtcdRegistry;
  /** This fleetd's cluster view, which the engine plans from and is woken by. */
  readonly cache: EtcdClusterCache;
  readonly units: UnitManager;
  readonly clock: Clock;
  readonly log: Logger;
  readonly outages: RegistryOutages;
  /** Shared by every generation's agent (see {@link Agent}). */
  readonly started: Set<UnitName>;
  /** Shared by every generation's agent, like {@link started}. */
  readonly atMostOnce: AtMostOnceUnits;
  /** Leases of this machine that an earlier process or generation held (taken over, not refused). */
  readonly inheritedLeases: readonly string[];
  readonly onRegistered: (leaseId: string) => void;
  /** `registered`: this generation had joined and lost its record to another machine since. */
  readonly onRefused: (holder: MachineState | undefined, registered: boolean) => void;
}

/**
 * One run of the components of a fleetd with one configuration: presence first; once the machine is
 * registered (never while another live machine holds its ID), the agent, the state publisher and
 * the engine. A reload ends a generation and starts the next with the new configuration; the units,
 * the API and the systemd connection outlive it.
 */
export class FleetdGeneration {
  /** Settles when the components have stopped; rejects with the first component that failed. */
  readonly done: Promise<void>;
  private readonly controller = new AbortController();
  private readonly presence: MachinePresence;
  private registered = false;

  constructor(private readonly deps: GenerationDeps) {
    const { client, config, machine, clock, log, outages } = deps;
    this.presence = new MachinePresence(client, config.etcdKeyPrefix, machine, config.agentTtlSeconds, clock, log.child({ component: 'presence' }), {
      inheritedLeases: deps.inheritedLeases,
      outages,
      onRegistered: (leaseId) => {
        this.registered = true;
        deps.onRegistered(leaseId);
      },
      onRefused: (holder) => deps.onRefused(holder, this.registered),
    });
    this.done = this.run();
  }

  /** Stops the agent, publisher and engine (the engine resigns); the presence stays. Idempotent. */
  async stopComponents(): Promise<void> {
    this.controller.abort(new Error('fleetd generation stopping'));
    await this.done.catch(() => undefined);
  }

  /**
   * Ends the presence: revoked (the machine leaves at once), or released (it expires after the TTL
   * unless the next fleetd or generation takes it over). Returns the lease that was held.
   */
  endPresence(options: { revoke: boolean }): Promise<string | undefined> {
    return this.presence.stop(options);
  }

  private async run(): Promise<void> {
    const { config, machine, registry, units, clock, log, outages, started } = this.deps;
    const signal = this.controller.signal;
    await this.presence.start(signal);
    if (signal.aborted) return;
    const agent = new Agent({ machineId: machine.id, registry, units, clock, log: log.child({ component: 'agent' }), reconcileIntervalMs: agentReconcileIntervalMs, started, atMostOnce: this.deps.atMostOnce, lease: this.presence });
    const publisher = new UnitStatePublisher({
      machineId: machine.id, units, sink: this.presence, clock, log: log.child({ component: 'publisher' }), intervalMs: agentReconcileIntervalMs, minGapMs: publishGapMs, agentStates: agent.reached, agentFailures: agent.failed,
    });
    const components: Promise<void>[] = [agent.run(signal), publisher.run(signal, agent.afterChange, agent.firstPass)];
    if (!config.disableEngine) {
      // fleet's leader lease TTL is 5 × the reconcile interval.
      const ttlSeconds = Math.max(2, Math.ceil((5 * config.engineReconcileIntervalMs) / 1000));
      const leadership = new EtcdLeadership(this.deps.client, config.etcdKeyPrefix, ttlSeconds, clock, log.child({ component: 'leader' }));
      const engine = new Engine({
        machineId: machine.id, leadership,
        registry: {
          view: () => this.deps.cache.view(),
          unitFiles: (hashes) => this.deps.cache.unitFiles(hashes),
          changes: (scope, s) => this.deps.cache.changes(scope, s),
          applyScheduleChanges: (changes, fence) => registry.applyScheduleChanges(changes, fence),
        }, clock, log: log.child({ component: 'engine' }), reconcileIntervalMs: config.engineReconcileIntervalMs, minGapMs: engineGapMs,
        // Machines get one agent_ttl after etcd comes back to re-register before their units move.
        outages, outageGraceMs: config.agentTtlSeconds * 1000,
        // Every machine's lease has this fleetd's agent_ttl (one cluster, one setting).
        atMostOnceHoldMs: atMostOnceHoldMs(config.agentTtlSeconds * 1000),
      });
      components.push(engine.run(signal));
    }
    // The first component error wins; the rest are stopped and awaited.
    let firstError: unknown;
    await Promise.allSettled(components.map((p) => p.catch((err: unknown) => {
      firstError ??= err;
      this.controller.abort(err);
    })));
    if (firstError !== undefined) throw firstError;
  }
}
