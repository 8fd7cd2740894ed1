import type { MachineId, MachineState, MetadataChange, MetadataOverrides } from '../model/machine.js';
import type { ScheduledUnit, TargetState, Unit, UnitState } from '../model/unit.js';
import type { UnitFile } from '../model/unit-file.js';
import type { UnitName } from '../model/unit-name.js';
import type { UnitRecord } from './codec.js';

/**
 * What the engine plans from, at ONE etcd revision: everything but the units' reported states,
 * which neither the planner nor the stop deferral reads (fleet's engine plans from intent and
 * presence alone).
 */
export interface PlanningInput {
  readonly revision: string;
  readonly units: ReadonlyMap<UnitName, UnitRecord>;
  readonly schedule: readonly ScheduledUnit[];
  /** Present machines, with their effective metadata (configured + API overrides). */
  readonly machines: ReadonlyMap<MachineId, MachineState>;
  /** Why units that should run are not placed, as the engine last wrote it. */
  readonly reasons: ReadonlyMap<UnitName, string>;
  /** Hashes of every stored unit file (keys only; for garbage collection). */
  readonly unitFileHashes: readonly string[];
  /** Keys whose values did not decode; skipped, reported so they can be logged. */
  readonly corrupt: readonly string[];
  /**
   * The units whose record (`units/<name>`) or a schedule entry did not decode: the engine leaves
   * them where they are, rather than read a record it cannot decode as a unit that was destroyed.
   */
  readonly corruptUnits: ReadonlySet<UnitName>;
}

/** Everything the engine and the API read, taken at ONE etcd revision (no torn reads). */
export interface ClusterSnapshot extends PlanningInput {
  readonly states: readonly UnitState[];
}

/** Result of {@link UnitStore.createUnit}. */
export type CreateUnitOutcome =
  | { readonly kind: 'created' }
  /** `revision` identifies this version of the stored unit, for {@link UnitStore.replaceUnit}. */
  | { readonly kind: 'exists'; readonly existing: UnitRecord; readonly revision: string };

/** Result of {@link UnitStore.replaceUnit}: `conflict` when the unit changed or vanished since `revision`. */
export type ReplaceUnitOutcome = { readonly kind: 'replaced' } | { readonly kind: 'conflict' };

/** Writes made on behalf of users (the API). Never fenced: they express intent, not decisions. */
export interface UnitStore {
  /** Stores the file (by hash) and the unit atomically. Does not overwrite an existing unit. */
  createUnit(unit: Unit): Promise<CreateUnitOutcome>;
  /**
   * {@link createUnit} for many units, an outcome per unit in their order (names distinct). In
   * etcd, fifty units a transaction instead of a transaction each; a unit that exists makes its
   * fifty go one by one.
   */
  createUnits(units: readonly Unit[]): Promise<CreateUnitOutcome[]>;
  /**
   * Replaces a stored unit's file, hash and desired state (fleet's `--replace`): the new file is
   * stored by hash and the unit record rewritten in one transaction that succeeds only while the unit
   * is still at `revision` (as returned by {@link createUnit}), so a concurrent change is never
   * overwritten unseen. The engine then moves the schedule to the new hash and agents reload the unit.
   */
  replaceUnit(unit: Unit, revision: string): Promise<ReplaceUnitOutcome>;
  /** `false` when there is no such unit. */
  setDesiredState(name: UnitName, state: TargetState): Promise<boolean>;
  /** `false` when there is no such unit. */
  destroyUnit(name: UnitName): Promise<boolean>;
  /** The unit with its file, or `undefined`. */
  getUnit(name: UnitName): Promise<Unit | undefined>;
  /** The file with this hash, or `undefined` (e.g. garbage-collected). */
  getUnitFile(hash: string): Promise<UnitFile | undefined>;
}

/**
 * Metadata set through the API. Stored apart from the machines' presence (which carries the
 * configured metadata and expires with the machine), so it survives a machine leaving and rejoining;
 * {@link ClusterReader.snapshot} returns machines with their effective metadata.
 */
export interface MachineMetadataStore {
  /**
   * Applies the changes in order, all or none (one transaction), on top of the stored overrides.
   * Machines need not be present: the overrides wait for them. Throws RegistryUnavailableError.
   */
  patchMachineMetadata(changes: readonly MetadataChange[]): Promise<void>;
  /** The stored overrides of every machine (present or not). */
  metadataOverrides(): Promise<ReadonlyMap<MachineId, MetadataOverrides>>;
}

/** Reads for the engine and the API. */
export interface ClusterReader {
  snapshot(): Promise<ClusterSnapshot>;
  /** The stored files with these hashes (missing ones are absent from the map). Files are immutable. */
  unitFiles(hashes: readonly string[]): Promise<ReadonlyMap<string, UnitFile>>;
}

/** The fence a leader's write carries: the write happens only if this key still has this create revision. */
export interface LeaderFence {
  readonly key: string;
  readonly createRevision: string;
}

/** One change to the schedule. */
export type ScheduleChange =
  | { readonly kind: 'schedule'; readonly entry: ScheduledUnit }
  /**
   * With `ifMachineAbsent`, only while the machine has no record: the engine moves the units of a
   * machine it saw gone, and one that registered again meanwhile keeps them (its agent may already
   * have read its schedule and started them). The whole transaction is then refused (`stale`).
   */
  | { readonly kind: 'unschedule'; readonly machineId: MachineId; readonly name: UnitName; readonly ifMachineAbsent?: boolean }
  | { readonly kind: 'set-reason'; readonly name: UnitName; readonly reason: string }
  | { readonly kind: 'clear-reason'; readonly name: UnitName }
  /** Deleted only if the file was not written again after `unchangedSince` (a new unit may reuse it). */
  | { readonly kind: 'delete-unit-file'; readonly hash: string; readonly unchangedSince: string };

/** Outcome of a fenced write: losing the fence is an expected outcome, not an error. */
export type WriteOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: 'not-leader' | 'stale' };

/**
 * The leader's writes. Each batch is one etcd transaction guarded by the fence (and by the absence
 * of the machines its `ifMachineAbsent` unschedules name); the batches are applied in order and the
 * first refused one ends the write: `not-leader` when the fence is gone, `stale` when a machine
 * came back (plan again from a newer view).
 */
export interface ScheduleWriter {
  applyScheduleChanges(changes: readonly ScheduleChange[], fence: LeaderFence): Promise<WriteOutcome>;
}

/** What one agent reads: its own schedule only. */
export interface MachineScheduleReader {
  machineSchedule(machine: MachineId): Promise<MachineSchedule>;
  /** The stored files with these hashes (missing ones are absent), in as few reads as the store allows. */
  unitFiles(hashes: readonly string[]): Promise<ReadonlyMap<string, UnitFile>>;
}

/** One machine's schedule, as its agent reads it. */
export interface MachineSchedule {
  readonly entries: readonly ScheduledUnit[];
  /** Units whose entry did not decode: the agent leaves them as they are (logged by the reader). */
  readonly corrupt: readonly UnitName[];
}

/** Level-triggered wake-ups: each yield means "something under these keys changed; re-read". */
export interface ChangeFeed {
  /** Wake-ups for changes under the given kinds of keys, until `signal` aborts. */
  changes(scope: ChangeScope, signal: AbortSignal): AsyncIterable<void>;
}

export type ChangeScope =
  | { readonly kind: 'cluster' }
  | { readonly kind: 'machine-schedule'; readonly machine: MachineId };

/**
 * What this machine knows of its own presence lease, for units that must never run twice: how long
 * etcd is sure to keep the machine registered even if no keepalive reaches it from now on.
 */
export interface PresenceLeaseHealth {
  /**
   * The local clock's time (ms) just before the latest request etcd confirmed (the grant or a
   * keepalive) on the machine's current lease: etcd keeps the lease at least until this plus
   * {@link ttlMs}. Undefined while the machine is not registered (never was, or its lease was lost).
   */
  readonly confirmedAt: number | undefined;
  /** The lease's TTL, in ms. */
  readonly ttlMs: number;
}

/**
 * Lease-bound writes of one machine's unit states (its presence): they vanish with the machine.
 * `onRenewed` listeners run after the lease was lost and the machine registered again, so that
 * everything is published anew; the returned function removes the listener.
 */
export interface UnitStateSink {
  publishState(state: UnitState): Promise<void>;
  deleteState(name: UnitName): Promise<void>;
  /**
   * Many writes at once (in etcd, a few transactions instead of a request per unit). Never
   * rejects: resolves which units' writes landed and, if some did not, the first failure.
   */
  writeStates(writes: UnitStateWrites): Promise<UnitStateWriteOutcome>;
  onRenewed(listener: () => void): () => void;
}

/** What {@link UnitStateSink.writeStates} writes: states to publish, and units whose states go. */
export interface UnitStateWrites {
  readonly publish: readonly UnitState[];
  readonly remove: readonly UnitName[];
}

/** What became of {@link UnitStateWrites}: the units whose write landed; `failure` when some did not. */
export interface UnitStateWriteOutcome {
  readonly written: ReadonlySet<UnitName>;
  readonly failure?: unknown;
}
