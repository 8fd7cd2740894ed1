import { describe, expect, it } from 'vitest';
import { globMatch, parseUnitName, type UnitName } from '@fleet/core/model';
import { findReplacesCycles } from './replaces-cycles.js';

/** Cycles among units given as name → Replaces= globs, matched against every name given. */
function cyclesOf(entries: Record<string, string[]>) {
  const units = Object.keys(entries).map(parseUnitName);
  return findReplacesCycles(units, (unit) => units.filter((other) => (entries[unit] ?? []).some((glob) => globMatch(glob, other))));
}

const shown = (entries: Record<string, string[]>): Record<string, string> =>
  Object.fromEntries([...cyclesOf(entries).cycles].map(([unit, cycle]) => [unit, [...(cycle.units ?? ['...']), unit].join(' -> ')]));

describe('findReplacesCycles', () => {
  it.each<[string, Record<string, string[]>, Record<string, string>]>([
    ['no unit replaces anything', { 'a.service': [], 'b.service': [] }, {}],
    ['a chain is not a cycle', { 'a.service': ['b.service'], 'b.service': ['c.service'], 'c.service': [] }, {}],
    ['a unit whose glob matches only itself does not replace itself', { 'a.service': ['a*'] }, {}],
    ['a glob matching the unit itself and another is not a cycle', { 'a.service': ['*'], 'b.service': ['c.service'] }, {}],
    ['two units replacing each other', { 'a.service': ['b.service'], 'b.service': ['a*'] }, {
      'a.service': 'a.service -> b.service -> a.service',
      'b.service': 'b.service -> a.service -> b.service',
    }],
    ['three units in a ring', { 'a.service': ['b.service'], 'b.service': ['c.service'], 'c.service': ['a.service'] }, {
      'a.service': 'a.service -> b.service -> c.service -> a.service',
      'b.service': 'b.service -> c.service -> a.service -> b.service',
      'c.service': 'c.service -> a.service -> b.service -> c.service',
    }],
    ['a unit pointing into a cycle is not on it', { 'd.service': ['a.service'], 'a.service': ['b.service'], 'b.service': ['a.service'] }, {
      'a.service': 'a.service -> b.service -> a.service',
      'b.service': 'b.service -> a.service -> b.service',
    }],
    ['instances of a template replacing their siblings', { 'web@1.service': ['web@*'], 'web@2.service': ['web@*'] }, {
      'web@1.service': 'web@1.service -> web@2.service -> web@1.service',
      'web@2.service': 'web@2.service -> web@1.service -> web@2.service',
    }],
    ['the shortest cycle is shown', { 'a.service': ['b.service', 'c.service'], 'b.service': ['c.service'], 'c.service': ['a.service'] }, {
      'a.service': 'a.service -> c.service -> a.service',
      'b.service': 'b.service -> c.service -> a.service -> b.service',
      'c.service': 'c.service -> a.service -> c.service',
    }],
    ['a malformed glob replaces nothing', { 'a.service': ['b['], 'b.service': ['a.service'] }, {}],
  ])('%s', (_, entries, expected) => {
    expect(shown(entries)).toEqual(expected);
  });

  it('ignores exactly the Replaces= within a cycle', () => {
    // d -> a <-> b -> c: only a and b are on a cycle.
    const cycles = cyclesOf({ 'd.service': ['a.service'], 'a.service': ['b.service'], 'b.service': ['a.service', 'c.service'], 'c.service': [] });
    const ignored = (from: string, to: string): boolean => cycles.ignored(from as UnitName, to as UnitName);
    expect([ignored('a.service', 'b.service'), ignored('b.service', 'a.service')]).toEqual([true, true]);
    expect([ignored('d.service', 'a.service'), ignored('b.service', 'c.service'), ignored('a.service', 'a.service')]).toEqual([false, false, false]);
  });

  it('keeps two separate rings apart', () => {
    const cycles = cyclesOf({ 'a.service': ['b.service'], 'b.service': ['a.service'], 'c.service': ['d.service'], 'd.service': ['c.service', 'a.service'] });
    expect(cycles.ignored('d.service' as UnitName, 'a.service' as UnitName)).toBe(false);
    expect(cycles.ignored('c.service' as UnitName, 'd.service' as UnitName)).toBe(true);
  });

  it('shows a cycle of 5 units whole, and a longer one not', () => {
    const ring = (n: number): Record<string, string[]> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`r${i}.service`, [`r${(i + 1) % n}.service`]]));
    expect(cyclesOf(ring(5)).cycles.get('r0.service' as UnitName)).toEqual({ units: ['r0.service', 'r1.service', 'r2.service', 'r3.service', 'r4.service'], size: 5 });
    expect(cyclesOf(ring(6)).cycles.get('r0.service' as UnitName)).toEqual({ units: undefined, size: 6 });
  });

  it('handles a ring of 5000 units quickly and without deep recursion', () => {
    const n = 5000;
    const units = Array.from({ length: n }, (_, i) => parseUnitName(`r${i}.service`));
    const next = new Map(units.map((unit, i) => [unit, [units[(i + 1) % n] as UnitName]]));
    const cycles = findReplacesCycles(units, (unit) => next.get(unit) ?? []);
    expect(cycles.cycles.size).toBe(n);
    expect(cycles.cycles.get(units[0] as UnitName)).toEqual({ units: undefined, size: n });
  });
});
