import type { Etcd3 } from 'etcd3';
import { retry, systemClock, Wakeup, type BackoffPolicy } from '@fleet/core';
import type { Logger } from '@fleet/core';

/** Creating a watch fails only while etcd is unreachable; it is tried again every second. */
const createRetry: BackoffPolicy = { initialMs: 1_000, maxMs: 1_000 };

/**
 * Turns an etcd watch into coalesced wake-ups, the first one immediately (consumers read once
 * before any change). A wake-up is also emitted when the watch (re)connects, since events may have
 * been missed while disconnected; consumers re-read state (level-triggered). Ends when `signal` aborts.
 */
export async function* watchPrefix(client: Etcd3, prefix: string, signal: AbortSignal, log: Logger): AsyncIterable<void> {
  let watcher: Awaited<ReturnType<ReturnType<Etcd3['watch']>['create']>>;
  try {
    watcher = await retry(() => client.watch().prefix(prefix).create(), {
      clock: systemClock,
      signal,
      policy: createRetry,
      onRetry: (err) => log.warn('cannot create watch; retrying', { prefix, err }),
    });
  } catch (err) {
    if (signal.aborted) return;
    throw err;
  }
  const wake = new Wakeup();
  wake.notify();
  watcher.on('data', wake.notify);
  watcher.on('connected', wake.notify);
  watcher.on('error', (err) => log.warn('watch error', { prefix, err }));
  try {
    yield* wake.stream(signal);
  } finally {
    await watcher.cancel().catch(() => undefined);
  }
}
