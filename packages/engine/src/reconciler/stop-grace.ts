import type { UnitName } from '@fleet/core/model';
import type { UnitRecord, PlanningInput } from '@fleet/core/registry';

/** What {@link deferStops} decided for one pass. */
export interface DeferredStops {
  /** The snapshot the planner should see: units whose stop is deferred still read `launched`. */
  readonly snapshot: PlanningInput;
  /** When each deferred stop was first seen; pass it to the next call. */
  readonly firstSeen: ReadonlyMap<UnitName, number>;
  /** When the earliest deferred stop falls due (a pass should run then); absent when none is deferred. */
  readonly nextDueAt?: number;
}

/**
 * Defers the stop of running units (desired state `loaded`, scheduled `launched`) until `graceMs`
 * after the engine first saw the request, so that every client sees the unit `launched` for a
 * moment after asking for the stop. fleet's own v1.0 `fleetctl restart` sets `loaded` and then
 * waits for `launched` (a bug its slow agents hide): without the grace it would wait for ever
 * against a cluster that stops units within milliseconds. A stop withdrawn within the grace (the
 * desired state back to `launched`) never happens, as with fleet. Pure: `now` and the previous
 * `firstSeen` come from the caller.
 */
export function deferStops(snapshot: PlanningInput, previous: ReadonlyMap<UnitName, number>, now: number, graceMs: number): DeferredStops {
  if (graceMs <= 0) return { snapshot, firstSeen: new Map() };
  const runningTarget = new Set<UnitName>();
  for (const entry of snapshot.schedule) if (entry.targetState === 'launched') runningTarget.add(entry.name);
  const firstSeen = new Map<UnitName, number>();
  let units: Map<UnitName, UnitRecord> | undefined;
  let nextDueAt: number | undefined;
  for (const unit of snapshot.units.values()) {
    if (unit.desiredState !== 'loaded' || !runningTarget.has(unit.name)) continue;
    const seen = previous.get(unit.name) ?? now;
    // Kept once due too, until the schedule says `loaded`: a pass whose write failed must not
    // start the grace again.
    firstSeen.set(unit.name, seen);
    const dueAt = seen + graceMs;
    if (dueAt <= now) continue;
    units ??= new Map(snapshot.units);
    units.set(unit.name, { ...unit, desiredState: 'launched' });
    nextDueAt = nextDueAt === undefined ? dueAt : Math.min(nextDueAt, dueAt);
  }
  if (units === undefined) return { snapshot, firstSeen };
  return { snapshot: { ...snapshot, units }, firstSeen, ...(nextDueAt === undefined ? {} : { nextDueAt }) };
}
