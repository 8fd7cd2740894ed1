import { FleetError, RegistryUnavailableError } from '../errors.js';
import { Wakeup } from '../loop.js';
import { applyMetadataOverrides, patchMetadataOverrides, type MachineId, type MachineState, type MetadataChange, type MetadataOverrides } from '../model/machine.js';
import { type UnitFile } from '../model/unit-file.js';
import { type ScheduledUnit, type TargetState, type Unit, type UnitState } from '../model/unit.js';
import { type UnitName } from '../model/unit-name.js';
import type { UnitRecord } from '../registry/codec.js';
import { ClusterState } from '../registry/cluster-state.js';
import type { ClusterView, ClusterViewSource } from '../registry/cluster-view.js';
import type {
  ChangeFeed, ChangeScope, ClusterReader, ClusterSnapshot, CreateUnitOutcome, LeaderFence, MachineMetadataStore, MachineSchedule, MachineScheduleReader, ReplaceUnitOutcome,
  ScheduleChange, ScheduleWriter, UnitStateSink, UnitStore, WriteOutcome,
} from '../registry/registry.js';

/** As `EtcdRegistry`: a metadata patch touches at most this many machines (one etcd transaction). */
const maxMachinesPerPatch = 100;

/** What changed, for the {@link ChangeFeed} scopes (the same prefixes `EtcdRegistry` watches). */
type Change = { readonly kind: 'cluster' } | { readonly kind: 'machine-schedule'; readonly machine: MachineId };

/**
 * Every registry role over plain maps, for fast tests of the API, the engine, the agent and
 * fleetctl. It behaves as `EtcdRegistry` does (both pass `registryContract`): one revision counter
 * for every write, fenced schedule writes that change nothing once the fence is stale, unit files
 * collected only if not written again since `unchangedSince`, and change feeds that wake up at once
 * and then on every change under their scope.
 *
 * The maps are public so that tests can arrange a cluster directly; such direct edits bump no
 * revision and wake no watcher (use {@link putMachine}, {@link removeMachine} and {@link stateSink}
 * for that). `unavailable = true` makes every call fail as during an etcd outage.
 */
export class InMemoryRegistry implements UnitStore, ClusterReader, ClusterViewSource, ScheduleWriter, MachineScheduleReader, MachineMetadataStore, ChangeFeed {
  readonly units = new Map<UnitName, UnitRecord>();
  readonly files = new Map<string, UnitFile>();
  readonly schedule = new Map<string, ScheduledUnit>();
  /** Present machines with their configured metadata (as their presence records hold it). */
  readonly machines = new Map<MachineId, MachineState>();
  /** Metadata set through the API, by machine; applied in {@link snapshot}. */
  readonly metadata = new Map<MachineId, MetadataOverrides>();
  readonly states = new Map<string, UnitState>();
  readonly reasons = new Map<UnitName, string>();
  /** The fence that is currently valid (set by `InMemoryLeadership`); writes with any other fence lose. */
  leaderFence: LeaderFence | undefined;
  unavailable = false;
  private revision = 1;
  /** The revision at which each unit was last written (units set directly by tests count as '0'). */
  private readonly unitRevisions = new Map<UnitName, string>();
  /** The revision at which each file was last written (files set directly by tests count as '0'). */
  private readonly fileRevisions = new Map<string, string>();
  private readonly watchers = new Set<{ readonly scope: ChangeScope; readonly wake: Wakeup }>();
  private readonly renewListeners = new Map<MachineId, Set<() => void>>();

  async createUnit(unit: Unit): Promise<CreateUnitOutcome> {
    this.check('create unit');
    const existing = this.units.get(unit.name);
    if (existing !== undefined) return { kind: 'exists', existing, revision: this.unitRevisions.get(unit.name) ?? '0' };
    this.writeUnit(unit);
    return { kind: 'created' };
  }

  async createUnits(units: readonly Unit[]): Promise<CreateUnitOutcome[]> {
    this.check('create units');
    const outcomes: CreateUnitOutcome[] = [];
    for (const unit of units) outcomes.push(await this.createUnit(unit));
    return outcomes;
  }

  async replaceUnit(unit: Unit, revision: string): Promise<ReplaceUnitOutcome> {
    this.check('replace unit');
    if (!this.units.has(unit.name) || (this.unitRevisions.get(unit.name) ?? '0') !== revision) return { kind: 'conflict' };
    this.writeUnit(unit);
    return { kind: 'replaced' };
  }

  async setDesiredState(name: UnitName, state: TargetState): Promise<boolean> {
    this.check('set desired state');
    const unit = this.units.get(name);
    if (unit === undefined) return false;
    if (unit.desiredState === state) return true; // as etcd: no write, so the unit's revision stays
    this.units.set(name, { ...unit, desiredState: state });
    this.unitRevisions.set(name, this.nextRevision());
    this.changed({ kind: 'cluster' });
    return true;
  }

  async destroyUnit(name: UnitName): Promise<boolean> {
    this.check('destroy unit');
    if (!this.units.delete(name)) return false;
    this.unitRevisions.delete(name);
    this.nextRevision();
    this.changed({ kind: 'cluster' });
    return true;
  }

  async getUnit(name: UnitName): Promise<Unit | undefined> {
    this.check('read unit');
    const record = this.units.get(name);
    const file = record === undefined ? undefined : this.files.get(record.hash);
    return record === undefined || file === undefined ? undefined : { ...record, file };
  }

  async getUnitFile(hash: string): Promise<UnitFile | undefined> {
    this.check('read unit file');
    return this.files.get(hash);
  }

  async unitFiles(hashes: readonly string[]): Promise<ReadonlyMap<string, UnitFile>> {
    this.check('read unit files');
    const out = new Map<string, UnitFile>();
    for (const hash of hashes) {
      const file = this.files.get(hash);
      if (file !== undefined) out.set(hash, file);
    }
    return out;
  }

  async snapshot(): Promise<ClusterSnapshot> {
    this.check('snapshot');
    return {
      revision: String(this.revision),
      units: new Map(this.units),
      schedule: [...this.schedule.values()],
      machines: new Map([...this.machines].map(([id, m]) => [id, { ...m, metadata: applyMetadataOverrides(m.metadata, this.metadata.get(id)) }])),
      states: [...this.states.values()],
      reasons: new Map(this.reasons),
      unitFileHashes: [...this.files.keys()],
      corrupt: [],
      corruptUnits: new Set(),
    };
  }

  /** A view of the maps as they are now: every write (direct edits included) is in it. */
  async view(): Promise<ClusterView> {
    return ClusterState.of(await this.snapshot());
  }

  async patchMachineMetadata(changes: readonly MetadataChange[]): Promise<void> {
    this.check('patch machine metadata');
    if (new Set(changes.map((c) => c.machineId)).size > maxMachinesPerPatch) {
      throw new FleetError('INVALID_REQUEST', `a metadata patch may change at most ${maxMachinesPerPatch} machines`);
    }
    if (changes.length === 0) return;
    for (const [id, o] of patchMetadataOverrides(this.metadata, changes)) this.metadata.set(id, o);
    this.nextRevision();
    this.changed({ kind: 'cluster' });
  }

  async metadataOverrides(): Promise<ReadonlyMap<MachineId, MetadataOverrides>> {
    this.check('read machine metadata');
    return new Map(this.metadata);
  }

  async applyScheduleChanges(changes: readonly ScheduleChange[], fence: LeaderFence): Promise<WriteOutcome> {
    this.check('schedule');
    if (changes.length === 0) return { ok: true }; // as etcd: nothing to write, no transaction
    if (this.leaderFence?.key !== fence.key || this.leaderFence.createRevision !== fence.createRevision) return { ok: false, reason: 'not-leader' };
    if (changes.some((c) => c.kind === 'unschedule' && c.ifMachineAbsent === true && this.machines.has(c.machineId))) return { ok: false, reason: 'stale' };
    this.nextRevision();
    for (const c of changes) {
      if (c.kind === 'schedule') {
        this.schedule.set(`${c.entry.machineId}/${c.entry.name}`, c.entry);
        this.changed({ kind: 'machine-schedule', machine: c.entry.machineId });
      } else if (c.kind === 'unschedule') {
        if (this.schedule.delete(`${c.machineId}/${c.name}`)) this.changed({ kind: 'machine-schedule', machine: c.machineId });
      } else if (c.kind === 'set-reason') this.reasons.set(c.name, c.reason);
      else if (c.kind === 'clear-reason') this.reasons.delete(c.name);
      else if (BigInt(this.fileRevisions.get(c.hash) ?? '0') <= BigInt(c.unchangedSince)) {
        this.files.delete(c.hash);
        this.fileRevisions.delete(c.hash);
      }
    }
    return { ok: true };
  }

  async machineSchedule(machine: MachineId): Promise<MachineSchedule> {
    this.check('read schedule');
    const entries = [...this.schedule.values()].filter((e) => e.machineId === machine).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { entries, corrupt: [] };
  }

  /**
   * As `EtcdRegistry`: one wake-up at once, then one (coalesced) per change. `cluster` is woken by
   * units, machines and metadata (not by the schedule, states or reasons: the engine's own writes
   * and the agents' reports); `machine-schedule` by that machine's schedule only.
   */
  async *changes(scope: ChangeScope, signal: AbortSignal): AsyncIterable<void> {
    const watcher = { scope, wake: new Wakeup() };
    watcher.wake.notify();
    this.watchers.add(watcher);
    try {
      yield* watcher.wake.stream(signal);
    } finally {
      this.watchers.delete(watcher);
    }
  }

  /** A machine joins (or changes its presence record), as its presence registration would. */
  putMachine(machine: MachineState): void {
    this.machines.set(machine.id, machine);
    this.nextRevision();
    this.changed({ kind: 'cluster' });
  }

  /** A machine leaves (its presence lease expired): its record and unit states go with it. */
  removeMachine(id: MachineId): void {
    if (!this.machines.delete(id)) return;
    for (const [key, state] of this.states) if (state.machineId === id) this.states.delete(key);
    this.nextRevision();
    this.changed({ kind: 'cluster' });
  }

  /** The unit-state writes of one machine, as its `MachinePresence` makes them. */
  stateSink(machine: MachineId): UnitStateSink {
    return {
      publishState: async (state) => {
        this.check('publish unit state');
        if (!this.machines.has(machine)) throw new RegistryUnavailableError('publish unit state', { cause: new Error('machine is not registered') });
        this.putState({ ...state, machineId: machine });
      },
      deleteState: async (name) => {
        this.check('delete unit state');
        if (this.states.delete(`${machine}/${name}`)) this.nextRevision();
      },
      writeStates: async ({ publish, remove }) => {
        try {
          this.check('publish unit states');
          if (!this.machines.has(machine)) throw new RegistryUnavailableError('publish unit states', { cause: new Error('machine is not registered') });
        } catch (failure) {
          return { written: new Set(), failure };
        }
        for (const state of publish) this.putState({ ...state, machineId: machine });
        for (const name of remove) if (this.states.delete(`${machine}/${name}`)) this.nextRevision();
        return { written: new Set([...publish.map((s) => s.name), ...remove]) };
      },
      onRenewed: (listener) => {
        const listeners = this.renewListeners.get(machine) ?? new Set();
        this.renewListeners.set(machine, listeners);
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
  }

  /** Simulates a lost and renewed presence lease: the machine's states are gone and its sinks' listeners run. */
  renewPresence(machine: MachineId): void {
    for (const [key, state] of this.states) if (state.machineId === machine) this.states.delete(key);
    this.nextRevision();
    for (const listener of this.renewListeners.get(machine) ?? []) listener();
  }

  /** Test helper: records a unit state as an agent would. */
  putState(state: UnitState): void {
    this.states.set(`${state.machineId}/${state.name}`, state);
    this.nextRevision();
  }

  private writeUnit(unit: Unit): void {
    // As etcd: the file is stored under the hash the caller computed, and written again each time.
    const revision = this.nextRevision();
    this.files.set(unit.hash, unit.file);
    this.fileRevisions.set(unit.hash, revision);
    this.units.set(unit.name, { name: unit.name, hash: unit.hash, desiredState: unit.desiredState });
    this.unitRevisions.set(unit.name, revision);
    this.changed({ kind: 'cluster' });
  }

  private nextRevision(): string {
    return String(++this.revision);
  }

  private changed(change: Change): void {
    for (const { scope, wake } of this.watchers) {
      if (scope.kind === change.kind && (scope.kind === 'cluster' || (change.kind === 'machine-schedule' && scope.machine === change.machine))) wake.notify();
    }
  }

  private check(operation: string): void {
    if (this.unavailable) throw new RegistryUnavailableError(operation, { cause: new Error('etcd is down (simulated)') });
  }
}
