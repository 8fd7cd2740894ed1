import { describe, expect, it } from 'vitest';
import type { UnitName } from '@fleet/core/model';
import { aMachine, aSnapshot, aUnit, scheduled } from '@fleet/core/testing';
import { planEngineTasks } from './plan.js';
import { deferStops } from './stop-grace.js';

const m = aMachine('a');
const web = aUnit('web.service', 'loaded');
const db = aUnit('db.service', 'loaded');
const grace = 250;

/** web and db asked to stop, both still scheduled launched. */
const stopping = aSnapshot({ units: [web, db], machines: [m], schedule: [scheduled(web, m), scheduled(db, m)] });

describe('deferStops', () => {
  it.each([
    ['first seen now: deferred, due after the grace', new Map<UnitName, number>(), 1_000, ['web.service', 'db.service'], 1_250],
    ['seen 100 ms ago: still deferred', new Map([[web.name, 900], [db.name, 900]]), 1_000, ['web.service', 'db.service'], 1_150],
    ['grace over for web only: web stops, db waits', new Map([[web.name, 700], [db.name, 900]]), 1_000, ['db.service'], 1_150],
    ['grace over for both: nothing deferred', new Map([[web.name, 700], [db.name, 750]]), 1_000, [], undefined],
  ])('%s', (_what, previous, now, deferred, due) => {
    const out = deferStops(stopping, previous, now, grace);
    const shownLaunched = [...out.snapshot.units.values()].filter((u) => u.desiredState === 'launched').map((u) => u.name);
    expect(shownLaunched).toEqual(deferred);
    expect(out.nextDueAt).toBe(due);
    // Remembered until the schedule says loaded, so a failed write does not restart the grace.
    expect([...out.firstSeen.keys()].sort()).toEqual(['db.service', 'web.service']);
  });

  it('leaves alone units already scheduled loaded, units being started and units without a schedule entry', () => {
    const started = aUnit('new.service', 'launched');
    const loose = aUnit('loose.service', 'loaded');
    const snapshot = aSnapshot({ units: [web, started, loose], machines: [m], schedule: [scheduled(web, m, 'loaded'), scheduled(started, m, 'loaded')] });
    const out = deferStops(snapshot, new Map(), 1_000, grace);
    expect(out.snapshot).toBe(snapshot);
    expect(out.firstSeen.size).toBe(0);
    expect(out.nextDueAt).toBeUndefined();
  });

  it('forgets a stop that was withdrawn (desired launched again): the unit never stops', () => {
    const restarted = aSnapshot({ units: [aUnit('web.service', 'launched')], machines: [m], schedule: [scheduled(web, m)] });
    const out = deferStops(restarted, new Map([[web.name, 900]]), 1_000, grace);
    expect(out.firstSeen.size).toBe(0);
    expect(planEngineTasks(out.snapshot).tasks).toEqual([]);
  });

  it('makes the planner keep a unit launched during its grace and stop it after', () => {
    const during = deferStops(stopping, new Map(), 1_000, grace);
    expect(planEngineTasks(during.snapshot).tasks).toEqual([]);
    const after = deferStops(stopping, during.firstSeen, 1_250, grace);
    expect(planEngineTasks(after.snapshot).tasks.map((t) => t.change)).toEqual([
      { kind: 'schedule', entry: scheduled(db, m, 'loaded') },
      { kind: 'schedule', entry: scheduled(web, m, 'loaded') },
    ]);
  });

  it('does nothing with a grace of 0', () => {
    const out = deferStops(stopping, new Map(), 1_000, 0);
    expect(out.snapshot).toBe(stopping);
    expect(out.nextDueAt).toBeUndefined();
  });
});
