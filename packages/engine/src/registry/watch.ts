import type { Etcd3 } from 'etcd3';
import type { Logger } from '../log.js';

/**
 * Turns an etcd watch into coalesced wake-ups. A wake-up is also emitted when the watch (re)connects,
 * since events may have been missed while disconnected; consumers re-read state (level-triggered).
 */
export async function* watchPrefix(client: Etcd3, prefix: string, signal: AbortSignal, log: Logger): AsyncIterable<void> {
  let pending = true; // the first wake-up is immediate: consumers read once before any change
  let notify: (() => void) | undefined;
  const wake = (): void => {
    pending = true;
    notify?.();
  };
  let watcher: Awaited<ReturnType<ReturnType<Etcd3['watch']>['create']>> | undefined;
  while (!signal.aborted && watcher === undefined) {
    try {
      watcher = await client.watch().prefix(prefix).create();
    } catch (err) {
      log.warn('cannot create watch; retrying', { prefix, err });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  if (watcher === undefined) return;
  watcher.on('data', wake);
  watcher.on('connected', wake);
  watcher.on('error', (err) => log.warn('watch error', { prefix, err }));
  const onAbort = (): void => notify?.();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    while (!signal.aborted) {
      if (!pending) await new Promise<void>((resolve) => (notify = resolve));
      notify = undefined;
      if (signal.aborted) break;
      pending = false;
      yield;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    await watcher.cancel().catch(() => undefined);
  }
}

/** Merges wake-up streams into one; ends when all of them end. */
export async function* mergeWakeups(sources: readonly AsyncIterable<void>[]): AsyncIterable<void> {
  if (sources.length === 1 && sources[0] !== undefined) {
    yield* sources[0];
    return;
  }
  let pending = false;
  let notify: (() => void) | undefined;
  let live = sources.length;
  const drains = sources.map(async (source) => {
    try {
      for await (const _ of source) {
        pending = true;
        notify?.();
      }
    } finally {
      live--;
      notify?.();
    }
  });
  try {
    while (live > 0 || pending) {
      if (!pending) await new Promise<void>((resolve) => (notify = resolve));
      notify = undefined;
      if (pending) {
        pending = false;
        yield;
      }
    }
  } finally {
    await Promise.allSettled(drains);
  }
}
