import { describe, expect, it } from 'vitest';
import { aMachine, aSnapshot, aUnit, scheduled } from '../testing/index.js';
import { planEngineTasks } from './plan.js';

const a = aMachine('a');
const b = aMachine('b');
const c = aMachine('c');

describe('planEngineTasks', () => {
  it('places a unit on the least-loaded machine, ties to the lowest ID', () => {
    const busy = aUnit('busy.service');
    const hello = aUnit('hello.service');
    const plan = planEngineTasks(aSnapshot({ units: [busy, hello], machines: [b, a, c], schedule: [scheduled(busy, a)] }));
    expect(plan.tasks).toEqual([
      { change: { kind: 'schedule', entry: scheduled(hello, b) }, reason: { code: 'placed' } },
    ]);
  });

  it('spreads new units one per machine', () => {
    const units = ['u1', 'u2', 'u3'].map((n) => aUnit(`${n}.service`));
    const plan = planEngineTasks(aSnapshot({ units, machines: [a, b, c] }));
    expect(plan.tasks.map((t) => t.change.kind === 'schedule' && t.change.entry.machineId)).toEqual([a.id, b.id, c.id]);
  });

  it('does nothing when everything is in place (no churn)', () => {
    const hello = aUnit('hello.service');
    expect(planEngineTasks(aSnapshot({ units: [hello], machines: [a, b], schedule: [scheduled(hello, b)] })).tasks).toEqual([]);
  });

  it('unschedules from a machine that is gone and reschedules elsewhere', () => {
    const hello = aUnit('hello.service');
    const plan = planEngineTasks(aSnapshot({ units: [hello], machines: [b], schedule: [scheduled(hello, a)] }));
    expect(plan.tasks).toEqual([
      { change: { kind: 'unschedule', machineId: a.id, name: hello.name }, reason: { code: 'machine-gone' } },
      { change: { kind: 'schedule', entry: scheduled(hello, b) }, reason: { code: 'placed' } },
    ]);
  });

  it('unschedules destroyed and inactive units and collects their files', () => {
    const gone = aUnit('gone.service', 'launched', 'ExecStart=/bin/gone');
    const idle = aUnit('idle.service', 'inactive');
    const plan = planEngineTasks(aSnapshot({ units: [idle], machines: [a], schedule: [scheduled(gone, a), scheduled(idle, a)], unitFileHashes: [gone.hash, idle.hash], revision: '42' }));
    expect(plan.tasks).toEqual([
      { change: { kind: 'unschedule', machineId: a.id, name: gone.name }, reason: { code: 'unit-destroyed' } },
      { change: { kind: 'unschedule', machineId: a.id, name: idle.name }, reason: { code: 'target-inactive' } },
    ]);
    // gone.hash is still referenced by the schedule entry in this snapshot; it is collected next pass.
    const next = planEngineTasks(aSnapshot({ units: [idle], machines: [a], unitFileHashes: [gone.hash, idle.hash], revision: '43' }));
    expect(next.tasks).toEqual([{ change: { kind: 'delete-unit-file', hash: gone.hash, unchangedSince: '43' }, reason: { code: 'unreferenced-file' } }]);
  });

  it('updates the target state and hash in place when the unit changes', () => {
    const hello = aUnit('hello.service', 'loaded');
    const plan = planEngineTasks(aSnapshot({ units: [hello], machines: [a], schedule: [scheduled(hello, a, 'launched')] }));
    expect(plan.tasks).toEqual([{ change: { kind: 'schedule', entry: scheduled(hello, a, 'loaded') }, reason: { code: 'target-changed' } }]);
  });

  it('keeps one schedule entry when a unit is scheduled twice', () => {
    const hello = aUnit('hello.service');
    const plan = planEngineTasks(aSnapshot({ units: [hello], machines: [a, b], schedule: [scheduled(hello, b), scheduled(hello, a)] }));
    expect(plan.tasks).toEqual([{ change: { kind: 'unschedule', machineId: b.id, name: hello.name }, reason: { code: 'duplicate' } }]);
  });

  it('never schedules templates and explains units it cannot place', () => {
    const template = aUnit('web@.service', 'inactive');
    const hello = aUnit('hello.service');
    const plan = planEngineTasks(aSnapshot({ units: [template, hello], machines: [] }));
    expect(plan.tasks).toEqual([]);
    expect(plan.unplaceable).toEqual([{ unit: hello.name, reason: 'no machines in the cluster' }]);
  });
});
