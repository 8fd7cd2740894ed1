import { describe, expect, it } from 'vitest';
import { backoffDelay, retry, type RetryEvent } from './retry.js';
import { FakeClock } from './testing/fake-clock.js';

describe('backoffDelay', () => {
  it.each([
    { name: 'first failure waits initialMs', attempt: 0, policy: { initialMs: 500, maxMs: 8_000 }, want: 500 },
    { name: 'doubles by default', attempt: 3, policy: { initialMs: 500, maxMs: 8_000 }, want: 4_000 },
    { name: 'capped at maxMs', attempt: 5, policy: { initialMs: 500, maxMs: 8_000 }, want: 8_000 },
    { name: 'a huge attempt stays at maxMs', attempt: 10_000, policy: { initialMs: 100, maxMs: 1_000 }, want: 1_000 },
    { name: 'initialMs above maxMs is capped', attempt: 0, policy: { initialMs: 2_000, maxMs: 1_000 }, want: 1_000 },
    { name: 'factor 3', attempt: 2, policy: { initialMs: 100, maxMs: 10_000, factor: 3 }, want: 900 },
    { name: 'fixed delay when initialMs equals maxMs', attempt: 7, policy: { initialMs: 1_000, maxMs: 1_000 }, want: 1_000 },
    { name: 'factor 1 never grows', attempt: 7, policy: { initialMs: 250, maxMs: 1_000, factor: 1 }, want: 250 },
  ])('$name', ({ attempt, policy, want }) => {
    expect(backoffDelay(attempt, policy)).toBe(want);
  });

  it('draws a jittered delay from [d * (1 - jitter), d]', () => {
    const policy = { initialMs: 1_000, maxMs: 1_000, jitter: 0.5 };
    expect(backoffDelay(0, policy, () => 0)).toBe(1_000);
    expect(backoffDelay(0, policy, () => 0.5)).toBe(750);
    expect(backoffDelay(0, policy, () => 0.999)).toBeCloseTo(500.5);
  });
});

/** A function that fails `failures` times with `error`, then resolves with its attempt number. */
function failing(failures: number, error: unknown = new Error('down')) {
  const calls: number[] = [];
  return {
    calls,
    fn: async (attempt: number): Promise<number> => {
      calls.push(attempt);
      if (calls.length <= failures) throw error;
      return attempt;
    },
  };
}

describe('retry', () => {
  const policy = { initialMs: 100, maxMs: 400 };

  it('resolves at once, without waiting, when the first attempt succeeds', async () => {
    const clock = new FakeClock();
    const f = failing(0);
    await expect(retry(f.fn, { clock, policy })).resolves.toBe(0);
    expect(clock.sleeping).toBe(0);
  });

  it('waits as the policy says between attempts, and reports each retry', async () => {
    const clock = new FakeClock();
    const f = failing(4);
    const events: RetryEvent[] = [];
    const result = retry(f.fn, { clock, policy, onRetry: (_err, e) => events.push(e) });
    for (const delay of [100, 200, 400, 400]) {
      await clock.whenSleeping();
      expect(clock.pendingSleeps).toEqual([delay]);
      clock.advance(delay - 1);
      expect(clock.sleeping).toBe(1); // not a millisecond early
      clock.advance(1);
    }
    await expect(result).resolves.toBe(4);
    expect(f.calls).toEqual([0, 1, 2, 3, 4]);
    expect(events).toEqual([
      { attempt: 1, delayMs: 100 },
      { attempt: 2, delayMs: 200 },
      { attempt: 3, delayMs: 400 },
      { attempt: 4, delayMs: 400 },
    ]);
  });

  it('rejects at once with an error isRetryable refuses', async () => {
    const clock = new FakeClock();
    const fatal = new Error('bad request');
    const f = failing(1, fatal);
    await expect(retry(f.fn, { clock, policy, isRetryable: (err) => err !== fatal })).rejects.toBe(fatal);
    expect(f.calls).toEqual([0]);
    expect(clock.sleeping).toBe(0);
  });

  it('rejects with the signal reason when aborted during a wait', async () => {
    const clock = new FakeClock();
    const stop = new AbortController();
    const f = failing(Infinity);
    const result = retry(f.fn, { clock, policy, signal: stop.signal });
    await clock.whenSleeping();
    const reason = new Error('shutting down');
    stop.abort(reason);
    await expect(result).rejects.toBe(reason);
    expect(f.calls).toEqual([0]);
  });

  it('rejects with the signal reason when an attempt fails because of the abort', async () => {
    const clock = new FakeClock();
    const stop = new AbortController();
    const reason = new Error('shutting down');
    const result = retry(
      async () => {
        stop.abort(reason);
        throw new Error('aborted call');
      },
      { clock, policy, signal: stop.signal },
    );
    await expect(result).rejects.toBe(reason);
    expect(clock.sleeping).toBe(0);
  });

  it('does not call fn once the signal has aborted', async () => {
    const clock = new FakeClock();
    const f = failing(0);
    await expect(retry(f.fn, { clock, policy, signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('gone');
    expect(f.calls).toEqual([]);
  });
});
