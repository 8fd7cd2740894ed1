import { describe, expect, it } from 'vitest';
import { parseUnitName } from '../model/index.js';
import { aMachine } from '../testing/index.js';
import { explainPlacement, place, type Filter } from './place.js';

const unit = parseUnitName('db.service');
const machines = [aMachine('a', { rack: 'r1' }), aMachine('b', { rack: 'r1' }), aMachine('c', { rack: 'r2' })];

describe('place', () => {
  it('picks the least-loaded machine and breaks ties by machine order', () => {
    const load = new Map([[machines[0]!.id, 2], [machines[1]!.id, 1], [machines[2]!.id, 1]]);
    expect(place(unit, { machines, load })).toEqual({ ok: true, machine: machines[1]!.id });
  });

  it('counts rejections per reason when nothing fits', () => {
    const rack: Filter = (_u, m) => (m.metadata['rack'] === 'r3' ? undefined : 'MachineMetadata rack=r3');
    const notC: Filter = (_u, m) => (m.id === machines[2]!.id ? 'Conflicts=db*' : undefined);
    const placement = place(unit, { machines, load: new Map() }, [notC, rack]);
    expect(placement.ok).toBe(false);
    if (placement.ok) return;
    expect(explainPlacement(placement)).toBe('3 machines: 2 rejected by MachineMetadata rack=r3, 1 by Conflicts=db*');
  });
});
