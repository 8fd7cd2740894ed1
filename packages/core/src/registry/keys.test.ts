import { describe, expect, it } from 'vitest';
import { parseUnitName } from '../model/unit-name.js';
import { machineId } from '../testing/builders.js';
import { KeySchema } from './keys.js';

const keys = new KeySchema('/_coreos.com/fleet');
const m = machineId('a');
const web = parseUnitName('web@1.service');
const hash = 'a'.repeat(40);

describe('KeySchema', () => {
  it('adds the trailing slash to the prefix once', () => {
    expect(new KeySchema('/p').prefix).toBe('/p/');
    expect(new KeySchema('/p/').prefix).toBe('/p/');
  });

  it.each([
    { key: keys.unit(web), want: { kind: 'units', parts: [web] } },
    { key: keys.unitFile(hash), want: { kind: 'unit-files', parts: [hash] } },
    { key: keys.schedule(m, web), want: { kind: 'schedule', parts: [m, web] } },
    { key: keys.machine(m), want: { kind: 'machines', parts: [m] } },
    { key: keys.machineMetadataOf(m), want: { kind: 'machine-metadata', parts: [m] } },
    { key: keys.state(m, web), want: { kind: 'states', parts: [m, web] } },
    { key: keys.reason(web), want: { kind: 'reasons', parts: [web] } },
  ])('classifies what it builds: $key', ({ key, want }) => {
    expect(keys.classify(key)).toEqual(want);
  });

  it.each([
    ['another prefix', `/other/units/${web}`],
    ['a kind it does not know', '/_coreos.com/fleet/job/x.service'],
    ['too many segments', `${keys.units}a/b`],
    ['too few segments', `${keys.schedules}${m}`],
    ['the prefix alone', keys.prefix],
    ['a leader candidate (not a record)', keys.leaderCandidate('7')],
  ])('classifies nothing for %s', (_what, key) => {
    expect(keys.classify(key)).toBeUndefined();
  });

  it('parses the segments of unit-file, metadata and schedule keys, and nothing else', () => {
    expect(keys.unitFileHashOf(keys.unitFile(hash))).toBe(hash);
    expect(keys.unitFileHashOf(keys.unit(web))).toBeUndefined();
    expect(keys.unitFileHashOf(`${keys.unitFiles}${hash}/x`)).toBeUndefined();
    expect(keys.machineMetadataIdOf(keys.machineMetadataOf(m))).toBe(m);
    expect(keys.machineMetadataIdOf(keys.machine(m))).toBeUndefined();
    expect(keys.scheduleOf(keys.schedule(m, web))).toEqual({ machine: m, unit: web });
    expect(keys.scheduleOf(keys.state(m, web))).toBeUndefined();
  });
});
