import { Etcd3 } from 'etcd3';

/** The cluster's key prefix, as the local cluster configures every fleetd. */
export const fleetPrefix = '/_coreos.com/fleet/';
const leaderPrefix = `${fleetPrefix}engine/leader/`;
/** Outside the fleet prefix, so that no fleetd reads it. */
const markerKey = '/fault-tests/history-marker';

/** One write as etcd's history records it. */
export interface HistoryEvent {
  readonly revision: bigint;
  readonly key: string;
  readonly kind: 'put' | 'delete';
}

/** The engine leader's candidate key at some revision: its key, create revision and machine ID. */
export interface LeaderKey {
  readonly key: string;
  readonly createRevision: bigint;
  readonly machineId: string;
}

/** Raw reads of the test cluster's etcd, by revision: what the fleetds wrote, not what they say. */
export class EtcdHistory {
  private readonly client: Etcd3;

  constructor(clientUrl: string) {
    this.client = new Etcd3({ hosts: clientUrl });
  }

  /** etcd's current revision. */
  async revision(): Promise<bigint> {
    return BigInt((await this.client.getAll().prefix(fleetPrefix).limit(1).exec()).header.revision);
  }

  /** The leading candidate (lowest create revision under `engine/leader/`) at `revision` (default: now). */
  async leaderAt(revision?: bigint): Promise<LeaderKey | undefined> {
    let q = this.client.getAll().prefix(leaderPrefix).sort('Create', 'Ascend').limit(1);
    if (revision !== undefined) q = q.revision(revision.toString());
    const kv = (await q.exec()).kvs[0];
    return kv === undefined ? undefined : { key: kv.key.toString(), createRevision: BigInt(kv.create_revision), machineId: kv.value.toString() };
  }

  /** The lease each key under `<prefix><kind>/` is bound to (`'0'`: none), by key. */
  async leasesOf(kind: string): Promise<Map<string, string>> {
    const res = await this.client.getAll().prefix(`${fleetPrefix}${kind}/`).exec();
    return new Map(res.kvs.map((kv) => [kv.key.toString(), kv.lease]));
  }

  /**
   * Every write after `fromRevision` (exclusive) up to now, read by a watch that starts in the past.
   * It ends at a marker this call writes outside the fleet prefix, so that no write before the call
   * is missed however etcd batches the replay.
   */
  async since(fromRevision: bigint): Promise<HistoryEvent[]> {
    const watcher = await this.client.watch().prefix('/').startRevision((fromRevision + 1n).toString()).create();
    const events: HistoryEvent[] = [];
    const marker = `${process.pid}-${Date.now()}`;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`etcd history from ${fromRevision}: the marker did not come back within 20 s`)), 20_000);
        watcher.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        watcher.on('data', (res) => {
          for (const e of res.events) {
            const key = e.kv.key.toString();
            if (key === markerKey) {
              if (e.kv.value.toString() === marker) {
                clearTimeout(timer);
                resolve();
              }
              continue;
            }
            events.push({ revision: BigInt(e.kv.mod_revision), key, kind: e.type === 'Delete' ? 'delete' : 'put' });
          }
        });
        this.client.put(markerKey).value(marker).exec().catch(reject);
      });
    } finally {
      await watcher.cancel().catch(() => undefined);
    }
    return events;
  }

  close(): void {
    this.client.close();
  }
}

/**
 * Whether a write is one only the engine makes, always in a transaction fenced by its leader key:
 * a schedule entry or a reason written or deleted, or a unit file deleted (garbage collection; the
 * API writes unit files, never deletes them).
 */
export function isEngineWrite(e: HistoryEvent): boolean {
  const kind = e.key.startsWith(fleetPrefix) ? e.key.slice(fleetPrefix.length).split('/')[0] : undefined;
  return kind === 'schedule' || kind === 'reasons' || (kind === 'unit-files' && e.kind === 'delete');
}
