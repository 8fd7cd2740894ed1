import { RegistryUnavailableError } from '../errors.js';
import { applyMetadataOverrides, patchMetadataOverrides, type MachineId, type MachineState, type MetadataChange, type MetadataOverrides } from '../model/machine.js';
import { hashUnitFile, type UnitFile } from '../model/unit-file.js';
import { type ScheduledUnit, type TargetState, type Unit, type UnitState } from '../model/unit.js';
import { type UnitName } from '../model/unit-name.js';
import type { UnitRecord } from '../registry/codec.js';
import type { ClusterReader, ClusterSnapshot, CreateUnitOutcome, LeaderFence, MachineMetadataStore, ReplaceUnitOutcome, ScheduleChange, ScheduleWriter, UnitStore, WriteOutcome } from '../registry/registry.js';

/**
 * The registry roles over plain maps, for fast tests of the API, the engine and fleetctl.
 * `unavailable = true` makes every call fail as during an etcd outage.
 */
export class InMemoryRegistry implements UnitStore, ClusterReader, ScheduleWriter, MachineMetadataStore {
  readonly units = new Map<UnitName, UnitRecord>();
  readonly files = new Map<string, UnitFile>();
  readonly schedule = new Map<string, ScheduledUnit>();
  /** Present machines with their configured metadata (as their presence records hold it). */
  readonly machines = new Map<MachineId, MachineState>();
  /** Metadata set through the API, by machine; applied in {@link snapshot}. */
  readonly metadata = new Map<MachineId, MetadataOverrides>();
  readonly states = new Map<string, UnitState>();
  readonly reasons = new Map<UnitName, string>();
  /** The fence key that is currently valid; writes with any other fence lose. */
  leaderFence: LeaderFence | undefined;
  unavailable = false;
  private revision = 1;
  /** The revision at which each unit was last written (units set directly by tests count as '0'). */
  private readonly unitRevisions = new Map<UnitName, string>();

  async createUnit(unit: Unit): Promise<CreateUnitOutcome> {
    this.check('create unit');
    const existing = this.units.get(unit.name);
    if (existing !== undefined) return { kind: 'exists', existing, revision: this.unitRevisions.get(unit.name) ?? '0' };
    this.writeUnit(unit);
    return { kind: 'created' };
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
    this.units.set(name, { ...unit, desiredState: state });
    this.unitRevisions.set(name, String(++this.revision));
    return true;
  }

  async destroyUnit(name: UnitName): Promise<boolean> {
    this.check('destroy unit');
    this.revision++;
    this.unitRevisions.delete(name);
    return this.units.delete(name);
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
    };
  }

  async patchMachineMetadata(changes: readonly MetadataChange[]): Promise<void> {
    this.check('patch machine metadata');
    for (const [id, o] of patchMetadataOverrides(this.metadata, changes)) this.metadata.set(id, o);
    this.revision++;
  }

  async metadataOverrides(): Promise<ReadonlyMap<MachineId, MetadataOverrides>> {
    this.check('read machine metadata');
    return new Map(this.metadata);
  }

  async applyScheduleChanges(changes: readonly ScheduleChange[], fence: LeaderFence): Promise<WriteOutcome> {
    this.check('schedule');
    if (this.leaderFence?.key !== fence.key || this.leaderFence.createRevision !== fence.createRevision) return { ok: false, reason: 'not-leader' };
    for (const c of changes) {
      if (c.kind === 'schedule') this.schedule.set(`${c.entry.machineId}/${c.entry.name}`, c.entry);
      else if (c.kind === 'unschedule') this.schedule.delete(`${c.machineId}/${c.name}`);
      else if (c.kind === 'set-reason') this.reasons.set(c.name, c.reason);
      else if (c.kind === 'clear-reason') this.reasons.delete(c.name);
      else this.files.delete(c.hash);
    }
    this.revision++;
    return { ok: true };
  }

  /** Test helper: records a unit state as an agent would. */
  putState(state: UnitState): void {
    this.states.set(`${state.machineId}/${state.name}`, state);
  }

  private writeUnit(unit: Unit): void {
    const hash = hashUnitFile(unit.file);
    this.files.set(hash, unit.file);
    this.units.set(unit.name, { name: unit.name, hash, desiredState: unit.desiredState });
    this.unitRevisions.set(unit.name, String(++this.revision));
  }

  private check(operation: string): void {
    if (this.unavailable) throw new RegistryUnavailableError(operation, { cause: new Error('etcd is down (simulated)') });
  }
}
