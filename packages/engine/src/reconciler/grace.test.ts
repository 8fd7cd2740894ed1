import { describe, expect, it } from 'vitest';
import type { MachineState } from '@fleet/core/model';
import { aRequirements, aSnapshot, aUnit, scheduled } from '@fleet/core/testing';
import { planCase as plan, planMachines, planSummary as summary, type PlanCase as Case } from '../testing/plan-cases.js';
import { heldMachines } from './grace.js';

const { a, b, c } = planMachines;
const u = (n: string) => aUnit(n, 'launched', `ExecStart=/bin/${n}`);
const db = u('db.service');
const web = u('web.service');
const ping = u('ping.service');
const pong = u('pong.service');
const ga = u('ga.service');

describe('planEngineTasks: machines held after an etcd outage', () => {
  it.each<Case>([
    {
      name: 'the units of a held machine are neither unscheduled nor placed elsewhere',
      units: [[db], [web]],
      machines: [b, c],
      schedule: [[db, a], [web, c]],
      held: [a],
      expected: [],
    },
    {
      name: 'a MachineOf pair on a held machine stays together where it is',
      units: [[ping], [pong, aRequirements({ machineOf: [ping.name] })]],
      machines: [b, c],
      schedule: [[ping, a], [pong, a]],
      held: [a],
      expected: [],
    },
    {
      name: 'a global unit keeps its entry on a held machine and still goes to the present ones',
      units: [[ga, aRequirements({ global: true })]],
      machines: [b],
      schedule: [[ga, a]],
      held: [a],
      expected: ['+ga.service@b global'],
    },
    {
      name: 'units destroyed or made inactive meanwhile are still unscheduled from a held machine',
      units: [[aUnit('idle.service', 'inactive')]],
      machines: [b],
      schedule: [[aUnit('idle.service', 'inactive'), a], [aUnit('gone.service'), a]],
      held: [a],
      expected: ['-gone.service@a unit-destroyed', '-idle.service@a target-inactive'],
    },
    {
      name: 'new units go to present machines only',
      units: [[db], [web]],
      machines: [b],
      schedule: [[db, a]],
      held: [a],
      expected: ['+web.service@b placed'],
    },
    {
      name: 'once nothing is held, the same schedule moves the units of the missing machine',
      units: [[db], [web]],
      machines: [b, c],
      schedule: [[db, a], [web, c]],
      expected: ['-db.service@a machine-gone', '+db.service@b placed'],
    },
  ])('$name', ({ expected, ...k }) => {
    expect(summary(plan(k))).toEqual(expected);
  });
});

describe('heldMachines: the grace after an etcd outage', () => {
  const snapshot = aSnapshot({ units: [db, web], machines: [b], schedule: [scheduled(db, a), scheduled(web, b), scheduled(ga, c)] });
  it.each([
    { name: 'nothing is held when etcd never failed', lastOutageAt: undefined, now: 1_000, expected: [] as MachineState[] },
    { name: 'absent machines with entries are held within the grace', lastOutageAt: 10_000, now: 14_999, expected: [a, c] },
    { name: 'nothing is held once the grace has passed', lastOutageAt: 10_000, now: 15_000, expected: [] as MachineState[] },
  ])('$name', ({ lastOutageAt, now, expected }) => {
    expect([...heldMachines(snapshot, { now, lastOutageAt, graceMs: 5_000 })].sort()).toEqual(expected.map((m) => m.id).sort());
  });
});

