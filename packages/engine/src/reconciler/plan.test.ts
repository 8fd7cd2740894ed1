import { describe, expect, it } from 'vitest';
import { hashUnitFile, parseRequirements, parseUnitFile, parseUnitName, type Requirements } from '@fleet/core/model';
import type { UnitRecord } from '@fleet/core/registry';
import { aRequirements, aSnapshot, aUnit, scheduled } from '@fleet/core/testing';
import { planCase as plan, planMachines, planSummary as summary, type PlanCase as Case } from '../testing/plan-cases.js';
import { planEngineTasks } from './plan.js';

const { a, b, c, d } = planMachines;
const u = (n: string, content = n) => aUnit(n, 'launched', `ExecStart=/bin/${content}`);

const db = u('db.service');
const web = u('web.service');
const web1 = u('web@1.service', 'web');
const web2 = u('web@2.service', 'web');
const web3 = u('web@3.service', 'web');
const ping = u('ping.service');
const pong = u('pong.service');

describe('planEngineTasks: placement rules', () => {
  it.each<Case>([
    {
      name: 'least-loaded, ties to the lowest machine ID',
      units: [[db], [web]],
      schedule: [[db, a]],
      expected: ['+web.service@b placed'],
    },
    {
      name: 'MachineID pins a unit to a machine (full ID)',
      units: [[db, aRequirements({ machineId: c.id })]],
      expected: ['+db.service@c placed'],
    },
    {
      name: 'MachineID accepts an unambiguous short ID',
      units: [[db, aRequirements({ machineId: c.id.slice(0, 8) })]],
      expected: ['+db.service@c placed'],
    },
    {
      name: 'MachineID of an unknown machine is explained',
      units: [[db, aRequirements({ machineId: 'feedfeed' })]],
      expected: ['?db.service 3 machines: 3 rejected by MachineID=feedfeed'],
    },
    {
      name: 'MachineMetadata: OR within a key',
      units: [[db, aRequirements({ metadata: { rack: ['r2', 'r9'] } })]],
      expected: ['+db.service@c placed'],
    },
    {
      name: 'MachineMetadata: AND across keys, explained',
      units: [[db, aRequirements({ metadata: { rack: ['r2'], disk: ['ssd'] } })]],
      expected: ['?db.service 3 machines: 2 rejected by MachineMetadata rack=r2, 1 by MachineMetadata disk=ssd'],
    },
    {
      name: 'MachineOf co-locates a follower with its target',
      units: [[ping, aRequirements({ machineId: c.id })], [pong, aRequirements({ machineOf: [ping.name] })]],
      expected: ['+ping.service@c placed', '+pong.service@c placed'],
    },
    {
      name: 'MachineOf a unit that is not scheduled makes the follower unplaceable, with that reason',
      units: [[pong, aRequirements({ machineOf: [ping.name] })]],
      expected: ['?pong.service 3 machines: 3 rejected by MachineOf=ping.service (not scheduled)'],
    },
    {
      name: 'Conflicts keeps a unit off machines running a matching unit',
      units: [[db], [web, aRequirements({ conflicts: ['db*'] })]],
      schedule: [[db, a]],
      expected: ['+web.service@b placed'],
    },
    {
      name: "Conflicts is symmetric: an existing unit's Conflicts blocks a newcomer",
      units: [[db, aRequirements({ conflicts: ['web*'] })], [web, aRequirements({ machineId: a.id })]],
      schedule: [[db, a]],
      expected: ['?web.service 3 machines: 2 rejected by MachineID=' + a.id + ', 1 by Conflicts=web* of db.service'],
    },
    {
      name: 'five mutually conflicting units on three machines: three run, two wait with a reason',
      units: ['x1', 'x2', 'x3', 'x4', 'x5'].map((n) => [u(`${n}.service`, 'x'), aRequirements({ conflicts: ['x*'] })] as [UnitRecord, Requirements]),
      expected: [
        '+x1.service@a placed',
        '+x2.service@b placed',
        '+x3.service@c placed',
        '?x4.service 3 machines: 3 rejected by Conflicts=x*',
        '?x5.service 3 machines: 3 rejected by Conflicts=x*',
      ],
    },
    {
      name: 'a one-way conflict: only the newcomer declares it, the existing unit still blocks',
      units: [[db], [u('db2.service'), aRequirements({ conflicts: ['db.service'] })]],
      schedule: [[db, a]],
      expected: ['+db2.service@b placed'],
    },
    {
      name: 'Global runs on every machine matching its metadata',
      units: [[db, aRequirements({ global: true, metadata: { rack: ['r1'] } })]],
      expected: ['+db.service@a global', '+db.service@b global'],
    },
    {
      name: 'Global skips machines where it conflicts',
      units: [[web], [db, aRequirements({ global: true, conflicts: ['web*'] })]],
      schedule: [[web, b]],
      expected: ['+db.service@a global', '+db.service@c global'],
    },
    {
      name: 'Replaces displaces the replaced unit to another machine',
      units: [[db], [web, aRequirements({ replaces: ['db*'], metadata: { rack: ['r2'] } })]],
      schedule: [[db, c]],
      expected: ['-db.service@c replaced-by', '+db.service@a placed', '+web.service@c placed'],
    },
    {
      name: 'ConflictsScope=rack keeps a backup out of the primary\'s rack',
      units: [[db], [u('db-backup.service'), aRequirements({ conflicts: ['db.service'], conflictsScope: 'rack' })]],
      schedule: [[db, a]],
      expected: ['+db-backup.service@c placed'],
    },
    {
      name: 'ConflictsScope is symmetric: the primary avoids the backup\'s rack',
      units: [[u('db-backup.service'), aRequirements({ conflicts: ['db.service'], conflictsScope: 'rack' })], [db]],
      schedule: [[u('db-backup.service'), c]],
      expected: ['+db.service@a placed'],
    },
    {
      name: 'SpreadBy=rack puts template instances in different racks first',
      units: [[web1, aRequirements({ spreadBy: 'rack' })], [web2, aRequirements({ spreadBy: 'rack' })], [web3, aRequirements({ spreadBy: 'rack' })]],
      expected: ['+web@1.service@a placed', '+web@2.service@c placed', '+web@3.service@b placed'],
    },
  ])('$name', ({ expected, ...k }) => {
    expect(summary(plan(k))).toEqual(expected);
  });
});

describe('planEngineTasks: rules that interact', () => {
  it.each<Case>([
    {
      name: 'MachineOf + MachineMetadata: the follower still has to match its own metadata',
      units: [[ping, aRequirements({ machineId: c.id })], [pong, aRequirements({ machineOf: [ping.name], metadata: { rack: ['r1'] } })]],
      expected: [
        '+ping.service@c placed',
        '?pong.service 3 machines: 2 rejected by MachineOf=ping.service, 1 by MachineMetadata rack=r1',
      ],
    },
    {
      name: 'MachineOf + Conflicts: a follower whose target sits next to a conflict cannot follow',
      units: [[db], [ping, aRequirements({ machineId: a.id })], [pong, aRequirements({ machineOf: [ping.name], conflicts: ['db*'] })]],
      schedule: [[db, a], [ping, a]],
      expected: ['?pong.service 3 machines: 2 rejected by MachineOf=ping.service, 1 by Conflicts=db*'],
    },
    {
      name: 'MachineMetadata + Conflicts: the only matching machine is taken',
      units: [[db, aRequirements({ machineId: c.id })], [web, aRequirements({ metadata: { rack: ['r2'] }, conflicts: ['db*'] })]],
      schedule: [[db, c]],
      expected: ['?web.service 3 machines: 2 rejected by MachineMetadata rack=r2, 1 by Conflicts=db*'],
    },
    {
      name: 'Replaces + MachineOf: the displaced unit takes its followers along',
      units: [[db], [u('db-sidecar.service'), aRequirements({ machineOf: [db.name] })], [web, aRequirements({ replaces: ['db.service'], metadata: { rack: ['r2'] } })]],
      schedule: [[db, c], [u('db-sidecar.service'), c]],
      expected: [
        '-db-sidecar.service@c follows',
        '-db.service@c replaced-by',
        '+db-sidecar.service@a placed',
        '+db.service@a placed',
        '+web.service@c placed',
      ],
    },
    {
      name: 'SpreadBy + Conflicts: spreading never overrides a hard rule',
      units: [[db, aRequirements({ machineId: c.id })], [web1, aRequirements({ spreadBy: 'rack', conflicts: ['db*'] })], [web2, aRequirements({ spreadBy: 'rack', conflicts: ['db*'] })]],
      schedule: [[db, c]],
      expected: ['+web@1.service@a placed', '+web@2.service@b placed'],
    },
    {
      name: 'MachineID + MachineMetadata: a pinned machine without the metadata is no place at all',
      units: [[db, aRequirements({ machineId: a.id, metadata: { rack: ['r2'] } })]],
      expected: ['?db.service 3 machines: 2 rejected by MachineID=' + a.id + ', 1 by MachineMetadata rack=r2'],
    },
    {
      name: "MachineID + ConflictsScope of another unit: the pinned unit is kept out of the rack",
      units: [[u('db-backup.service'), aRequirements({ conflicts: ['db.service'], conflictsScope: 'rack' })], [db, aRequirements({ machineId: b.id })]],
      schedule: [[u('db-backup.service'), a]],
      expected: ['?db.service 3 machines: 2 rejected by MachineID=' + b.id + ', 1 by Conflicts=db.service (ConflictsScope=rack) of db-backup.service'],
    },
    {
      name: 'MachineOf + SpreadBy: a follower follows, whatever spreading would prefer',
      units: [[ping, aRequirements({ machineId: a.id })], [u('web@1.service', 'web'), aRequirements({ machineOf: [ping.name], spreadBy: 'rack' })], [u('web@2.service', 'web'), aRequirements({ machineOf: [ping.name], spreadBy: 'rack' })]],
      expected: ['+ping.service@a placed', '+web@1.service@a placed', '+web@2.service@a placed'],
    },
    {
      name: 'MachineMetadata + SpreadBy: spreading happens among the matching machines only',
      units: [[web1, aRequirements({ spreadBy: 'rack', metadata: { rack: ['r1'] } })], [web2, aRequirements({ spreadBy: 'rack', metadata: { rack: ['r1'] } })]],
      expected: ['+web@1.service@a placed', '+web@2.service@b placed'],
    },
    {
      name: 'MachineMetadata + ConflictsScope: the only allowed rack holds the conflicting unit',
      units: [[db, aRequirements({ machineId: c.id })], [u('db-backup.service'), aRequirements({ metadata: { rack: ['r2'] }, conflicts: ['db.service'], conflictsScope: 'rack' })]],
      schedule: [[db, c]],
      expected: ['?db-backup.service 3 machines: 2 rejected by MachineMetadata rack=r2, 1 by Conflicts=db.service (ConflictsScope=rack)'],
    },
    {
      name: 'Global + ConflictsScope: a global unit skips the whole rack of a conflicting unit',
      units: [[db], [u('agent.service'), aRequirements({ global: true, conflicts: ['db.service'], conflictsScope: 'rack' })]],
      schedule: [[db, c]],
      expected: ['+agent.service@a global', '+agent.service@b global'],
    },
    {
      name: 'Replaces + SpreadBy: the displaced instance is spread again among what is left',
      units: [[web1, aRequirements({ spreadBy: 'rack' })], [web2, aRequirements({ spreadBy: 'rack' })], [db, aRequirements({ replaces: ['web@2.service'], metadata: { rack: ['r2'] } })]],
      schedule: [[web1, a], [web2, c]],
      expected: ['-web@2.service@c replaced-by', '+db.service@c placed', '+web@2.service@b placed'],
    },
  ])('$name', ({ expected, ...k }) => {
    expect(summary(plan(k))).toEqual(expected);
  });
});

describe('planEngineTasks: rescheduling', () => {
  it('does nothing when every placement still holds (no churn)', () => {
    expect(summary(plan({ units: [[db], [web, aRequirements({ conflicts: ['db*'] })]], schedule: [[db, a], [web, c]] }))).toEqual([]);
  });

  it('moves a unit whose machine left, and keeps the others where they are', () => {
    expect(summary(plan({ units: [[db], [web]], machines: [b, c], schedule: [[db, a], [web, c]] }))).toEqual([
      '-db.service@a machine-gone',
      '+db.service@b placed',
    ]);
  });

  it('moves followers together with their target when its machine dies', () => {
    expect(summary(plan({
      units: [[ping], [pong, aRequirements({ machineOf: [ping.name] })]],
      machines: [b, c],
      schedule: [[ping, a], [pong, a]],
    }))).toEqual(['-ping.service@a machine-gone', '-pong.service@a machine-gone', '+ping.service@b placed', '+pong.service@b placed']);
  });

  it('moves a unit whose machine no longer matches its metadata', () => {
    const relabelled = { ...c, metadata: { rack: 'r9', name: 'c' } };
    expect(summary(plan({ units: [[db, aRequirements({ metadata: { rack: ['r2', 'r9'] } })], [web, aRequirements({ metadata: { rack: ['r1'] } })]], machines: [a, b, relabelled], schedule: [[db, c], [web, c]] }))).toEqual([
      '-web.service@c rule-broken MachineMetadata rack=r1',
      '+web.service@a placed',
    ]);
  });

  it('evicts the later of two units that now conflict on one machine, keeping the first', () => {
    expect(summary(plan({ units: [[db], [web, aRequirements({ conflicts: ['db*'] })]], schedule: [[db, a], [web, a]] }))).toEqual([
      '-web.service@a rule-broken Conflicts=db*',
      '+web.service@b placed',
    ]);
  });

  it('keeps the primary and its backup in different racks after the primary\'s machine dies', () => {
    const backup = u('db-backup.service');
    expect(summary(plan({
      units: [[db], [backup, aRequirements({ conflicts: ['db.service'], conflictsScope: 'rack' })]],
      machines: [b, c, d],
      schedule: [[db, a], [backup, c]],
    }))).toEqual(['-db.service@a machine-gone', '+db.service@b placed']);
  });

  it('clears the reason of a unit once it can be placed, and sets it when it cannot', () => {
    const pinned = aRequirements({ machineId: c.id });
    expect(summary(plan({ units: [[db, pinned]], reasons: [[db, 'old reason']] }))).toEqual(['+db.service@c placed', '!db.service']);
    expect(summary(plan({ units: [[db, pinned]], machines: [a], reasons: [[db, '1 machine: 1 rejected by MachineID=' + c.id]] }))).toEqual([]);
  });
});

const ga = u('ga.service');
const gb = u('gb.service');
const globalConflicting = (glob: string, extra: Parameters<typeof aRequirements>[0] = {}) => aRequirements({ global: true, conflicts: [glob], ...extra });

describe('planEngineTasks: global units that conflict with each other', () => {
  it.each<Case>([
    {
      name: 'each machine runs one of two conflicting global units: the first by name',
      units: [[ga, globalConflicting('gb.service')], [gb, globalConflicting('ga.service')]],
      expected: ['+ga.service@a global', '+ga.service@b global', '+ga.service@c global', '?gb.service 3 machines: 3 rejected by Conflicts=gb.service of ga.service'],
    },
    {
      name: 'a conflict declared by one side is enough',
      units: [[ga, aRequirements({ global: true })], [gb, globalConflicting('ga*')]],
      expected: ['+ga.service@a global', '+ga.service@b global', '+ga.service@c global', '?gb.service 3 machines: 3 rejected by Conflicts=ga*'],
    },
    {
      name: 'the one already on a machine keeps it; the newcomer takes the other machines',
      units: [[ga, globalConflicting('gb.service')], [gb, globalConflicting('ga.service')]],
      schedule: [[gb, a]],
      expected: ['+ga.service@b global', '+ga.service@c global'],
    },
    {
      name: 'both already everywhere (scheduled before the rule): the first by name stays, the other goes, with the rule',
      units: [[ga, globalConflicting('gb.service')], [gb, aRequirements({ global: true })]],
      schedule: [[ga, a], [ga, b], [ga, c], [gb, a], [gb, b], [gb, c]],
      expected: [
        '-gb.service@a rule-broken Conflicts=gb.service of ga.service',
        '-gb.service@b rule-broken Conflicts=gb.service of ga.service',
        '-gb.service@c rule-broken Conflicts=gb.service of ga.service',
        '?gb.service 3 machines: 3 rejected by Conflicts=gb.service of ga.service',
      ],
    },
    {
      name: 'global units that do not conflict still share every machine',
      units: [[ga, globalConflicting('other.service')], [gb, aRequirements({ global: true })]],
      machines: [a, b],
      expected: ['+ga.service@a global', '+ga.service@b global', '+gb.service@a global', '+gb.service@b global'],
    },
    {
      name: 'ConflictsScope between global units: the one already in a rack keeps the whole rack',
      units: [[ga, globalConflicting('gb.service', { conflictsScope: 'rack' })], [gb, aRequirements({ global: true })]],
      schedule: [[gb, c]],
      expected: ['+ga.service@a global', '+ga.service@b global'],
    },
    {
      name: 'metadata still limits where the winner runs; the other runs where the winner cannot',
      units: [[ga, globalConflicting('gb.service', { metadata: { rack: ['r1'] } })], [gb, aRequirements({ global: true })]],
      expected: ['+ga.service@a global', '+ga.service@b global', '+gb.service@c global'],
    },
  ])('$name', ({ expected, ...k }) => {
    expect(summary(plan(k))).toEqual(expected);
  });
});

describe('planEngineTasks: from unit files', () => {
  it('resolves specifiers per instance: instances with Conflicts=%p@* avoid each other', () => {
    const file = parseUnitFile('[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nConflicts=%p@*\nMachineMetadata=rack=r1\n');
    const names = ['x@1.service', 'x@2.service', 'x@3.service'].map(parseUnitName);
    const units = names.map((name) => ({ name, hash: hashUnitFile(file), desiredState: 'launched' as const }));
    const requirements = new Map(names.map((n) => [n, parseRequirements(n, file)]));
    expect(summary(planEngineTasks(aSnapshot({ units, machines: [a, b, c] }), requirements))).toEqual([
      '+x@1.service@a placed',
      '+x@2.service@b placed',
      '?x@3.service 3 machines: 2 rejected by Conflicts=x@*, 1 by MachineMetadata rack=r1',
    ]);
  });
});

describe('planEngineTasks: bookkeeping', () => {
  it('unschedules destroyed and inactive units and collects unreferenced files', () => {
    const gone = aUnit('gone.service', 'launched', 'ExecStart=/bin/gone');
    const idle = aUnit('idle.service', 'inactive');
    const first = planEngineTasks(aSnapshot({ units: [idle], machines: [a], schedule: [scheduled(gone, a), scheduled(idle, a)], unitFileHashes: [gone.hash, idle.hash] }));
    expect(first.tasks.map((t) => t.change.kind === 'unschedule' && `${t.change.name} ${t.reason.code}`)).toEqual(['gone.service unit-destroyed', 'idle.service target-inactive']);
    const next = planEngineTasks(aSnapshot({ units: [idle], machines: [a], unitFileHashes: [gone.hash, idle.hash], revision: '43' }));
    expect(next.tasks).toEqual([{ change: { kind: 'delete-unit-file', hash: gone.hash, unchangedSince: '43' }, reason: { code: 'unreferenced-file' } }]);
  });

  it('leaves a unit whose record is corrupt where it is (frozen), and collects no file while a record is corrupt', () => {
    const kept = aUnit('kept.service', 'launched', 'ExecStart=/bin/kept');
    const loose = aUnit('loose.service', 'inactive', 'ExecStart=/bin/loose');
    // kept's record did not decode (absent from units); loose's file is referenced by nothing else.
    const snapshot = aSnapshot({ units: [], machines: [a], schedule: [scheduled(kept, a)], unitFileHashes: [kept.hash, loose.hash], corrupt: ['/fleet/units/kept.service'], corruptUnits: [kept.name] });
    expect(planEngineTasks(snapshot, new Map(), new Set([kept.name])).tasks).toEqual([]);
  });

  it('updates the target state and hash in place', () => {
    const loaded = aUnit('hello.service', 'loaded');
    const launched = planEngineTasks(aSnapshot({ units: [loaded], machines: [a], schedule: [scheduled(loaded, a, 'launched')] }));
    expect(launched.tasks).toEqual([{ change: { kind: 'schedule', entry: scheduled(loaded, a, 'loaded') }, reason: { code: 'target-changed' } }]);
  });

  it('moves the entry to the new hash when the unit file was replaced, and collects the old file', () => {
    const before = aUnit('hello.service', 'launched', 'ExecStart=/bin/old');
    const after = aUnit('hello.service', 'launched', 'ExecStart=/bin/new');
    const replaced = planEngineTasks(aSnapshot({ units: [after], machines: [a], schedule: [scheduled(before, a)], unitFileHashes: [before.hash, after.hash] }));
    // The old file is still referenced by the stored entry in this pass; the next pass collects it.
    expect(replaced.tasks).toEqual([{ change: { kind: 'schedule', entry: scheduled(after, a) }, reason: { code: 'target-changed' } }]);
    const next = planEngineTasks(aSnapshot({ units: [after], machines: [a], schedule: [scheduled(after, a)], unitFileHashes: [before.hash, after.hash], revision: '12' }));
    expect(next.tasks).toEqual([{ change: { kind: 'delete-unit-file', hash: before.hash, unchangedSince: '12' }, reason: { code: 'unreferenced-file' } }]);
  });

  it('keeps one entry of a unit scheduled twice', () => {
    expect(summary(plan({ units: [[db]], schedule: [[db, b], [db, a]] }))).toEqual(['-db.service@b duplicate']);
  });

  it('never schedules templates', () => {
    expect(summary(plan({ units: [[aUnit('web@.service', 'inactive')]] }))).toEqual([]);
  });

  it('leaves units whose requirements could not be read exactly as they are', () => {
    const frozen = planEngineTasks(aSnapshot({ units: [db], machines: [b], schedule: [scheduled(db, a)] }), new Map(), new Set([db.name]));
    expect(frozen.tasks).toEqual([]);
  });
});

describe('planEngineTasks: moving a gone machine\'s units', () => {
  it('unschedules from a gone machine only if it is still absent when the write lands; other unschedules are unconditional', () => {
    const gone = plan({ units: [[db], [web, aRequirements({ machineId: 'feedfeed' })]], machines: [b, c], schedule: [[db, a], [web, b]] });
    const unschedules = gone.tasks.flatMap((t) => (t.change.kind === 'unschedule' ? [t.change] : []));
    expect(unschedules).toEqual([
      { kind: 'unschedule', machineId: a.id, name: db.name, ifMachineAbsent: true },
      { kind: 'unschedule', machineId: b.id, name: web.name },
    ]);
  });
});
