import type { Clock, Logger } from '@fleet/core';
import { atMostOnceMarginMs, parseRequirements, type UnitFile, type UnitName } from '@fleet/core/model';
import type { PresenceLeaseHealth } from '@fleet/core/registry';
import { isActive } from './plan.js';
import type { UnitManager } from './unit-manager.js';

/**
 * Whether this machine may run its at-most-once units now: only while its presence lease is sure
 * to outlive the next {@link atMostOnceMarginMs}. `until` is when that ends unless a keepalive is
 * confirmed meanwhile. Pure.
 */
export type LeaseVerdict = { readonly safe: true; readonly until: number } | { readonly safe: false };

export function leaseVerdict(health: PresenceLeaseHealth, now: number): LeaseVerdict {
  if (health.confirmedAt === undefined) return { safe: false };
  const until = health.confirmedAt + health.ttlMs - atMostOnceMarginMs(health.ttlMs);
  return now < until ? { safe: true, until } : { safe: false };
}

/** How often the guard looks again while the lease is not safe (the plan holds starts meanwhile). */
const unsafePollMs = 250;

/**
 * Which of the agent's units are at-most-once (`[X-Fleet] AtMostOnce=true`), remembered from the
 * files they were scheduled with, so that the guard can stop them while etcd is out of reach.
 */
export class AtMostOnceUnits {
  private readonly flags = new Map<string, boolean>();
  private current: ReadonlySet<UnitName> = new Set();

  /** The at-most-once units now known. */
  get units(): ReadonlySet<UnitName> {
    return this.current;
  }

  /**
   * Records the units scheduled here after a pass. Units no longer scheduled but still loaded keep
   * their mark until they are unloaded: the plan stops them, and the guard may have to first.
   */
  update(desired: ReadonlyMap<UnitName, { readonly hash: string; readonly file: UnitFile }>, loaded: ReadonlySet<UnitName>): void {
    const next = new Set<UnitName>();
    const flags = new Map<string, boolean>();
    for (const [name, { hash, file }] of desired) {
      const key = `${name}\u0000${hash}`;
      const flag = this.flags.get(key) ?? parseRequirements(name, file).atMostOnce;
      flags.set(key, flag);
      if (flag) next.add(name);
    }
    for (const name of this.current) if (!desired.has(name) && loaded.has(name)) next.add(name);
    this.flags.clear();
    for (const [key, flag] of flags) this.flags.set(key, flag);
    this.current = next;
  }
}

export interface AtMostOnceGuardOptions {
  readonly lease: PresenceLeaseHealth;
  readonly marked: AtMostOnceUnits;
  readonly units: UnitManager;
  /** The agent's started units: a unit the guard stops leaves it, so that the agent starts it again once safe. */
  readonly started: Set<UnitName>;
  readonly clock: Clock;
  readonly log: Logger;
  /** Called after the guard stopped units (the publisher reports them). */
  readonly onStopped: () => void;
  /** Called when the lease is safe again after it was not (a pass may start the units again). */
  readonly onSafeAgain: () => void;
}

/**
 * Stops the at-most-once units on this machine once its lease is no longer safe (see
 * {@link leaseVerdict}), before etcd can expire it and the engine start them elsewhere. Runs apart
 * from the agent's pass, which fails while etcd is out of reach; needs nothing but the clock and
 * the local systemd.
 */
export async function guardAtMostOnce(options: AtMostOnceGuardOptions, signal: AbortSignal): Promise<void> {
  const { lease, marked, clock, log } = options;
  let wasSafe = true;
  while (!signal.aborted) {
    const verdict = leaseVerdict(lease, clock.now());
    if (verdict.safe) {
      if (!wasSafe) {
        log.info('presence lease confirmed again: at-most-once units may run');
        options.onSafeAgain();
      }
      wasSafe = true;
      // A confirmed keepalive moves `until` on: look again then.
      await clock.sleep(Math.max(1, verdict.until - clock.now()), signal).catch(() => undefined);
      continue;
    }
    if (marked.units.size > 0) {
      try {
        const stopped = await stopRunning(options, !wasSafe);
        if (stopped.length > 0) {
          log.warn('presence lease not confirmed in time: stopped at-most-once units before it can expire', {
            units: stopped, confirmedAt: lease.confirmedAt === undefined ? undefined : new Date(lease.confirmedAt).toISOString(),
          });
          options.onStopped();
        }
        wasSafe = false;
      } catch (err) {
        log.error('cannot stop at-most-once units; trying again', { err });
      }
    } else wasSafe = false;
    await clock.sleep(unsafePollMs, signal).catch(() => undefined);
  }
}

/**
 * Stops the marked units that run. On the first look after the lease became unsafe systemd is
 * asked which run; after that only units the agent started since are stopped (it holds their starts
 * back, so normally none).
 */
async function stopRunning({ marked, units, started }: AtMostOnceGuardOptions, alreadyUnsafe: boolean): Promise<UnitName[]> {
  const names = [...marked.units];
  let running: UnitName[];
  if (alreadyUnsafe) running = names.filter((n) => started.has(n));
  else {
    const states = await units.unitStates(names);
    running = names.filter((n) => started.has(n) || isActive(states.get(n)));
  }
  for (const name of running) {
    await units.stop(name);
    started.delete(name);
  }
  return running;
}
