import type { Etcd3, Lease } from 'etcd3';
import type { Clock } from '../clock.js';
import { RegistryUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import type { MachineId, MachineState, UnitName, UnitState } from '../model/index.js';
import { codec } from './codec.js';
import { KeySchema } from './keys.js';

/**
 * A machine's presence in etcd: its `machines/<id>` record and its unit states, all bound to one lease
 * with TTL `agent_ttl`. If the machine dies, the lease expires and etcd removes all of it, which is how
 * the engine learns the machine is gone. If the lease is lost (e.g. an etcd outage longer than the TTL),
 * a new lease is granted and the machine re-registered; {@link onRenewed} listeners then republish.
 */
export class MachinePresence {
  private lease: Lease | undefined;
  private leaseId: string | undefined;
  private readonly renewedListeners = new Set<() => void>();
  private stopped = false;
  private readonly keys: KeySchema;
  private lastFailureLog = 0;

  constructor(
    private readonly client: Etcd3,
    prefix: string,
    private machine: MachineState,
    private readonly ttlSeconds: number,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.keys = new KeySchema(prefix);
  }

  get machineId(): MachineId {
    return this.machine.id;
  }

  /** Registers the machine; retries with backoff until etcd answers or `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    let delay = 500;
    while (!signal.aborted) {
      try {
        await this.register();
        return;
      } catch (err) {
        this.log.warn('cannot register machine presence; retrying', { err, retryInMs: delay });
        await this.clock.sleep(delay, signal).catch(() => undefined);
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  /** Called after each re-registration on a new lease. */
  onRenewed(listener: () => void): () => void {
    this.renewedListeners.add(listener);
    return () => this.renewedListeners.delete(listener);
  }

  /** Publishes one unit state bound to the presence lease. Throws RegistryUnavailableError. */
  async publishState(state: UnitState): Promise<void> {
    const lease = this.requireLease();
    try {
      await lease.put(this.keys.state(this.machine.id, state.name)).value(codec.encodeState(state)).exec();
    } catch (err) {
      throw new RegistryUnavailableError('publish unit state', { cause: err });
    }
  }

  /** Removes one unit state of this machine. */
  async deleteState(name: UnitName): Promise<void> {
    try {
      await this.client.delete().key(this.keys.state(this.machine.id, name)).exec();
    } catch (err) {
      throw new RegistryUnavailableError('delete unit state', { cause: err });
    }
  }

  /**
   * Stops keeping the lease alive. With `revoke`, the machine and its states disappear at once;
   * without, they expire after the TTL (a restarting fleetd re-attaches before that, so nothing moves).
   */
  async stop({ revoke }: { revoke: boolean }): Promise<void> {
    this.stopped = true;
    const lease = this.lease;
    this.lease = undefined;
    if (lease === undefined) return;
    if (revoke) await lease.revoke().catch((err: unknown) => this.log.warn('cannot revoke presence lease', { err }));
    else lease.release();
  }

  private requireLease(): Lease {
    if (this.lease === undefined) throw new RegistryUnavailableError('publish unit state', { cause: new Error('machine is not registered') });
    return this.lease;
  }

  private async register(): Promise<void> {
    const lease = this.client.lease(this.ttlSeconds, { autoKeepAlive: true });
    try {
      const id = await lease.grant();
      await lease.put(this.keys.machine(this.machine.id)).value(codec.encodeMachine(this.machine)).exec();
      this.leaseId = id;
    } catch (err) {
      lease.release();
      throw new RegistryUnavailableError('register machine', { cause: err });
    }
    lease.on('lost', (err) => {
      if (this.lease !== lease || this.stopped) return;
      this.log.warn('presence lease lost; re-registering', { err, leaseId: this.leaseId });
      this.lease = undefined;
      void this.reRegister();
    });
    lease.on('keepaliveFailed', () => {
      const now = this.clock.now();
      if (now - this.lastFailureLog > 5_000) {
        this.lastFailureLog = now;
        this.log.warn('presence keepalive failing (etcd unreachable?)');
      }
    });
    this.lease = lease;
  }

  private async reRegister(): Promise<void> {
    let delay = 500;
    while (!this.stopped) {
      try {
        await this.register();
        for (const listener of this.renewedListeners) listener();
        return;
      } catch (err) {
        this.log.warn('cannot re-register machine presence; retrying', { err, retryInMs: delay });
        await this.clock.sleep(delay).catch(() => undefined);
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }
}
