import type { MachineId, Requirements, UnitName } from '@fleet/core/model';
import type { PlanningInput } from '@fleet/core/registry';

/** What {@link holdAtMostOnce} decided for one pass. */
export interface AtMostOnceHold {
  /** Units to leave where they are this pass (their entries stay on the missing machine). */
  readonly units: ReadonlySet<UnitName>;
  /** When each missing machine was first seen missing; pass it to the next call. */
  readonly missingSince: ReadonlyMap<MachineId, number>;
  /** When the earliest hold ends (a pass should run then); absent when nothing is held. */
  readonly nextDueAt?: number;
}

/**
 * Holds the at-most-once units (`AtMostOnce=true`) of machines missing from the snapshot where they
 * are until `holdMs` after this engine first saw the machine missing. Their agent stopped them
 * before its lease could expire (it could not renew it, or it is dead and its watchdog fired), and
 * the hold is what makes "before" true for a stop that takes time, so they never run in two places.
 * An engine that takes the lead starts the clock afresh at its first pass: it cannot know how long
 * a machine has been missing. Global units, units made inactive or destroyed are not held. Pure.
 */
export function holdAtMostOnce(
  snapshot: PlanningInput,
  requirements: ReadonlyMap<UnitName, Requirements>,
  previous: ReadonlyMap<MachineId, number>,
  now: number,
  holdMs: number,
): AtMostOnceHold {
  const missingSince = new Map<MachineId, number>();
  const units = new Set<UnitName>();
  let nextDueAt: number | undefined;
  for (const entry of snapshot.schedule) {
    if (snapshot.machines.has(entry.machineId)) continue;
    const since = missingSince.get(entry.machineId) ?? previous.get(entry.machineId) ?? now;
    missingSince.set(entry.machineId, since);
    const unit = snapshot.units.get(entry.name);
    const req = requirements.get(entry.name);
    if (unit === undefined || unit.desiredState === 'inactive' || req === undefined || !req.atMostOnce || req.global) continue;
    const dueAt = since + holdMs;
    if (dueAt <= now) continue;
    units.add(entry.name);
    nextDueAt = nextDueAt === undefined ? dueAt : Math.min(nextDueAt, dueAt);
  }
  return nextDueAt === undefined ? { units, missingSince } : { units, missingSince, nextDueAt };
}
