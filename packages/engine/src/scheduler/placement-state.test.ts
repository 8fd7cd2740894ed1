import { describe, expect, it } from 'vitest';
import { parseUnitName } from '@fleet/core/model';
import { aRequirements } from '@fleet/core/testing';
import { PlacementState } from './placement-state.js';

const names = ['web@2.service', 'db2.service', 'db-backup.service', 'db1.service', 'dbx.socket', 'a.service', 'db.service'].map(parseUnitName);
const state = new PlacementState([], names, () => aRequirements());

describe('PlacementState.namesMatching', () => {
  it.each([
    ['db*', ['db-backup.service', 'db.service', 'db1.service', 'db2.service', 'dbx.socket']],
    ['db[12].service', ['db1.service', 'db2.service']],
    ['*.service', ['a.service', 'db-backup.service', 'db.service', 'db1.service', 'db2.service', 'web@2.service']],
    ['*-backup.service', ['db-backup.service']],
    ['web@?.service', ['web@2.service']],
    ['zz*', []],
    ['db[', []],
  ])('%s matches exactly the names Go path.Match would, whatever their order', (glob, expected) => {
    expect(state.namesMatching(glob)).toEqual(expected);
  });
});
