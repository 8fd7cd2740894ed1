import type { Clock } from '../clock.js';

interface Sleeper {
  readonly until: number;
  readonly resolve: () => void;
}

/**
 * A clock that moves only when a test says so. `sleep` waits until {@link advance} has moved `now`
 * to its deadline (or its signal aborts); {@link whenSleeping} waits, without polling, until the code
 * under test has gone to sleep, so that a test can drive a loop one step at a time.
 */
export class FakeClock implements Clock {
  #now: number;
  #sleepers: Sleeper[] = [];
  #sleepWaiters: Array<{ readonly count: number; readonly resolve: () => void }> = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason);
      };
      const sleeper: Sleeper = {
        until: this.#now + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.push(sleeper);
      this.#wakeSleepWaiters();
    });
  }

  /** How many sleeps are pending. */
  get sleeping(): number {
    return this.#sleepers.length;
  }

  /** The durations still to go of the pending sleeps, soonest first. */
  get pendingSleeps(): number[] {
    return this.#sleepers.map((s) => s.until - this.#now).sort((a, b) => a - b);
  }

  /** Resolves once at least `count` sleeps are pending. */
  whenSleeping(count = 1): Promise<void> {
    if (this.#sleepers.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#sleepWaiters.push({ count, resolve }));
  }

  /** Moves time forward by `ms`, ending every sleep whose deadline is reached, in deadline order. */
  advance(ms: number): void {
    this.#now += ms;
    const due = this.#sleepers.filter((s) => s.until <= this.#now).sort((a, b) => a.until - b.until);
    this.#sleepers = this.#sleepers.filter((s) => s.until > this.#now);
    for (const sleeper of due) sleeper.resolve();
  }

  #wakeSleepWaiters(): void {
    const ready = this.#sleepWaiters.filter((w) => this.#sleepers.length >= w.count);
    this.#sleepWaiters = this.#sleepWaiters.filter((w) => this.#sleepers.length < w.count);
    for (const waiter of ready) waiter.resolve();
  }
}
