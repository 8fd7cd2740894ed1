import type { Etcd3, Lease } from 'etcd3';
import { etcdClient, type EtcdConnection } from './etcd-client.js';
import { retry, type BackoffPolicy, type Clock, type Logger } from '@fleet/core';
import type { MachineId } from '@fleet/core/model';
import { KeySchema } from '@fleet/core/registry';
import { watchPrefix } from './watch.js';
import type { Leadership, LeaderTerm } from '@fleet/core/registry';

/** A failed campaign (etcd unreachable, lease lost while waiting) is tried again every second. */
const campaignRetry: BackoffPolicy = { initialMs: 1_000, maxMs: 1_000 };

/**
 * Leader election on etcd: each candidate creates `engine/leader/<lease id>` bound to its own lease;
 * the candidate whose key has the lowest create revision leads. Because revisions only grow, a leader
 * stays leader for as long as its key exists, so the fence of every leader write is "my key still has
 * my create revision" (checked inside the write's transaction). We do not use etcd3's `Election`:
 * ENVIRONMENT.md records it dying on lease loss and misreporting the leader.
 */
export class EtcdLeadership implements Leadership {
  private readonly keys: KeySchema;
  /**
   * Leases of ended terms and failed campaigns that etcd has not confirmed revoked (it was
   * unreachable). Each one's candidate key blocks every campaign, this process's own included,
   * until etcd expires it, and etcd restarts its lease clocks when it starts: after an outage that
   * is a full TTL after etcd is back. So each campaign attempt first revokes them.
   */
  private readonly unrevoked = new Set<Lease>();

  private readonly client: Etcd3;
  constructor(
    connection: EtcdConnection,
    prefix: string,
    private readonly ttlSeconds: number,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.client = etcdClient(connection);
    this.keys = new KeySchema(prefix);
  }

  async campaign(candidate: MachineId, signal: AbortSignal): Promise<LeaderTerm> {
    return retry(() => this.campaignOnce(candidate, signal), {
      clock: this.clock,
      signal,
      policy: campaignRetry,
      onRetry: (err) => this.log.warn('campaign failed; retrying', { err }),
    });
  }

  private async campaignOnce(candidate: MachineId, signal: AbortSignal): Promise<LeaderTerm> {
    await Promise.all([...this.unrevoked].map((l) => this.revoke(l)));
    const lease = this.client.lease(this.ttlSeconds, { autoKeepAlive: true });
    const lost = new AbortController();
    lease.on('lost', (err) => lost.abort(err));
    let key: string | undefined;
    try {
      const leaseId = await lease.grant();
      key = this.keys.leaderCandidate(leaseId);
      await lease.put(key).value(candidate).exec();
      const mine = await this.client.get(key).exec();
      const createRevision = mine.kvs[0]?.create_revision;
      if (createRevision === undefined) throw new Error('candidate key vanished right after creation');
      const watch = new AbortController();
      const both = AbortSignal.any([signal, lost.signal, watch.signal]);
      try {
        // Wake on every change under the candidates prefix; lead once no older candidate remains.
        for await (const _ of watchPrefix(this.client, this.keys.leaderCandidates, both, this.log)) {
          const first = await this.client.getAll().prefix(this.keys.leaderCandidates).sort('Create', 'Ascend').limit(1).keys();
          if (first[0] === key) break;
          if (!(await this.client.get(key).exists())) throw new Error('candidate key was deleted');
        }
      } finally {
        watch.abort();
      }
      if (signal.aborted) throw signal.reason;
      if (lost.signal.aborted) throw new Error('leader lease lost during campaign', { cause: lost.signal.reason });
      return this.term(lease, key, createRevision, lost);
    } catch (err) {
      await this.revoke(lease);
      throw err;
    }
  }

  /** Revokes `lease` (its keepalives stop in any case); remembered for the next campaign if etcd does not answer. */
  private async revoke(lease: Lease): Promise<void> {
    try {
      await lease.revoke();
      this.unrevoked.delete(lease);
    } catch {
      this.unrevoked.add(lease);
    }
  }

  private term(lease: Lease, key: string, createRevision: string, lost: AbortController): LeaderTerm {
    const ended = new AbortController();
    let revoked: Promise<void> = Promise.resolve();
    // However the term ends, its lease goes with it: a key that outlived the term (its lease lost
    // on our side only, or the key deleted while the lease lives on) would hold up the next leader.
    const end = (reason: unknown): void => {
      if (ended.signal.aborted) return;
      ended.abort(reason);
      revoked = this.revoke(lease);
    };
    lost.signal.addEventListener('abort', () => end(lost.signal.reason), { once: true });
    // Also end the term if our key disappears (deleted by hand, or lease expired while we were paused).
    void (async () => {
      for await (const _ of watchPrefix(this.client, this.keys.leaderCandidates, ended.signal, this.log)) {
        const exists = await this.client.get(key).exists().catch(() => true);
        if (!exists) end(new Error('leader key deleted'));
      }
    })();
    return {
      signal: ended.signal,
      fence: { key, createRevision },
      resign: async () => {
        end(new Error('resigned'));
        await revoked;
      },
    };
  }
}
