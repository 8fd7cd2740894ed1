import type { ApiUnit, FleetApiClient } from './api-client.js';

/**
 * How many requests one command keeps in flight when it writes many units: enough to hide the
 * round trip and etcd's commit latency, few enough not to swamp a fleetd (fleet's own fleetctl
 * sends them one after the other).
 */
export const requestsInFlight = 16;

/** What became of one item of {@link mapBounded}; `undefined` when it was never started. */
export type Settled<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown } | undefined;

/**
 * Calls `fn` on every item, at most `limit` at a time, starting them in order; once one fails no
 * further item is started (those already started run to their end). Resolves one entry per item,
 * in the items' order, so a caller can act on the first failure in order as a sequential loop
 * would have: every item before it was started and has settled. Never rejects.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<Settled<R>[]> {
  const results: Settled<R>[] = new Array<Settled<R>>(items.length).fill(undefined);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = { ok: true, value: await fn(items[index] as T, index) };
      } catch (error) {
        results[index] = { ok: false, error };
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * The registered units among `names`, by name (absent: not registered), in one request: `GET
 * /units/<name>` for a single name, else one listing of all units (`GET /units`, every page),
 * which costs a few requests per hundred units in the cluster instead of one per name. Rejects
 * like the client.
 */
export async function fetchUnits(client: Pick<FleetApiClient, 'getUnit' | 'listUnits'>, names: Iterable<string>): Promise<Map<string, ApiUnit>> {
  const wanted = new Set(names);
  if (wanted.size === 0) return new Map();
  if (wanted.size === 1) {
    const unit = await client.getUnit(wanted.values().next().value as string);
    return new Map(unit === undefined ? [] : [[unit.name, unit]]);
  }
  return new Map((await client.listUnits()).filter((u) => wanted.has(u.name)).map((u) => [u.name, u]));
}
