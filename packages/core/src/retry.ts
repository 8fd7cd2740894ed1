import type { Clock } from './clock.js';

/**
 * How the wait between attempts grows: `initialMs` before the second attempt, times `factor` after
 * each further failure, never more than `maxMs`. `factor` 1 (or `initialMs === maxMs`) is a fixed
 * delay. With `jitter` (0 to 1), each delay is drawn uniformly from `[d * (1 - jitter), d]`, so that
 * many clients that failed together do not come back together.
 */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Growth per failed attempt; 2 unless told. */
  readonly factor?: number;
  /** Share of each delay that is random, 0 (the default) to 1. */
  readonly jitter?: number;
}

/**
 * The wait after failed attempt number `attempt` (0 for the first failure). Pure but for `random`,
 * which tests replace.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const factor = policy.factor ?? 2;
  // Capped before multiplying further, so a long outage never overflows to Infinity.
  let delay = Math.min(policy.initialMs, policy.maxMs);
  for (let i = 0; i < attempt && delay < policy.maxMs; i++) delay = Math.min(delay * factor, policy.maxMs);
  const jitter = Math.min(1, Math.max(0, policy.jitter ?? 0));
  return jitter === 0 ? delay : delay * (1 - jitter * random());
}

/** What {@link retry} tells its `onRetry` hook before it waits. */
export interface RetryEvent {
  /** Failed attempts so far (1 after the first failure). */
  readonly attempt: number;
  /** How long it waits before the next attempt. */
  readonly delayMs: number;
}

/** Options of {@link retry}. */
export interface RetryOptions {
  readonly clock: Clock;
  readonly policy: BackoffPolicy;
  /** Aborting stops the retries: the pending wait ends and `retry` rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Whether an error is worth another attempt; every error is, unless told. Others reject at once. */
  readonly isRetryable?: (err: unknown) => boolean;
  /** Called after each retryable failure, before the wait (to log it). */
  readonly onRetry?: (err: unknown, event: RetryEvent) => void;
  /** Replaces `Math.random` for the policy's jitter. */
  readonly random?: () => number;
}

/**
 * Calls `fn` until it resolves, waiting on `clock` between attempts as `policy` says. Rejects with
 * the error of `fn` when `isRetryable` refuses it, and with the signal's reason once `signal` aborts
 * (also when an attempt fails because of the abort), so a caller that stops sees why.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { clock, policy, signal } = options;
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (options.isRetryable !== undefined && !options.isRetryable(err)) throw err;
      const delayMs = backoffDelay(attempt, policy, options.random);
      options.onRetry?.(err, { attempt: attempt + 1, delayMs });
      await clock.sleep(delayMs, signal);
    }
  }
}
