import { describe, expect, it } from 'vitest';
import { aMachine, aUnit, scheduled } from '../testing/builders.js';
import { ClusterState, applyWatchEvents } from './cluster-state.js';
import type { WatchEvent } from './cluster-view.js';
import { codec } from './codec.js';
import { KeySchema } from './keys.js';

const keys = new KeySchema('/fleet/');
const a = aMachine('a', { zone: 'z1' });
const b = aMachine('b');
const web = aUnit('web.service');
const db = aUnit('db.service', 'loaded', 'ExecStart=/bin/db');
let rev = 0;
const put = (key: string, value: string): WatchEvent => ({ key, value, revision: String(++rev) });
const del = (key: string): WatchEvent => ({ key, value: undefined, revision: String(++rev) });
const state = (machine: typeof a, name: string, active = 'active') => ({ name: aUnit(name).name, machineId: machine.id, hash: web.hash, loadState: 'loaded', activeState: active, subState: 'running' });

function applied(events: WatchEvent[]): { s: ClusterState; corrupt: string[] } {
  const s = new ClusterState();
  return { s, corrupt: applyWatchEvents(s, keys, events) };
}

describe('applyWatchEvents', () => {
  const cases: { name: string; events: () => WatchEvent[]; expect: (s: ClusterState, corrupt: string[]) => void }[] = [
    {
      name: 'puts of every kind land in their indexes',
      events: () => [
        put(keys.unit(web.name), codec.encodeUnit(web)), put(keys.unit(db.name), codec.encodeUnit(db)),
        put(keys.schedule(b.id, web.name), codec.encodeSchedule(scheduled(web, b))), put(keys.schedule(a.id, web.name), codec.encodeSchedule(scheduled(web, a))),
        put(keys.machine(a.id), codec.encodeMachine(a)), put(keys.machine(b.id), codec.encodeMachine(b)),
        put(keys.state(a.id, web.name), codec.encodeState(state(a, 'web.service'))),
        put(keys.reason(db.name), 'no machine'), put(keys.unitFile(web.hash), '[]'),
      ],
      expect: (s, corrupt) => {
        expect(corrupt).toEqual([]);
        expect(s.units(0, 10).map((u) => u.name)).toEqual(['db.service', 'web.service']);
        expect(s.unit(web.name)).toEqual(web);
        expect(s.placements(web.name).map((e) => e.machineId)).toEqual([a.id, b.id]);
        expect(s.machines().map((m) => m.id)).toEqual([a.id, b.id]);
        expect(s.state(a.id, web.name)?.activeState).toBe('active');
        expect(s.reason(db.name)).toBe('no machine');
        expect([...s.unitFileHashes]).toEqual([web.hash]);
        expect(s.revision).toBe(String(rev));
      },
    },
    {
      name: 'deletes remove records and their index entries',
      events: () => [
        put(keys.unit(web.name), codec.encodeUnit(web)), put(keys.schedule(a.id, web.name), codec.encodeSchedule(scheduled(web, a))),
        put(keys.state(a.id, web.name), codec.encodeState(state(a, 'web.service'))), put(keys.machine(a.id), codec.encodeMachine(a)),
        put(keys.reason(web.name), 'x'), put(keys.unitFile(web.hash), '[]'),
        del(keys.unit(web.name)), del(keys.schedule(a.id, web.name)), del(keys.state(a.id, web.name)), del(keys.machine(a.id)), del(keys.reason(web.name)), del(keys.unitFile(web.hash)),
      ],
      expect: (s) => {
        expect([s.unitCount, s.units(0, 10).length, s.placements(web.name).length, s.machines().length, s.states({}, 0, 10).total, s.unitFileHashes.size]).toEqual([0, 0, 0, 0, 0, 0]);
        expect(s.reason(web.name)).toBeUndefined();
        expect(s.planningInput().schedule).toEqual([]);
      },
    },
    {
      name: 'metadata overrides apply to the presence record, whichever comes first, and go with their delete',
      events: () => [
        put(keys.machineMetadataOf(a.id), codec.encodeMetadataOverrides({ zone: 'z2', disk: 'ssd' })), put(keys.machine(a.id), codec.encodeMachine(a)),
        put(keys.machineMetadataOf(b.id), codec.encodeMetadataOverrides({ rack: 'r1' })), put(keys.machine(b.id), codec.encodeMachine(b)), del(keys.machineMetadataOf(b.id)),
      ],
      expect: (s) => {
        expect(s.machine(a.id)?.metadata).toEqual({ zone: 'z2', disk: 'ssd' });
        expect(s.machine(b.id)?.metadata).toEqual({});
        expect(s.planningInput().machines.get(a.id)?.metadata).toEqual({ zone: 'z2', disk: 'ssd' });
      },
    },
    {
      name: 'a corrupt put drops the record it replaces and is reported until a good put',
      events: () => [put(keys.unit(web.name), codec.encodeUnit(web)), put(keys.unit(web.name), '{"name":"other"}'), put(keys.unit(db.name), 'not json')],
      expect: (s, corrupt) => {
        expect(s.unit(web.name)).toBeUndefined();
        expect(corrupt).toEqual([keys.unit(web.name), keys.unit(db.name)]);
        expect([...s.corrupt]).toEqual(corrupt);
        expect(s.planningInput().corruptUnits).toEqual(new Set([web.name, db.name]));
      },
    },
    {
      name: "a corrupt schedule entry names its unit among the planning input's corrupt units",
      events: () => [put(keys.schedule(a.id, web.name), '{"targetState":"exploded"}')],
      expect: (s) => {
        expect(s.planningInput().corruptUnits).toEqual(new Set([web.name]));
      },
    },
    {
      name: 'a good put after a corrupt one clears it',
      events: () => [put(keys.unit(web.name), 'x'), put(keys.unit(web.name), codec.encodeUnit(web))],
      expect: (s) => {
        expect(s.unit(web.name)).toEqual(web);
        expect(s.corrupt.size).toBe(0);
        expect(s.planningInput().corruptUnits.size).toBe(0);
      },
    },
    {
      name: 'keys of other kinds or outside the prefix are ignored, but the revision moves',
      events: () => [put(keys.leaderCandidate('1'), 'x'), put('/other/units/web.service', codec.encodeUnit(web)), put('/fleet/units/a/b', 'x')],
      expect: (s, corrupt) => {
        expect([s.unitCount, corrupt.length]).toEqual([0, 0]);
        expect(s.revision).toBe(String(rev));
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { s, corrupt } = applied(c.events());
      c.expect(s, corrupt);
    });
  }

  it('pages states by unit then machine, and filters by unit or machine without scanning', () => {
    const events = ['b.service', 'a.service', 'a-b.service', 'c.service'].flatMap((n) => [a, b].map((m) => put(keys.state(m.id, aUnit(n).name), codec.encodeState(state(m, n)))));
    const { s } = applied(events);
    const all = s.states({}, 0, 100).items.map((x) => `${x.name}@${x.machineId.slice(0, 2)}`);
    expect(all).toEqual(['a-b.service@61', 'a-b.service@62', 'a.service@61', 'a.service@62', 'b.service@61', 'b.service@62', 'c.service@61', 'c.service@62']);
    expect(s.states({}, 2, 3).items.map((x) => x.name)).toEqual(['a.service', 'a.service', 'b.service']);
    expect(s.states({ unitName: 'a.service' }, 0, 10)).toMatchObject({ total: 2 });
    expect(s.states({ machineId: b.id }, 1, 2).items.map((x) => `${x.name}@${x.machineId.slice(0, 2)}`)).toEqual(['a.service@62', 'b.service@62']);
    expect(s.states({ machineId: b.id }, 0, 2).total).toBe(4);
    expect(s.states({ machineId: b.id, unitName: 'c.service' }, 0, 2).items).toHaveLength(1);
  });

  it('ClusterState.of holds exactly the snapshot', () => {
    const { s } = applied([put(keys.unit(web.name), codec.encodeUnit(web)), put(keys.machine(a.id), codec.encodeMachine(a)), put(keys.schedule(a.id, web.name), codec.encodeSchedule(scheduled(web, a)))]);
    const copy = ClusterState.of({ ...s.planningInput(), states: [] });
    expect(copy.planningInput()).toEqual(s.planningInput());
  });
});
