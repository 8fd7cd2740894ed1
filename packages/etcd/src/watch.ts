import type { Etcd3 } from 'etcd3';
import { systemClock, Wakeup } from '@fleet/core';
import type { Logger } from '@fleet/core';

/**
 * Turns an etcd watch into coalesced wake-ups, the first one immediately (consumers read once
 * before any change). A wake-up is also emitted when the watch (re)connects, since events may have
 * been missed while disconnected; consumers re-read state (level-triggered). Ends when `signal` aborts.
 */
export async function* watchPrefix(client: Etcd3, prefix: string, signal: AbortSignal, log: Logger): AsyncIterable<void> {
  let watcher: Awaited<ReturnType<ReturnType<Etcd3['watch']>['create']>> | undefined;
  while (!signal.aborted && watcher === undefined) {
    try {
      watcher = await client.watch().prefix(prefix).create();
    } catch (err) {
      log.warn('cannot create watch; retrying', { prefix, err });
      await systemClock.sleep(1000, signal).catch(() => undefined);
    }
  }
  if (watcher === undefined) return;
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
