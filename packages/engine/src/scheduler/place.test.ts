import { describe, expect, it } from 'vitest';
import { parseUnitName, type Requirements, type UnitName } from '@fleet/core/model';
import { aMachine, aRequirements } from '@fleet/core/testing';
import { explainPlacement, placeUnit } from './place.js';
import { PlacementState } from './placement-state.js';

const a = aMachine('a', { rack: 'r1' });
const b = aMachine('b', { rack: 'r1' });
const c = aMachine('c', { rack: 'r2' });
const name = (n: string): UnitName => parseUnitName(n);

function stateWith(placed: Array<[string, typeof a, Requirements?]>, candidate: [string, Requirements]) {
  const reqs = new Map<UnitName, Requirements>(placed.map(([n, , r]) => [name(n), r ?? aRequirements()]));
  reqs.set(name(candidate[0]), candidate[1]);
  const state = new PlacementState([c, b, a], [...reqs.keys()], (u) => reqs.get(u) ?? aRequirements());
  for (const [n, m] of placed) state.add(name(n), m.id);
  return state;
}

describe('placeUnit', () => {
  it('picks the least-loaded machine, ties to the lowest machine ID', () => {
    const state = stateWith([['x.service', a], ['y.service', a], ['z.service', c]], ['new.service', aRequirements()]);
    expect(placeUnit(name('new.service'), aRequirements(), state)).toEqual({ ok: true, machine: b.id });
  });

  it('counts rejections per rule when nothing fits, most frequent first', () => {
    const req = aRequirements({ metadata: { rack: ['r1'] }, conflicts: ['db*'] });
    const state = stateWith([['db1.service', a], ['db2.service', b]], ['db3.service', req]);
    const placement = placeUnit(name('db3.service'), req, state);
    expect(placement.ok).toBe(false);
    if (placement.ok) return;
    expect(explainPlacement(placement)).toBe('3 machines: 2 rejected by Conflicts=db*, 1 by MachineMetadata rack=r1');
  });

  it('spreads template instances over the values of a metadata key before balancing load', () => {
    const req = aRequirements({ spreadBy: 'rack' });
    // web@1 sits in r2 (machine c); a and b (r1) are busier than c, but r1 has no instance yet.
    const state = stateWith([['web@1.service', c, req], ['x.service', a], ['y.service', b]], ['web@2.service', req]);
    expect(placeUnit(name('web@2.service'), req, state)).toEqual({ ok: true, machine: a.id });
  });

  it('explains an empty cluster', () => {
    const state = new PlacementState([], [], () => aRequirements());
    const placement = placeUnit(name('x.service'), aRequirements(), state);
    expect(!placement.ok && explainPlacement(placement)).toBe('no machines in the cluster');
  });
});
