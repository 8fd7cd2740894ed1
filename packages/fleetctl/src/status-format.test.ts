import { describe, expect, it } from 'vitest';
import { formatStatusBlock } from './status-format.js';
import type { UnitStatus } from './unit-status.js';

const legend = (id: string): string => `${id.slice(0, 8)}...`;
const base: UnitStatus = {
  unit: 'pending.service', description: undefined, desiredState: 'launched', currentState: 'loaded', machine: undefined, global: false, reason: undefined, states: [],
};

describe('formatStatusBlock', () => {
  // A unit the API names no machine and no state for (the API under fleetctl's other tests never
  // answers that with a current state other than inactive, for which status exits 1 instead).
  it('says "-" for a unit with no machine and "no state reported" without states', () => {
    expect(formatStatusBlock({ ...base, reason: 'no machine matches\nMachineMetadata=rack=r3' }, legend)).toBe(
      '● pending.service\n' +
        '   Desired: launched   Current: loaded\n' +
        '   Machine: -\n' +
        '   Reason:  no machine matches MachineMetadata=rack=r3\n' +
        '   State:   no state reported\n',
    );
  });

  it('leaves the Reason line out when the API gives none, and says "global" for a global unit', () => {
    expect(formatStatusBlock({ ...base, description: 'two\n  lines', global: true, currentState: '' }, legend)).toBe(
      '● pending.service - two lines\n' +
        '   Desired: launched   Current: -\n' +
        '   Machine: global\n' +
        '   State:   no state reported\n',
    );
  });
});
