import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { RegistryUnavailableError, systemClock, Wakeup, type Clock, type Logger } from '@fleet/core';
import type { UnitFile } from '@fleet/core/model';
import { ClusterState, applyWatchEvents, type ChangeFeed, type ChangeScope, type ClusterView, type ClusterViewSource, type KeySchema, type WatchEvent } from '@fleet/core/registry';
import { etcdCall, etcdClient, lastWriteRevision, type EtcdConnection } from './etcd-client.js';
import { readUnitFiles, UnitFileCache } from './unit-file-cache.js';

/** Keys per range request of a fill (all at one revision); keeps each response far below gRPC's 4 MB. */
const fillPageSize = 1_000;
/**
 * A watch that has been quiet this long may be cut off (a frozen or partitioned etcd does not
 * close it): the next read first checks that etcd answers, with one tiny range shared by every read
 * meanwhile. So an idle cluster costs at most one request a second, whatever the request rate, and
 * reads fail during an outage as they did when they went to etcd.
 */
const maxQuietMs = 1_000;

export interface ClusterCacheOptions {
  /**
   * How long a read waits for the cache to reach this connection's last write (or its first fill)
   * before failing with RegistryUnavailableError (a 503 from the API, a failed engine pass that
   * is retried). Default 2 s.
   */
  readonly waitMs?: number;
  /** Bound of the unit-file cache (default 20,000 files). */
  readonly unitFileCacheSize?: number;
  readonly clock?: Clock;
}

/**
 * One fleetd's view of its cluster, kept in memory (the informer pattern): filled by ranges at ONE
 * revision, then kept current by a watch of the whole prefix from the next revision, applied with
 * {@link applyWatchEvents}. A watch that fails (etcd compacted past it, or cancelled it) is
 * replaced by a new fill; the old view serves until the new one is complete. Reads cost no etcd
 * request, except for unit files not yet cached (fetched in batches).
 *
 * Read-your-own-writes: {@link view} waits until the cache revision has reached the last write
 * made through the same connection under the same prefix (by the registry or a presence: see
 * `noteWrite`); after `waitMs` it fails (RegistryUnavailableError) rather
 * than answer from a view that misses that write. Writes that must be fresh (create,
 * compare-and-set) go to etcd through the registry, never through this.
 */
export class EtcdClusterCache implements ClusterViewSource, ChangeFeed {
  private state: ClusterState | undefined;
  private readonly files: UnitFileCache;
  /** Reads waiting for the view to advance. */
  private advanceWaiters = new Set<() => void>();
  /** Wakes the engine's `cluster` feed: units, machines and metadata changed (or a new fill). */
  private readonly clusterWatchers = new Set<Wakeup>();
  private readonly client: Etcd3;
  private readonly clock: Clock;
  /** When etcd was last heard from (a fill, a watch response, a probe). */
  private lastHeard = -Infinity;
  private probing: Promise<void> | undefined;
  /** Fills done, for tests and the benchmark. */
  fills = 0;

  constructor(connection: EtcdConnection, private readonly keys: KeySchema, private readonly log: Logger, private readonly options: ClusterCacheOptions = {}) {
    this.client = etcdClient(connection);
    this.files = new UnitFileCache(log, options.unitFileCacheSize);
    this.clock = options.clock ?? systemClock;
  }

  /** The revision the view reflects ('0' before the first fill). */
  get revision(): string {
    return this.state?.revision ?? '0';
  }

  /** Fills and follows until `signal` aborts; resolves once the first fill is in. */
  start(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      void this.run(signal, resolve);
    });
  }

  async view(): Promise<ClusterView> {
    if (this.clock.now() - this.lastHeard > maxQuietMs) await this.probe();
    const wanted = lastWriteRevision(this.client, this.keys.prefix);
    const ready = (): ClusterState | undefined => (this.state !== undefined && BigInt(this.state.revision) >= wanted ? this.state : undefined);
    const now = ready();
    if (now !== undefined) return now;
    const timeout = new AbortController();
    const waitMs = this.options.waitMs ?? 2_000;
    const expired = this.clock.sleep(waitMs, timeout.signal).then(() => true, () => false);
    try {
      for (;;) {
        const timedOut = await Promise.race([expired, new Promise<boolean>((resolve) => this.advanceWaiters.add(() => resolve(false)))]);
        const state = ready();
        if (state !== undefined) return state;
        if (timedOut) break;
      }
    } finally {
      timeout.abort();
    }
    throw new RegistryUnavailableError('read cluster view', {
      cause: new Error(`the cluster cache is at revision ${this.revision}, short of this fleetd's write at ${wanted} after ${waitMs} ms`),
    });
  }

  /** Checks that etcd answers (within the read bound), once for all reads waiting meanwhile. */
  private probe(): Promise<void> {
    this.probing ??= (async () => {
      const waitMs = this.options.waitMs ?? 2_000;
      const timeout = new AbortController();
      try {
        const answered = etcdCall('check etcd', () => this.client.kv.range({ key: Buffer.from(this.keys.prefix), limit: 1, keys_only: true }));
        // Whichever loses the race settles later, unobserved: neither may reject unhandled.
        answered.catch(() => undefined);
        const expired = this.clock.sleep(waitMs, timeout.signal).then(
          () => { throw new RegistryUnavailableError('check etcd', { cause: new Error(`etcd did not answer within ${waitMs} ms`) }); },
          () => undefined,
        );
        await Promise.race([answered, expired]);
        this.lastHeard = this.clock.now();
      } finally {
        timeout.abort();
        this.probing = undefined;
      }
    })();
    return this.probing;
  }

  unitFiles(hashes: readonly string[]): Promise<ReadonlyMap<string, UnitFile>> {
    return readUnitFiles(this.client, this.keys, this.files, hashes);
  }

  /** Wake-ups for the engine (`cluster`: units, machines, metadata); other scopes are the registry's. */
  async *changes(scope: ChangeScope, signal: AbortSignal): AsyncIterable<void> {
    if (scope.kind !== 'cluster') throw new Error('the cluster cache feeds only the cluster scope');
    const wake = new Wakeup();
    wake.notify();
    this.clusterWatchers.add(wake);
    try {
      yield* wake.stream(signal);
    } finally {
      this.clusterWatchers.delete(wake);
    }
  }

  private async run(signal: AbortSignal, filled: () => void): Promise<void> {
    let delayMs = 100;
    while (!signal.aborted) {
      try {
        const state = await this.fill();
        this.state = state;
        this.lastHeard = this.clock.now();
        this.fills += 1;
        filled();
        delayMs = 100;
        this.changed(true);
        await this.follow(state, signal);
      } catch (err) {
        if (signal.aborted) return;
        this.log.warn('cluster cache lost its watch; filling it again', { err, revision: this.revision });
        await this.clock.sleep(delayMs, signal).catch(() => undefined);
        delayMs = Math.min(delayMs * 2, 1_000);
      }
    }
  }

  /** Every key under the prefix, in pages, all at the revision of the first page. */
  private async fill(): Promise<ClusterState> {
    const state = new ClusterState();
    const end = prefixEnd(this.keys.prefix);
    let from = Buffer.from(this.keys.prefix);
    let revision: string | undefined;
    for (;;) {
      const res = await etcdCall('fill cluster cache', () => this.client.kv.range({ key: from, range_end: end, limit: fillPageSize, ...(revision === undefined ? {} : { revision }) }));
      revision ??= res.header.revision;
      this.apply(state, res.kvs.map((kv) => toEvent(kv, kv.value.toString())));
      const last = res.kvs.at(-1);
      if (!res.more || last === undefined) break;
      from = Buffer.concat([last.key, Buffer.from([0])]);
    }
    // The view reflects the fill's revision, even if its last change under the prefix is older.
    state.revision = revision;
    return state;
  }

  /** Applies the watch's events until it fails; returns when `signal` aborts. */
  private async follow(state: ClusterState, signal: AbortSignal): Promise<void> {
    const watcher: Watcher = await etcdCall('watch cluster', () =>
      this.client.watch().prefix(this.keys.prefix).startRevision((BigInt(state.revision) + 1n).toString()).create(),
    );
    try {
      await new Promise<void>((resolve, reject) => {
        if (signal.aborted) return resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
        watcher.on('error', reject);
        watcher.on('end', () => reject(new Error('watch ended')));
        watcher.on('connected', () => (this.lastHeard = this.clock.now()));
        watcher.on('data', (res) => {
          this.lastHeard = this.clock.now();
          const events = res.events.map((e) => toEvent(e.kv, e.type === 'Delete' ? undefined : e.kv.value.toString()));
          const touchesCluster = this.apply(state, events);
          // A progress or empty response moves nothing; the header revision may be of other prefixes.
          this.changed(touchesCluster);
        });
      });
    } finally {
      await watcher.cancel().catch(() => undefined);
    }
  }

  /** Applies events (caching unit files they carry); true if any was a unit, machine or metadata change. */
  private apply(state: ClusterState, events: readonly WatchEvent[]): boolean {
    let cluster = false;
    for (const e of events) {
      const c = this.keys.classify(e.key);
      if (c?.kind === 'units' || c?.kind === 'machines' || c?.kind === 'machine-metadata') cluster = true;
      else if (c?.kind === 'unit-files' && e.value !== undefined && this.files.size < this.files.limit) this.files.putStored(e.key, c.parts[0] ?? '', e.value);
    }
    const corrupt = applyWatchEvents(state, this.keys, events);
    if (corrupt.length > 0) this.log.warn('skipping corrupt records', { keys: corrupt });
    return cluster;
  }

  private changed(cluster: boolean): void {
    const waiters = this.advanceWaiters;
    this.advanceWaiters = new Set();
    for (const w of waiters) w();
    if (cluster) for (const w of this.clusterWatchers) w.notify();
  }
}

function toEvent(kv: IKeyValue, value: string | undefined): WatchEvent {
  return { key: kv.key.toString(), value, revision: kv.mod_revision };
}

/** The first key after every key starting with `prefix` (etcd's range end of a prefix). */
function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
