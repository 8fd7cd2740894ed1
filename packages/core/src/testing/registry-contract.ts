import { describe, expect, it } from 'vitest';
import { FleetError } from '../errors.js';
import type { MachineState } from '../model/machine.js';
import { hashUnitFile, parseUnitFile, type UnitFile } from '../model/unit-file.js';
import { parseUnitName, type UnitName } from '../model/unit-name.js';
import type { ScheduledUnit, Unit, UnitState } from '../model/unit.js';
import type { ClusterView, ClusterViewSource } from '../registry/cluster-view.js';
import type { Leadership } from '../registry/leadership.js';
import type { ChangeFeed, ClusterReader, MachineMetadataStore, MachineScheduleReader, ScheduleWriter, UnitStateSink, UnitStore } from '../registry/registry.js';
import { aMachine } from './builders.js';
import { fileOf, unitOf } from './contract-units.js';
import { registryBatchContract } from './registry-batch-contract.js';
import { withDeadline } from './deadline.js';

/** Every registry role, as fleetd's registry implements them. */
export type ContractRegistry = UnitStore & ClusterReader & ScheduleWriter & MachineScheduleReader & MachineMetadataStore & ChangeFeed;

/** A machine that joined through {@link RegistryUnderTest.join}. */
export interface JoinedMachine {
  /** Its lease-bound unit-state writes. */
  readonly sink: UnitStateSink;
  /** Leaves at once (its lease revoked): its record and its states disappear. */
  leave(): Promise<void>;
}

/** What one contract test needs: a fresh, empty registry, its leader election, and machine presence. */
export interface RegistryUnderTest {
  readonly registry: ContractRegistry;
  readonly leadership: Leadership;
  /** The cluster view over `registry` that the API and the engine read (fleetd's cache; the fake itself). */
  readonly cluster: ClusterViewSource;
  /** Registers `machine`'s presence, as its fleetd would. */
  join(machine: MachineState): Promise<JoinedMachine>;
}

const deadlineMs = 10_000;


/**
 * The behaviour every registry must show, run against `InMemoryRegistry` (unit project) and
 * `EtcdRegistry` on a real etcd (test/registry): what the API, the engine and the agents rely on.
 * `make` is called at the start of each test and must return an empty registry.
 */
export function registryContract(name: string, make: () => Promise<RegistryUnderTest>): void {
  describe(`registry contract: ${name}`, () => {
    registryBatchContract(make);

    it('creates, reads, updates and destroys units; a second create reports the existing unit and its revision', async () => {
      const { registry } = await make();
      const hello = unitOf('hello.service', fileOf('/bin/sleep 1000'));
      expect(await registry.createUnit(hello)).toEqual({ kind: 'created' });
      expect(await registry.createUnit({ ...hello, desiredState: 'inactive' })).toEqual({
        kind: 'exists', existing: { name: hello.name, hash: hello.hash, desiredState: 'launched' }, revision: expect.stringMatching(/^\d+$/),
      });
      expect(await registry.getUnit(hello.name)).toEqual(hello);
      expect(await registry.getUnitFile(hello.hash)).toEqual(hello.file);
      expect(await registry.setDesiredState(hello.name, 'loaded')).toBe(true);
      expect((await registry.snapshot()).units.get(hello.name)?.desiredState).toBe('loaded');
      expect(await registry.destroyUnit(hello.name)).toBe(true);
      expect(await registry.destroyUnit(hello.name)).toBe(false);
      expect(await registry.setDesiredState(hello.name, 'loaded')).toBe(false);
      expect(await registry.getUnit(hello.name)).toBeUndefined();
      // The file stays (immutable, by hash) until the engine collects it.
      expect(await registry.getUnitFile(hello.hash)).toEqual(hello.file);
    });

    it('replaces a unit only while it is at the revision read; setting the state it already has is no change', async () => {
      const { registry } = await make();
      const first = unitOf('web.service', fileOf('/bin/a'));
      const second = unitOf('web.service', fileOf('/bin/b'), 'loaded');
      await registry.createUnit(first);
      const read = await registry.createUnit(second);
      if (read.kind !== 'exists') throw new Error('expected the unit to exist');
      expect(await registry.setDesiredState(first.name, 'launched')).toBe(true);
      expect(await registry.replaceUnit(second, read.revision)).toEqual({ kind: 'replaced' });
      expect(await registry.getUnit(first.name)).toEqual(second);
      // A change after the read: the replace must not overwrite it unseen.
      const again = await registry.createUnit(first);
      if (again.kind !== 'exists') throw new Error('expected the unit to exist');
      await registry.setDesiredState(first.name, 'inactive');
      expect(await registry.replaceUnit(first, again.revision)).toEqual({ kind: 'conflict' });
      expect((await registry.getUnit(first.name))?.desiredState).toBe('inactive');
      const gone = await registry.createUnit(first);
      if (gone.kind !== 'exists') throw new Error('expected the unit to exist');
      await registry.destroyUnit(first.name);
      expect(await registry.replaceUnit(first, gone.revision)).toEqual({ kind: 'conflict' });
      expect(await registry.getUnit(first.name)).toBeUndefined();
    });

    it('reads every kind of record in one snapshot, whose revision grows with every write', async () => {
      const { registry, leadership, join } = await make();
      const machine = aMachine('s', { rack: 'r1' });
      const joined = await join(machine);
      const hello = unitOf('hello.service', fileOf('/bin/true'));
      const before = await registry.snapshot();
      await registry.createUnit(hello);
      const term = await leadership.campaign(machine.id, new AbortController().signal);
      const entry: ScheduledUnit = { name: hello.name, machineId: machine.id, targetState: 'launched', hash: hello.hash };
      expect(await registry.applyScheduleChanges([{ kind: 'schedule', entry }, { kind: 'set-reason', name: hello.name, reason: 'because' }], term.fence)).toEqual({ ok: true });
      const state: UnitState = { name: hello.name, machineId: machine.id, hash: hello.hash, loadState: 'loaded', activeState: 'active', subState: 'running', agentState: 'launched' };
      await joined.sink.publishState(state);
      const snapshot = await registry.snapshot();
      expect(BigInt(snapshot.revision)).toBeGreaterThan(BigInt(before.revision));
      expect([...snapshot.units.values()]).toEqual([{ name: hello.name, hash: hello.hash, desiredState: 'launched' }]);
      expect(snapshot.schedule).toEqual([entry]);
      expect([...snapshot.machines.values()]).toEqual([machine]);
      expect(snapshot.states).toEqual([state]);
      expect([...snapshot.reasons]).toEqual([[hello.name, 'because']]);
      expect(snapshot.unitFileHashes).toEqual([hello.hash]);
      expect(snapshot.corrupt).toEqual([]);
      expect(await registry.unitFiles([hello.hash, 'f'.repeat(40)])).toEqual(new Map([[hello.hash, hello.file]]));
      expect(await registry.applyScheduleChanges([{ kind: 'clear-reason', name: hello.name }], term.fence)).toEqual({ ok: true });
      expect((await registry.snapshot()).reasons.size).toBe(0);
      await term.resign();
      await joined.leave();
    });

    it('publishes and deletes unit states bound to the presence; a machine that leaves takes its states along', async () => {
      const { registry, join } = await make();
      const [a, b] = [aMachine('a'), aMachine('b')];
      const [joinedA, joinedB] = [await join(a), await join(b)];
      const hash = hashUnitFile(fileOf('/bin/true'));
      const stateOn = (m: MachineState, name: string): UnitState => ({ name: parseUnitName(name), machineId: m.id, hash, loadState: 'loaded', activeState: 'active', subState: 'running' });
      await joinedA.sink.publishState(stateOn(a, 'x.service'));
      await joinedA.sink.publishState(stateOn(a, 'y.service'));
      await joinedB.sink.publishState(stateOn(b, 'x.service'));
      await joinedA.sink.publishState({ ...stateOn(a, 'x.service'), activeState: 'failed', subState: 'failed' });
      await joinedA.sink.deleteState(parseUnitName('y.service'));
      const byKey = (states: readonly UnitState[]): string[] => states.map((s) => `${s.machineId.slice(0, 2)} ${s.name} ${s.activeState}`).sort();
      expect(byKey((await registry.snapshot()).states)).toEqual([`${a.id.slice(0, 2)} x.service failed`, `${b.id.slice(0, 2)} x.service active`]);
      await joinedA.leave();
      const after = await registry.snapshot();
      expect([...after.machines.keys()]).toEqual([b.id]);
      expect(byKey(after.states)).toEqual([`${b.id.slice(0, 2)} x.service active`]);
      await joinedB.leave();
    });

    it('keeps metadata overrides apart from presence: they wait for a machine to join and survive it leaving', async () => {
      const { registry, join } = await make();
      const machine = aMachine('md', { rack: 'r1', disk: 'hdd' });
      await registry.patchMachineMetadata([]);
      await registry.patchMachineMetadata([{ machineId: machine.id, key: 'disk', value: 'ssd' }, { machineId: machine.id, key: 'rack', value: null }]);
      expect(await registry.metadataOverrides()).toEqual(new Map([[machine.id, { disk: 'ssd', rack: null }]]));
      expect((await registry.snapshot()).machines.size).toBe(0);
      const joined = await join(machine);
      expect((await registry.snapshot()).machines.get(machine.id)?.metadata).toEqual({ disk: 'ssd' });
      await registry.patchMachineMetadata([{ machineId: machine.id, key: 'zone', value: 'z1' }]);
      expect((await registry.snapshot()).machines.get(machine.id)?.metadata).toEqual({ disk: 'ssd', zone: 'z1' });
      await joined.leave();
      expect(await registry.metadataOverrides()).toEqual(new Map([[machine.id, { disk: 'ssd', rack: null, zone: 'z1' }]]));
    });

    it('refuses a metadata patch of more machines than one transaction holds, changing nothing', async () => {
      const { registry } = await make();
      const changes = Array.from({ length: 101 }, (_, i) => ({ machineId: aMachine(`m${i}`).id, key: 'k', value: 'v' }));
      const error = await registry.patchMachineMetadata(changes).then(() => undefined, (err: unknown) => err);
      expect(error).toBeInstanceOf(FleetError);
      expect((error as FleetError).code).toBe('INVALID_REQUEST');
      expect((await registry.metadataOverrides()).size).toBe(0);
    });

    it('fences schedule writes: once the term ends the old fence writes nothing, the next leader writes', async () => {
      const { registry, leadership } = await make();
      const [a, b] = [aMachine('a'), aMachine('b')];
      const hello = unitOf('hello.service', fileOf('/bin/true'));
      await registry.createUnit(hello);
      const stop = new AbortController();
      const first = await leadership.campaign(a.id, stop.signal);
      let secondLeads = false;
      const second = leadership.campaign(b.id, stop.signal).then((term) => {
        secondLeads = true;
        return term;
      });
      const entry: ScheduledUnit = { name: hello.name, machineId: a.id, targetState: 'launched', hash: hello.hash };
      expect(await registry.applyScheduleChanges([{ kind: 'schedule', entry }], first.fence)).toEqual({ ok: true });
      expect(secondLeads).toBe(false);
      await first.resign();
      expect(first.signal.aborted).toBe(true);
      const before = await registry.snapshot();
      const stale = await registry.applyScheduleChanges([
        { kind: 'unschedule', machineId: a.id, name: hello.name },
        { kind: 'set-reason', name: hello.name, reason: 'stale' },
        { kind: 'delete-unit-file', hash: hello.hash, unchangedSince: before.revision },
      ], first.fence);
      expect(stale).toEqual({ ok: false, reason: 'not-leader' });
      const after = await registry.snapshot();
      expect(after.schedule).toEqual([entry]);
      expect(after.reasons.size).toBe(0);
      expect(after.unitFileHashes).toEqual([hello.hash]);
      const next = await second;
      expect(next.signal.aborted).toBe(false);
      expect(await registry.applyScheduleChanges([{ kind: 'unschedule', machineId: a.id, name: hello.name }], next.fence)).toEqual({ ok: true });
      expect((await registry.machineSchedule(a.id)).entries).toEqual([]);
      await next.resign();
      stop.abort();
    });

    it('refuses a batch that moves a machine\'s units away if the machine is back (stale), and applies it once it is gone', async () => {
      const { registry, leadership, join } = await make();
      const [a, b] = [aMachine('back'), aMachine('other')];
      const joined = await join(a);
      const hello = unitOf('hello.service', fileOf('/bin/true'));
      await registry.createUnit(hello);
      const term = await leadership.campaign(b.id, new AbortController().signal);
      const onA: ScheduledUnit = { name: hello.name, machineId: a.id, targetState: 'launched', hash: hello.hash };
      expect(await registry.applyScheduleChanges([{ kind: 'schedule', entry: onA }], term.fence)).toEqual({ ok: true });
      const move = [
        { kind: 'unschedule', machineId: a.id, name: hello.name, ifMachineAbsent: true },
        { kind: 'schedule', entry: { ...onA, machineId: b.id } },
      ] as const;
      expect(await registry.applyScheduleChanges(move, term.fence)).toEqual({ ok: false, reason: 'stale' });
      expect((await registry.snapshot()).schedule).toEqual([onA]);
      await joined.leave();
      expect(await registry.applyScheduleChanges(move, term.fence)).toEqual({ ok: true });
      expect((await registry.snapshot()).schedule).toEqual([{ ...onA, machineId: b.id }]);
      await term.resign();
    });

    it('applies a batch larger than one transaction holds, in full', async () => {
      const { registry, leadership } = await make();
      const machine = aMachine('big');
      const hash = hashUnitFile(fileOf('/bin/true'));
      const term = await leadership.campaign(machine.id, new AbortController().signal);
      const names = Array.from({ length: 250 }, (_, i) => parseUnitName(`u${String(i).padStart(3, '0')}.service`));
      const changes = names.flatMap((name) => [
        { kind: 'schedule' as const, entry: { name, machineId: machine.id, targetState: 'loaded' as const, hash } },
        { kind: 'set-reason' as const, name, reason: 'r' },
      ]);
      expect(await registry.applyScheduleChanges(changes, term.fence)).toEqual({ ok: true });
      expect((await registry.machineSchedule(machine.id)).entries.map((e) => e.name)).toEqual(names);
      expect((await registry.snapshot()).reasons.size).toBe(250);
      await term.resign();
    });

    it('collects a unit file only if it was not written again since the revision given', async () => {
      const { registry, leadership } = await make();
      const shared = fileOf('/bin/shared');
      const lonely = fileOf('/bin/lonely');
      await registry.createUnit(unitOf('a.service', shared));
      await registry.createUnit(unitOf('l.service', lonely));
      await registry.destroyUnit(parseUnitName('a.service'));
      await registry.destroyUnit(parseUnitName('l.service'));
      const seen = await registry.snapshot();
      // A new unit with the same content writes the shared file again after the snapshot.
      await registry.createUnit(unitOf('b.service', shared));
      const term = await leadership.campaign(aMachine('gc').id, new AbortController().signal);
      const collect = (unchangedSince: string) => registry.applyScheduleChanges([
        { kind: 'delete-unit-file', hash: hashUnitFile(shared), unchangedSince },
        { kind: 'delete-unit-file', hash: hashUnitFile(lonely), unchangedSince },
      ], term.fence);
      expect(await collect(seen.revision)).toEqual({ ok: true });
      expect([...(await registry.snapshot()).unitFileHashes]).toEqual([hashUnitFile(shared)]);
      expect(await registry.getUnitFile(hashUnitFile(shared))).toEqual(shared);
      await registry.destroyUnit(parseUnitName('b.service'));
      expect(await collect((await registry.snapshot()).revision)).toEqual({ ok: true });
      expect((await registry.snapshot()).unitFileHashes).toEqual([]);
      await term.resign();
    });

    it("reads one machine's schedule only", async () => {
      const { registry, leadership } = await make();
      const [a, b] = [aMachine('a'), aMachine('b')];
      const hash = hashUnitFile(fileOf('/bin/true'));
      const term = await leadership.campaign(a.id, new AbortController().signal);
      const entry = (name: string, machineId: MachineState['id']): ScheduledUnit => ({ name: parseUnitName(name), machineId, targetState: 'launched', hash });
      await registry.applyScheduleChanges([{ kind: 'schedule', entry: entry('y.service', a.id) }, { kind: 'schedule', entry: entry('x.service', a.id) }, { kind: 'schedule', entry: entry('x.service', b.id) }], term.fence);
      expect((await registry.machineSchedule(a.id)).entries).toEqual([entry('x.service', a.id), entry('y.service', a.id)]);
      expect((await registry.machineSchedule(b.id)).entries).toEqual([entry('x.service', b.id)]);
      expect((await registry.machineSchedule(aMachine('c').id)).entries).toEqual([]);
      await term.resign();
    });

    it('wakes a cluster watcher at once, then on unit, presence and metadata changes; ends when aborted', async () => {
      const { registry, join } = await make();
      const stop = new AbortController();
      const wakes = registry.changes({ kind: 'cluster' }, stop.signal)[Symbol.asyncIterator]();
      await withDeadline(wakes.next(), 'the first wake-up', deadlineMs);
      const hello = unitOf('hello.service', fileOf('/bin/true'));
      // Level-triggered: a wake-up may come for an earlier change (etcd's watches on several
      // prefixes each start with one), but some wake-up must follow the change, and a re-read then sees it.
      const woken = async (what: string, change: () => Promise<unknown>, visible: () => Promise<boolean>): Promise<void> => {
        let next = wakes.next();
        await change();
        for (;;) {
          expect((await withDeadline(next, `a wake-up after ${what}`, deadlineMs)).done).toBe(false);
          if (await visible()) return;
          next = wakes.next();
        }
      };
      await woken('a create', () => registry.createUnit(hello), async () => (await registry.snapshot()).units.has(hello.name));
      const machine = aMachine('w');
      let joined: JoinedMachine | undefined;
      await woken('a join', async () => (joined = await join(machine)), async () => (await registry.snapshot()).machines.has(machine.id));
      await woken('a metadata patch', () => registry.patchMachineMetadata([{ machineId: machine.id, key: 'k', value: 'v' }]), async () => (await registry.snapshot()).machines.get(machine.id)?.metadata['k'] === 'v');
      await woken('a destroy', () => registry.destroyUnit(hello.name), async () => !(await registry.snapshot()).units.has(hello.name));
      stop.abort();
      await ends(wakes);
      await joined?.leave();
    });

    it('a view read after a write made through the registry sees it, without waiting for anything else', async () => {
      const { registry, leadership, cluster, join } = await make();
      const machine = aMachine('v');
      const joined = await join(machine);
      const hello = unitOf('hello.service', fileOf('/bin/true'));
      await registry.createUnit(hello);
      expect((await cluster.view()).unit(hello.name)).toEqual({ name: hello.name, hash: hello.hash, desiredState: 'launched' });
      expect(await cluster.unitFiles([hello.hash])).toEqual(new Map([[hello.hash, hello.file]]));
      await registry.setDesiredState(hello.name, 'loaded');
      expect((await cluster.view()).unit(hello.name)?.desiredState).toBe('loaded');
      const term = await leadership.campaign(machine.id, new AbortController().signal);
      const entry: ScheduledUnit = { name: hello.name, machineId: machine.id, targetState: 'loaded', hash: hello.hash };
      await registry.applyScheduleChanges([{ kind: 'schedule', entry }, { kind: 'set-reason', name: hello.name, reason: 'why' }], term.fence);
      let view = await cluster.view();
      expect([view.placements(hello.name), view.reason(hello.name)]).toEqual([[entry], 'why']);
      await registry.patchMachineMetadata([{ machineId: machine.id, key: 'disk', value: 'ssd' }]);
      expect((await cluster.view()).machine(machine.id)?.metadata).toEqual({ disk: 'ssd' });
      await registry.applyScheduleChanges([{ kind: 'unschedule', machineId: machine.id, name: hello.name }, { kind: 'clear-reason', name: hello.name }], term.fence);
      await registry.destroyUnit(hello.name);
      view = await cluster.view();
      expect([view.unit(hello.name), view.placements(hello.name), view.reason(hello.name), view.unitCount]).toEqual([undefined, [], undefined, 0]);
      await term.resign();
      await joined.leave();
    });

    it('a view follows changes made elsewhere (presence, unit states) and their deletes', async () => {
      const { cluster, join } = await make();
      const machine = aMachine('s', { zone: 'z1' });
      const joined = await join(machine);
      const name = parseUnitName('x.service');
      await eventually('the machine in the view', async () => (await cluster.view()).machine(machine.id)?.metadata['zone'] === 'z1');
      await joined.sink.publishState({ name, machineId: machine.id, hash: 'h', loadState: 'loaded', activeState: 'active', subState: 'running' });
      await eventually('the state in the view', async () => (await cluster.view()).state(machine.id, name)?.activeState === 'active');
      expect((await cluster.view()).states({ unitName: name }, 0, 10).items.map((s) => s.machineId)).toEqual([machine.id]);
      await joined.leave();
      await eventually('the machine and its states gone from the view', async () => {
        const view = await cluster.view();
        return view.machine(machine.id) === undefined && view.states({}, 0, 10).total === 0;
      });
    });

    it('a view pages units in name order and agrees with a snapshot, without unit states in the planning input', async () => {
      const { registry, cluster, join } = await make();
      const joined = await join(aMachine('p'));
      for (const n of ['d', 'b', 'e', 'a', 'c']) await registry.createUnit(unitOf(`${n}.service`, fileOf(`/bin/${n}`)));
      await registry.destroyUnit(parseUnitName('e.service'));
      const view: ClusterView = await cluster.view();
      expect([view.unitCount, view.units(1, 2).map((u) => u.name)]).toEqual([4, ['b.service', 'c.service']]);
      const snapshot = await registry.snapshot();
      const planning = view.planningInput();
      expect('states' in planning).toBe(false);
      expect([...planning.units.values()].sort((x, y) => x.name.localeCompare(y.name))).toEqual([...snapshot.units.values()].sort((x, y) => x.name.localeCompare(y.name)));
      expect([...planning.machines]).toEqual([...snapshot.machines]);
      expect([...planning.unitFileHashes].sort()).toEqual([...snapshot.unitFileHashes].sort());
      expect(BigInt(planning.revision)).toBeLessThanOrEqual(BigInt(snapshot.revision));
      await joined.leave();
    });

    it("wakes a machine's schedule watcher when that machine's schedule changes", async () => {
      const { registry, leadership } = await make();
      const a = aMachine('a');
      const hash = hashUnitFile(fileOf('/bin/true'));
      const term = await leadership.campaign(a.id, new AbortController().signal);
      const stop = new AbortController();
      const wakes = registry.changes({ kind: 'machine-schedule', machine: a.id }, stop.signal)[Symbol.asyncIterator]();
      await withDeadline(wakes.next(), 'the first wake-up', deadlineMs);
      const name: UnitName = parseUnitName('hello.service');
      let next = wakes.next();
      await registry.applyScheduleChanges([{ kind: 'schedule', entry: { name, machineId: a.id, targetState: 'launched', hash } }], term.fence);
      expect((await withDeadline(next, 'a wake-up after scheduling', deadlineMs)).done).toBe(false);
      next = wakes.next();
      await registry.applyScheduleChanges([{ kind: 'unschedule', machineId: a.id, name }], term.fence);
      expect((await withDeadline(next, 'a wake-up after unscheduling', deadlineMs)).done).toBe(false);
      expect((await registry.machineSchedule(a.id)).entries).toEqual([]);
      stop.abort();
      await ends(wakes);
      await term.resign();
    });
  });
}

/** Polls `check` until it holds (changes made by others reach a view asynchronously), within the deadline. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The feed ends once its signal has aborted (after at most the few wake-ups already pending). */
async function ends(wakes: AsyncIterator<void>): Promise<void> {
  for (let pending = 0; pending < 5; pending++) {
    if ((await withDeadline(wakes.next(), 'the end of the feed', deadlineMs)).done === true) return;
  }
  throw new Error('the feed went on waking up after its signal aborted');
}
