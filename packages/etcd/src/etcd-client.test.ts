import { describe, expect, it } from 'vitest';
import { watchBackoff } from './etcd-client.js';

describe('watchBackoff', () => {
  it('gives etcd3 the policy delays through next(), within the jitter, and restarts from the factory', () => {
    const factory = watchBackoff({ initialMs: 100, maxMs: 1_000, jitter: 0.5 });
    // etcd3 reads `factory.next()` first and `next()` of that after each failed reconnection.
    let backoff = factory.next(undefined);
    const durations: number[] = [];
    for (let i = 0; i < 6; i++) {
      durations.push(backoff.duration);
      backoff = backoff.next(undefined);
    }
    const ceilings = [100, 200, 400, 800, 1_000, 1_000];
    durations.forEach((d, i) => {
      expect(d).toBeLessThanOrEqual(ceilings[i] ?? 0);
      expect(d).toBeGreaterThanOrEqual((ceilings[i] ?? 0) / 2);
    });
    expect(factory.next(undefined).duration).toBeLessThanOrEqual(100);
  });
});
