import { describe, expect, it } from 'vitest';
import type { MachineState, Requirements, ScheduledUnit, UnitName } from '@fleet/core/model';
import type { UnitRecord } from '@fleet/core/registry';
import { aMachine, aRequirements, aSnapshot, aUnit } from '@fleet/core/testing';
import { planEngineTasks, type EnginePlan } from './plan.js';

// Circular Replaces=: fleet accepts such units and ignores a pair that replace each other; we
// ignore every Replaces= within a cycle (a strongly connected set of units), so that nothing
// moves round the ring, and say so in the units' reasons.

const a = aMachine('a', { rack: 'r1' });
const b = aMachine('b', { rack: 'r1' });
const c = aMachine('c', { rack: 'r2' });
const machines = [a, b, c];
const names = new Map(machines.map((m, i) => [m.id, 'abc'[i] ?? '?']));

const u = (name: string): UnitRecord => aUnit(name, 'launched', `ExecStart=/bin/${name}`);
const [r1, r2, r3, x, db] = ['r1.service', 'r2.service', 'r3.service', 'x.service', 'db.service'].map(u) as [UnitRecord, UnitRecord, UnitRecord, UnitRecord, UnitRecord];
/** On rack r2 (machine c only), replacing `globs`. */
const onC = (...replaces: string[]): Requirements => aRequirements({ replaces, metadata: { rack: ['r2'] } });

type Units = Array<[UnitRecord, Requirements]>;

function plan(units: Units, schedule: ScheduledUnit[] = [], reasons = new Map<UnitName, string>(), on: MachineState[] = machines): EnginePlan {
  return planEngineTasks(aSnapshot({ units: units.map(([r]) => r), machines: on, schedule, reasons }), new Map(units.map(([r, req]) => [r.name, req])));
}

/** `+unit@machine`, `-unit@machine reason`, `?unit reason`, `!unit` (reason cleared). */
function changes(p: EnginePlan): string[] {
  return p.tasks.flatMap((t) => {
    const ch = t.change;
    switch (ch.kind) {
      case 'schedule': return [`+${ch.entry.name}@${names.get(ch.entry.machineId)}`];
      case 'unschedule': return [`-${ch.name}@${names.get(ch.machineId)} ${t.reason.code}`];
      case 'set-reason': return [`?${ch.name} ${ch.reason}`];
      case 'clear-reason': return [`!${ch.name}`];
      default: return [];
    }
  });
}

/** The schedule and reasons after applying `p` to an empty cluster. */
function applied(p: EnginePlan): { schedule: ScheduledUnit[]; reasons: Map<UnitName, string> } {
  const schedule: ScheduledUnit[] = [];
  const reasons = new Map<UnitName, string>();
  for (const t of p.tasks) {
    if (t.change.kind === 'schedule') schedule.push(t.change.entry);
    if (t.change.kind === 'set-reason') reasons.set(t.change.name, t.change.reason);
  }
  return { schedule, reasons };
}

const ring: Units = [[r1, onC('r2.service')], [r2, onC('r3.service')], [r3, onC('r1.service')]];

describe('planEngineTasks: circular Replaces=', () => {
  it.each<{ name: string; units: Units; schedule?: Array<[UnitRecord, MachineState]>; expected: string[] }>([
    {
      name: 'a pair that replace each other share the machine, as in fleet',
      units: [[r1, onC('r2.service')], [r2, onC('r1.service')]],
      schedule: [[r1, c]],
      expected: [
        '+r2.service@c',
        '?r1.service circular Replaces= ignored: r1.service -> r2.service -> r1.service',
        '?r2.service circular Replaces= ignored: r2.service -> r1.service -> r2.service',
      ],
    },
    {
      name: 'a ring of three: nobody displaces anybody',
      units: ring,
      expected: [
        '+r1.service@c', '+r2.service@c', '+r3.service@c',
        '?r1.service circular Replaces= ignored: r1.service -> r2.service -> r3.service -> r1.service',
        '?r2.service circular Replaces= ignored: r2.service -> r3.service -> r1.service -> r2.service',
        '?r3.service circular Replaces= ignored: r3.service -> r1.service -> r2.service -> r3.service',
      ],
    },
    {
      name: 'a Replaces= from outside into the ring still holds',
      units: [[r1, aRequirements({ replaces: ['r2.service'] })], ring[1], ring[2], [x, onC('r1.service')]] as Units,
      schedule: [[r1, c], [r2, c], [r3, c]],
      expected: [
        '-r1.service@c replaced-by', '+r1.service@a', '+x.service@c',
        '?r1.service circular Replaces= ignored: r1.service -> r2.service -> r3.service -> r1.service',
        '?r2.service circular Replaces= ignored: r2.service -> r3.service -> r1.service -> r2.service',
        '?r3.service circular Replaces= ignored: r3.service -> r1.service -> r2.service -> r3.service',
      ],
    },
    {
      name: 'a ring member that fits nowhere gets both reasons',
      units: [...ring, [x, onC('r1.service')]],
      schedule: [[r1, c], [r2, c], [r3, c]],
      expected: [
        '-r1.service@c replaced-by', '+x.service@c',
        '?r1.service 3 machines: 2 rejected by MachineMetadata rack=r2, 1 by Replaces=r1.service of x.service; circular Replaces= ignored: r1.service -> r2.service -> r3.service -> r1.service',
        '?r2.service circular Replaces= ignored: r2.service -> r3.service -> r1.service -> r2.service',
        '?r3.service circular Replaces= ignored: r3.service -> r1.service -> r2.service -> r3.service',
      ],
    },
    {
      name: 'a Replaces= from the ring to a unit outside it still holds',
      units: [[r1, onC('r2.service', 'db.service')], [r2, onC('r1.service')], [db, aRequirements()]],
      schedule: [[db, c]],
      expected: [
        '-db.service@c replaced-by',
        '+db.service@a', '+r1.service@c', '+r2.service@c',
        '?r1.service circular Replaces= ignored: r1.service -> r2.service -> r1.service',
        '?r2.service circular Replaces= ignored: r2.service -> r1.service -> r2.service',
      ],
    },
  ])('$name', ({ units, schedule, expected }) => {
    const placed = (schedule ?? []).map(([r, m]) => ({ name: r.name, machineId: m.id, targetState: 'launched' as const, hash: r.hash }));
    expect(changes(plan(units, placed))).toEqual(expected);
  });
});

describe('planEngineTasks: circular Replaces= settle', () => {
  it.each<[string, Units]>([
    ['a ring of three on one machine', ring],
    ['instances replacing every sibling', ['w@1.service', 'w@2.service', 'w@3.service', 'w@4.service'].map((n) => [u(n), onC('w@*')] as [UnitRecord, Requirements])],
    ['two rings joined by a one-way Replaces=', [...ring, [x, onC('db.service', 'r1.service')], [db, onC('x.service')]]],
  ])('%s: the next pass changes nothing (no thrash)', (_name, units) => {
    const first = applied(plan(units));
    expect(first.schedule.length).toBeGreaterThan(0);
    expect(changes(plan(units, first.schedule, first.reasons))).toEqual([]);
  });

  it('clears the reason once the cycle is broken', () => {
    const { schedule, reasons } = applied(plan([[r1, onC('r2.service')], [r2, onC('r1.service')]]));
    // r2 no longer replaces r1: r1 now displaces it, and neither reason holds any more.
    expect(changes(plan([[r1, onC('r2.service')], [r2, aRequirements()]], schedule, reasons))).toEqual(['-r2.service@c rule-broken', '+r2.service@a', '!r1.service', '!r2.service']);
  });

  it('names a long ring by its size instead of listing it', () => {
    const ring6: Units = Array.from({ length: 6 }, (_, i) => [u(`q${i}.service`), onC(`q${(i + 1) % 6}.service`)]);
    const reasons = applied(plan(ring6)).reasons;
    expect(reasons.get('q0.service' as UnitName)).toBe('circular Replaces= ignored: q0.service and 5 other units replace one another in a cycle');
    expect(reasons.size).toBe(6);
  });

  it('leaves inactive units out of cycles', () => {
    const idle = aUnit('r2.service', 'inactive', 'ExecStart=/bin/r2.service');
    expect(changes(plan([[r1, onC('r2.service')], [idle, onC('r1.service')]]))).toEqual(['+r1.service@c']);
  });
});
