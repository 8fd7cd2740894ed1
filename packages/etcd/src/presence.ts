import type { Etcd3, Lease } from 'etcd3';
import { chunksOf, etcdClient, noteWrite, type EtcdConnection } from './etcd-client.js';
import type { Clock, Logger } from '@fleet/core';
import { backoffDelay, RegistryUnavailableError } from '@fleet/core';
import type { MachineId, MachineState, UnitName, UnitState } from '@fleet/core/model';
import { codec, KeySchema } from '@fleet/core/registry';
import type { PresenceLeaseHealth, RegistryOutages, UnitStateSink, UnitStateWriteOutcome, UnitStateWrites } from '@fleet/core/registry';

/** Writes per etcd transaction: etcd refuses more than `--max-txn-ops` (128 by default). */
const opsPerTransaction = 100;

/** Options of {@link MachinePresence} beyond its identity and TTL. */
export interface PresenceOptions {
  /**
   * Leases known to be this machine's own: the one an earlier fleetd process on this host held (it
   * was restarted or handed over), or the previous generation's in this process (a reload). A
   * record bound to one of them is taken over; a record bound to any other live lease belongs to
   * another machine with the same ID, and registration is refused.
   */
  readonly inheritedLeases?: readonly string[];
  /** Called with the lease after each successful registration (so that it can be recorded locally). */
  readonly onRegistered?: (leaseId: string) => void;
  /** Called on each refused attempt, with the record of the live machine that holds the ID. */
  readonly onRefused?: (holder: MachineState | undefined) => void;
  /** Where failures to reach etcd are recorded (keepalives, registrations). */
  readonly outages?: RegistryOutages;
}

/** Result of one registration attempt. */
type Attempt = { readonly kind: 'registered' } | { readonly kind: 'refused'; readonly holder: MachineState | undefined } | { readonly kind: 'raced' };

/**
 * A machine's presence in etcd: its `machines/<id>` record and its unit states, all bound to one lease
 * with TTL `agent_ttl`. If the machine dies, the lease expires and etcd removes all of it, which is how
 * the engine learns the machine is gone. If the lease is lost (e.g. an etcd outage longer than the TTL),
 * a new lease is granted and the machine re-registered; {@link onRenewed} listeners then republish.
 *
 * A machine ID held by another live machine (a cloned /etc/machine-id, a second fleetd configured
 * with the same `machine_id`) is never taken over, as fleet refuses it: registration is retried, and
 * succeeds once that machine's lease has expired.
 */
export class MachinePresence implements UnitStateSink, PresenceLeaseHealth {
  private lease: Lease | undefined;
  private leaseId: string | undefined;
  private readonly renewedListeners = new Set<() => void>();
  private stopped = false;
  private readonly keys: KeySchema;
  private readonly own: Set<string>;
  private lastFailureLog = 0;
  private confirmed: number | undefined;
  /** When each keepalive not yet answered was sent, oldest first (answers come in order on the stream). */
  private unanswered: number[] = [];

  private readonly client: Etcd3;
  constructor(
    connection: EtcdConnection,
    prefix: string,
    private readonly machine: MachineState,
    private readonly ttlSeconds: number,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly options: PresenceOptions = {},
  ) {
    this.client = etcdClient(connection);
    this.keys = new KeySchema(prefix);
    this.own = new Set(options.inheritedLeases ?? []);
  }

  get machineId(): MachineId {
    return this.machine.id;
  }

  /** The lease the machine is registered with, or undefined while it is not. */
  get currentLease(): string | undefined {
    return this.lease === undefined ? undefined : this.leaseId;
  }

  /**
   * Registers the machine; retries (refusals included) until it is registered or `signal` aborts.
   * Retries are at most a quarter of the TTL apart, so that after an outage the machine is back
   * well within the grace the engine gives it.
   */
  async start(signal: AbortSignal): Promise<void> {
    await this.registerUntilDone(() => signal.aborted, signal);
  }

  get confirmedAt(): number | undefined {
    return this.lease === undefined ? undefined : this.confirmed;
  }

  get ttlMs(): number {
    return this.ttlSeconds * 1000;
  }

  /** Called after each re-registration on a new lease. */
  onRenewed(listener: () => void): () => void {
    this.renewedListeners.add(listener);
    return () => this.renewedListeners.delete(listener);
  }

  /** Publishes one unit state bound to the presence lease (see {@link writeStates}). Throws RegistryUnavailableError. */
  async publishState(state: UnitState): Promise<void> {
    const { failure } = await this.writeStates({ publish: [state], remove: [] });
    if (failure !== undefined) throw failure;
  }

  /**
   * Publishes and removes many states in transactions of up to {@link opsPerTransaction}, each
   * guarded by the machine's record still being on this presence's lease (a lost lease writes
   * nothing; the publisher writes everything again on the new one).
   */
  async writeStates({ publish, remove }: UnitStateWrites): Promise<UnitStateWriteOutcome> {
    const ops = [
      ...publish.map((state) => ({ name: state.name, op: (lease: string) => this.client.put(this.keys.state(this.machine.id, state.name)).value(codec.encodeState(state)).lease(lease) })),
      ...remove.map((name) => ({ name, op: () => this.client.delete().key(this.keys.state(this.machine.id, name)) })),
    ];
    const written = new Set<UnitName>();
    let failure: unknown;
    await Promise.all(chunksOf(ops, opsPerTransaction).map(async (batch) => {
      try {
        const leaseId = this.leaseId;
        if (this.lease === undefined || leaseId === undefined) throw new Error('machine is not registered');
        const result = await this.client
          .if(this.keys.machine(this.machine.id), 'Lease', '==', leaseId)
          .then(...batch.map((b) => b.op(leaseId)))
          .commit();
        if (!result.succeeded) throw new Error(`the machine's record is no longer on lease ${leaseId}`);
        noteWrite(this.client, this.keys.prefix, result.header.revision);
        for (const b of batch) written.add(b.name);
      } catch (err) {
        failure ??= new RegistryUnavailableError('publish unit states', { cause: err });
      }
    }));
    return failure === undefined ? { written } : { written, failure };
  }

  /** Removes one unit state of this machine (see {@link writeStates}). Throws RegistryUnavailableError. */
  async deleteState(name: UnitName): Promise<void> {
    const { failure } = await this.writeStates({ publish: [], remove: [name] });
    if (failure !== undefined) throw failure;
  }

  /**
   * Stops keeping the lease alive. With `revoke`, the machine and its states disappear at once;
   * without, they expire after the TTL (a fleetd that takes over before that re-attaches, so nothing
   * moves). Returns the lease that was held, if any.
   */
  async stop({ revoke }: { revoke: boolean }): Promise<string | undefined> {
    this.stopped = true;
    const lease = this.lease;
    this.lease = undefined;
    if (lease === undefined) return undefined;
    if (revoke) await lease.revoke().catch((err: unknown) => this.log.warn('cannot revoke presence lease', { err }));
    else lease.release();
    return this.leaseId;
  }

  private async registerUntilDone(stop: () => boolean, signal?: AbortSignal): Promise<boolean> {
    const backoff = { initialMs: 500, maxMs: Math.max(500, (this.ttlSeconds * 1000) / 4) };
    let waits = 0;
    let refusals = 0;
    while (!stop() && !this.stopped) {
      try {
        const attempt = await this.register();
        if (attempt.kind === 'registered') {
          if (refusals > 0) this.log.info('machine ID is free again: registered', { machineId: this.machine.id });
          return true;
        }
        if (attempt.kind === 'refused') {
          refusals++;
          this.options.onRefused?.(attempt.holder);
          // Once loudly, then now and then: the operator must fix the duplicate machine ID.
          if (refusals === 1 || refusals % 20 === 0) {
            this.log.error('machine ID already registered by another live machine; not joining the cluster until its registration expires', {
              machineId: this.machine.id, holder: attempt.holder === undefined ? undefined : { publicIp: attempt.holder.publicIp, metadata: attempt.holder.metadata }, attempts: refusals,
            });
          }
        }
        if (attempt.kind === 'raced') continue;
      } catch (err) {
        this.options.outages?.record(this.clock.now());
        this.log.warn('cannot register machine presence; retrying', { err, retryInMs: backoffDelay(waits, backoff) });
      }
      // Not `retry`: a refusal is an answer, not an error, and a lost race tries again at once.
      await this.clock.sleep(backoffDelay(waits++, backoff), signal).catch(() => undefined);
    }
    return false;
  }

  /**
   * One attempt: the record is created if absent, taken over if bound to one of our own leases,
   * refused if bound to another's. A lease is granted only when the key is free or ours.
   */
  private async register(): Promise<Attempt> {
    const key = this.keys.machine(this.machine.id);
    let existing;
    try {
      existing = (await this.client.get(key).exec()).kvs[0];
    } catch (err) {
      throw new RegistryUnavailableError('register machine', { cause: err });
    }
    if (existing !== undefined && !this.own.has(existing.lease)) {
      return { kind: 'refused', holder: this.decodeHolder(key, existing.value.toString()) };
    }
    const lease = this.client.lease(this.ttlSeconds, { autoKeepAlive: true });
    // etcd starts the lease's clock when it grants it, after this.
    const grantSentAt = this.clock.now();
    let id: string;
    try {
      id = await lease.grant();
      const put = this.client.put(key).value(codec.encodeMachine(this.machine)).lease(id);
      // Only over exactly what was read: absent, or bound to the lease we recognised.
      const txn = existing === undefined ? this.client.if(key, 'Version', '==', 0) : this.client.if(key, 'Lease', '==', existing.lease);
      const result = await txn.then(put).commit();
      if (!result.succeeded) {
        await lease.revoke().catch(() => lease.release());
        return { kind: 'raced' };
      }
    } catch (err) {
      lease.release();
      throw new RegistryUnavailableError('register machine', { cause: err });
    }
    this.leaseId = id;
    this.own.add(id);
    this.confirmed = grantSentAt;
    this.unanswered = [];
    lease.on('keepaliveFired', () => {
      if (this.lease !== lease) return;
      this.unanswered.push(this.clock.now());
      if (this.unanswered.length > 16) this.unanswered.shift();
    });
    lease.on('keepaliveSucceeded', () => {
      if (this.lease !== lease) return;
      // etcd renewed the lease when it read the request, which was after it was sent.
      const sentAt = this.unanswered.shift();
      if (sentAt !== undefined && (this.confirmed === undefined || sentAt > this.confirmed)) this.confirmed = sentAt;
    });
    lease.on('lost', (err) => {
      if (this.lease !== lease || this.stopped) return;
      this.options.outages?.record(this.clock.now());
      this.log.warn('presence lease lost; re-registering', { err, leaseId: id });
      this.lease = undefined;
      void this.reRegister();
    });
    lease.on('keepaliveFailed', () => {
      // The stream is torn down: requests not answered on it never will be.
      if (this.lease === lease) this.unanswered = [];
      const now = this.clock.now();
      this.options.outages?.record(now);
      if (now - this.lastFailureLog > 5_000) {
        this.lastFailureLog = now;
        this.log.warn('presence keepalive failing (etcd unreachable?)');
      }
    });
    this.lease = lease;
    this.options.onRegistered?.(id);
    return { kind: 'registered' };
  }

  private async reRegister(): Promise<void> {
    if (await this.registerUntilDone(() => false)) {
      for (const listener of this.renewedListeners) listener();
    }
  }

  private decodeHolder(key: string, raw: string): MachineState | undefined {
    try {
      return codec.decodeMachine(key, this.machine.id, raw);
    } catch {
      return undefined;
    }
  }
}
