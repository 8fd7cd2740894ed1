/**
 * `promise`, or a rejection naming `what` once `ms` have passed: a contract test that waits on
 * real I/O (etcd, systemd) fails with a message instead of hanging until vitest's own timeout.
 */
export async function withDeadline<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves once `condition` holds, checked after every turn of the event loop (no timers, so a
 * test on a fake clock keeps its own time); fails with `what` after `ms` of real time.
 */
export async function eventually(condition: () => boolean, what: string, ms = 2_000): Promise<void> {
  await withDeadline(
    (async () => {
      while (!condition()) await new Promise<void>((resolve) => setImmediate(resolve));
    })(),
    what,
    ms,
  );
}
