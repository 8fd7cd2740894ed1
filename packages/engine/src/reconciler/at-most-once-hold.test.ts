import { describe, expect, it } from 'vitest';
import type { Requirements, UnitName } from '@fleet/core/model';
import { aMachine, aRequirements, aSnapshot, aUnit, scheduled } from '@fleet/core/testing';
import { holdAtMostOnce } from './at-most-once-hold.js';

const a = aMachine('a');
const b = aMachine('b');
const once = aUnit('once.service');
const plain = aUnit('plain.service');
const idle = aUnit('idle.service', 'inactive');
const everywhere = aUnit('everywhere.service');
const requirements = new Map<UnitName, Requirements>([
  [once.name, aRequirements({ atMostOnce: true })],
  [plain.name, aRequirements()],
  [idle.name, aRequirements({ atMostOnce: true })],
  [everywhere.name, aRequirements({ atMostOnce: true, global: true })],
]);
const holdMs = 6_250;

describe('holdAtMostOnce', () => {
  it.each([
    {
      name: 'an at-most-once unit of a missing machine is held from the first sight',
      machines: [b], schedule: [scheduled(once, a)], previous: [], now: 1_000,
      held: [once.name], since: [[a.id, 1_000]], nextDueAt: 7_250,
    },
    {
      name: 'it stays held until the hold has passed since the machine was first seen missing',
      machines: [b], schedule: [scheduled(once, a)], previous: [[a.id, 1_000]], now: 7_249,
      held: [once.name], since: [[a.id, 1_000]], nextDueAt: 7_250,
    },
    {
      name: 'then it is released (the planner moves it)',
      machines: [b], schedule: [scheduled(once, a)], previous: [[a.id, 1_000]], now: 7_250,
      held: [], since: [[a.id, 1_000]], nextDueAt: undefined,
    },
    {
      name: 'ordinary, inactive and global units are never held',
      machines: [b], schedule: [scheduled(plain, a), scheduled(idle, a), scheduled(everywhere, a)], previous: [], now: 1_000,
      held: [], since: [[a.id, 1_000]], nextDueAt: undefined,
    },
    {
      name: 'a destroyed unit is not held',
      machines: [b], schedule: [scheduled(aUnit('gone.service'), a)], previous: [], now: 1_000,
      held: [], since: [[a.id, 1_000]], nextDueAt: undefined,
    },
    {
      name: 'units of present machines are not held, and a machine that came back is forgotten',
      machines: [a, b], schedule: [scheduled(once, a)], previous: [[a.id, 1_000]], now: 2_000,
      held: [], since: [], nextDueAt: undefined,
    },
  ])('$name', ({ machines, schedule, previous, now, held, since, nextDueAt }) => {
    const units = [once, plain, idle, everywhere].filter((u) => schedule.some((s) => s.name === u.name));
    const snapshot = aSnapshot({ units, machines, schedule });
    const out = holdAtMostOnce(snapshot, requirements, new Map(previous as [typeof a.id, number][]), now, holdMs);
    expect([...out.units]).toEqual(held);
    expect([...out.missingSince]).toEqual(since);
    expect(out.nextDueAt).toBe(nextDueAt);
  });
});
