import type { Etcd3, IKeyValue } from 'etcd3';
import { chunksOf, etcdCall, etcdClient, lastWriteRevision, noteWrite, type EtcdConnection } from './etcd-client.js';
import { FleetError, mergeWakeups } from '@fleet/core';
import type { Logger } from '@fleet/core';
import { applyMetadataOverrides, patchMetadataOverrides, unitNameProblem, type MachineId, type MachineState, type MetadataChange, type MetadataOverrides, type ScheduledUnit, type TargetState, type Unit, type UnitFile, type UnitName, type UnitState } from '@fleet/core/model';
import { codec, type UnitRecord, KeySchema } from '@fleet/core/registry';
import type { ChangeFeed, ChangeScope, ClusterReader, ClusterSnapshot, CreateUnitOutcome, LeaderFence, MachineMetadataStore, MachineSchedule, MachineScheduleReader, ReplaceUnitOutcome, ScheduleChange, ScheduleWriter, UnitStore, WriteOutcome } from '@fleet/core/registry';
import { readUnitFiles, UnitFileCache } from './unit-file-cache.js';
import { watchPrefix } from './watch.js';

/** etcd caps operations per transaction at 128 by default; stay under it. */
const maxOpsPerTxn = 100;

/** Units per transaction of {@link EtcdRegistry.createUnits}: two puts each (file and record) stay under {@link maxOpsPerTxn}. */
const unitsPerCreateTransaction = maxOpsPerTxn / 2;

/** The registry on a real etcd (v3 API through `etcd3`). The only file that knows etcd3's builders. */
export class EtcdRegistry implements UnitStore, ClusterReader, ScheduleWriter, MachineScheduleReader, MachineMetadataStore, ChangeFeed {
  readonly keys: KeySchema;
  /** Files are immutable per hash: cache them, bounded (least recently used go first). */
  private readonly fileCache: UnitFileCache;
  /** Corrupt schedule keys already logged, so that an agent pass every few seconds logs each once. */
  private readonly corruptLogged = new Set<string>();

  private readonly client: Etcd3;
  constructor(connection: EtcdConnection, prefix: string, private readonly log: Logger) {
    this.client = etcdClient(connection);
    this.keys = new KeySchema(prefix);
    this.fileCache = new UnitFileCache(log);
  }

  async createUnit(unit: Unit): Promise<CreateUnitOutcome> {
    const key = this.keys.unit(unit.name);
    const result = await etcdCall('create unit', () =>
      this.client.if(key, 'Create', '==', 0).then(...this.writeUnitOps(unit)).else(this.client.get(key)).commit(),
    );
    if (result.succeeded) return this.wrote(result.header.revision, { kind: 'created' });
    const kv = result.responses[0]?.response_range?.kvs[0];
    if (kv === undefined) return this.createUnit(unit); // deleted between compare and read: try again
    return { kind: 'exists', existing: codec.decodeUnit(key, unit.name, kv.value.toString()), revision: kv.mod_revision };
  }

  async createUnits(units: readonly Unit[]): Promise<CreateUnitOutcome[]> {
    const outcomes = await Promise.all(chunksOf(units, unitsPerCreateTransaction).map(async (chunk): Promise<CreateUnitOutcome[]> => {
      const [first, ...rest] = chunk;
      if (first === undefined) return [];
      let txn = this.client.if(this.keys.unit(first.name), 'Create', '==', 0);
      for (const unit of rest) txn = txn.and(this.keys.unit(unit.name), 'Create', '==', 0);
      // etcd refuses a transaction that puts one key twice: a file shared by several units goes once.
      const files = new Map(chunk.map((u) => [u.hash, u.file]));
      const ops = [
        ...[...files].map(([hash, file]) => this.client.put(this.keys.unitFile(hash)).value(codec.encodeUnitFile(file))),
        ...chunk.map((u) => this.client.put(this.keys.unit(u.name)).value(codec.encodeUnit({ name: u.name, hash: u.hash, desiredState: u.desiredState }))),
      ];
      const result = await etcdCall('create units', () => txn.then(...ops).commit());
      if (result.succeeded) return this.wrote(result.header.revision, chunk.map((): CreateUnitOutcome => ({ kind: 'created' })));
      // One of them exists: each on its own then, as createUnit answers it.
      return Promise.all(chunk.map((u) => this.createUnit(u)));
    }));
    return outcomes.flat();
  }

  async replaceUnit(unit: Unit, revision: string): Promise<ReplaceUnitOutcome> {
    // A missing key has mod revision 0, so a unit destroyed meanwhile is a conflict too.
    const result = await etcdCall('replace unit', () =>
      this.client.if(this.keys.unit(unit.name), 'Mod', '==', revision).then(...this.writeUnitOps(unit)).commit(),
    );
    return result.succeeded ? this.wrote(result.header.revision, { kind: 'replaced' }) : { kind: 'conflict' };
  }

  /** The file (stored once per hash) and the unit record, written together in one transaction. */
  private writeUnitOps(unit: Unit) {
    const record: UnitRecord = { name: unit.name, hash: unit.hash, desiredState: unit.desiredState };
    return [
      this.client.put(this.keys.unitFile(unit.hash)).value(codec.encodeUnitFile(unit.file)),
      this.client.put(this.keys.unit(unit.name)).value(codec.encodeUnit(record)),
    ];
  }

  async setDesiredState(name: UnitName, state: TargetState): Promise<boolean> {
    const key = this.keys.unit(name);
    for (;;) {
      const current = await etcdCall('read unit', () => this.client.get(key).exec());
      const kv = current.kvs[0];
      if (kv === undefined) return false;
      const record = codec.decodeUnit(key, name, kv.value.toString());
      if (record.desiredState === state) return true;
      const result = await etcdCall('set desired state', () =>
        this.client.if(key, 'Mod', '==', kv.mod_revision).then(this.client.put(key).value(codec.encodeUnit({ ...record, desiredState: state }))).commit(),
      );
      if (result.succeeded) return this.wrote(result.header.revision, true);
    }
  }

  async destroyUnit(name: UnitName): Promise<boolean> {
    const result = await etcdCall('destroy unit', () => this.client.delete().key(this.keys.unit(name)).exec());
    return Number(result.deleted) > 0 ? this.wrote(result.header.revision, true) : false;
  }

  async getUnit(name: UnitName): Promise<Unit | undefined> {
    const key = this.keys.unit(name);
    const kv = (await etcdCall('read unit', () => this.client.get(key).exec())).kvs[0];
    if (kv === undefined) return undefined;
    const record = codec.decodeUnit(key, name, kv.value.toString());
    const file = await this.getUnitFile(record.hash);
    return file === undefined ? undefined : { ...record, file };
  }

  async getUnitFile(hash: string): Promise<UnitFile | undefined> {
    return (await this.unitFiles([hash])).get(hash);
  }

  unitFiles(hashes: readonly string[]): Promise<ReadonlyMap<string, UnitFile>> {
    return readUnitFiles(this.client, this.keys, this.fileCache, hashes);
  }

  async snapshot(): Promise<ClusterSnapshot> {
    // The first range fixes the revision; the others read at that same revision.
    const unitsRes = await etcdCall('snapshot', () => this.client.getAll().prefix(this.keys.units).exec());
    const revision = unitsRes.header.revision;
    const kvsAt = (prefix: string): Promise<IKeyValue[]> =>
      etcdCall('snapshot', () => this.client.getAll().prefix(prefix).revision(revision).exec().then((r) => r.kvs));
    const [scheduleKvs, machineKvs, overrideKvs, stateKvs, reasonKvs, fileKeys] = await Promise.all([
      kvsAt(this.keys.schedules),
      kvsAt(this.keys.machines),
      kvsAt(this.keys.machineMetadata),
      kvsAt(this.keys.states),
      kvsAt(this.keys.reasons),
      etcdCall('snapshot', () => this.client.getAll().prefix(this.keys.unitFiles).revision(revision).keys()),
    ]);
    const corrupt: string[] = [];
    const corruptUnits = new Set<UnitName>();
    const units = new Map<UnitName, UnitRecord>();
    const schedule: ScheduledUnit[] = [];
    const machines = new Map<MachineId, MachineState>();
    const states: UnitState[] = [];
    const reasons = new Map<UnitName, string>();
    const overrides = new Map<MachineId, MetadataOverrides>();
    for (const kv of [...unitsRes.kvs, ...scheduleKvs, ...machineKvs, ...overrideKvs, ...stateKvs, ...reasonKvs]) {
      const key = kv.key.toString();
      const raw = kv.value.toString();
      const c = this.keys.classify(key);
      try {
        if (c?.kind === 'units') {
          const u = codec.decodeUnit(key, c.parts[0] ?? '', raw);
          units.set(u.name, u);
        } else if (c?.kind === 'schedule') schedule.push(codec.decodeSchedule(key, c.parts[0] ?? '', c.parts[1] ?? '', raw));
        else if (c?.kind === 'machines') {
          const m = codec.decodeMachine(key, c.parts[0] ?? '', raw);
          machines.set(m.id, m);
        } else if (c?.kind === 'machine-metadata') {
          const o = codec.decodeMetadataOverrides(key, c.parts[0] ?? '', raw);
          overrides.set(o.machineId, o.overrides);
        } else if (c?.kind === 'states') states.push(codec.decodeState(key, c.parts[0] ?? '', c.parts[1] ?? '', raw));
        else if (c?.kind === 'reasons') reasons.set(codec.decodeReasonKey(key, c.parts[0] ?? ''), raw);
        else corrupt.push(key);
      } catch {
        corrupt.push(key);
        if (c?.kind === 'units' || c?.kind === 'schedule') corruptUnits.add((c.kind === 'units' ? c.parts[0] : c.parts[1]) as UnitName);
      }
    }
    // Effective metadata here, once, so that the engine, the API and fleetctl all see the same.
    for (const [id, o] of overrides) {
      const m = machines.get(id);
      if (m !== undefined) machines.set(id, { ...m, metadata: applyMetadataOverrides(m.metadata, o) });
    }
    const unitFileHashes = fileKeys.flatMap((k) => this.keys.unitFileHashOf(k) ?? []);
    return { revision, units, schedule, machines, states, reasons, unitFileHashes, corrupt, corruptUnits };
  }

  async patchMachineMetadata(changes: readonly MetadataChange[]): Promise<void> {
    const ids = [...new Set(changes.map((c) => c.machineId))];
    if (ids.length > maxOpsPerTxn) throw new FleetError('INVALID_REQUEST', `a metadata patch may change at most ${maxOpsPerTxn} machines`);
    for (;;) {
      const current = await Promise.all(ids.map(async (id) => {
        const key = this.keys.machineMetadataOf(id);
        const kv = (await etcdCall('read machine metadata', () => this.client.get(key).exec())).kvs[0];
        return { id, key, revision: kv?.mod_revision ?? '0', overrides: kv === undefined ? {} : this.decodeOverridesOrNone(key, id, kv.value.toString()) };
      }));
      const next = patchMetadataOverrides(new Map(current.map((c) => [c.id, c.overrides])), changes);
      // Every machine's key must be unchanged since it was read (a missing key has mod revision 0).
      const [first, ...rest] = current;
      if (first === undefined) return;
      let txn = this.client.if(first.key, 'Mod', '==', first.revision);
      for (const c of rest) txn = txn.and(c.key, 'Mod', '==', c.revision);
      const ops = current.map((c) => {
        const o = next.get(c.id) ?? {};
        return Object.keys(o).length === 0 ? this.client.delete().key(c.key) : this.client.put(c.key).value(codec.encodeMetadataOverrides(o));
      });
      const result = await etcdCall('patch machine metadata', () => txn.then(...ops).commit());
      if (result.succeeded) return void this.wroteTxn(result);
    }
  }

  /** A corrupt overrides record is replaced by the patch rather than blocking every patch of the machine. */
  private decodeOverridesOrNone(key: string, id: MachineId, raw: string): MetadataOverrides {
    try {
      return codec.decodeMetadataOverrides(key, id, raw).overrides;
    } catch (err) {
      this.log.warn('replacing corrupt machine metadata', { key, err });
      return {};
    }
  }

  async metadataOverrides(): Promise<ReadonlyMap<MachineId, MetadataOverrides>> {
    const res = await etcdCall('read machine metadata', () => this.client.getAll().prefix(this.keys.machineMetadata).exec());
    const out = new Map<MachineId, MetadataOverrides>();
    for (const kv of res.kvs) {
      const key = kv.key.toString();
      try {
        const o = codec.decodeMetadataOverrides(key, this.keys.machineMetadataIdOf(key) ?? '', kv.value.toString());
        out.set(o.machineId, o.overrides);
      } catch (err) {
        this.log.warn('skipping corrupt machine metadata', { key, err });
      }
    }
    return out;
  }

  async applyScheduleChanges(changes: readonly ScheduleChange[], fence: LeaderFence): Promise<WriteOutcome> {
    const batched = changes.filter((c): c is Exclude<ScheduleChange, { kind: 'delete-unit-file' }> => c.kind !== 'delete-unit-file');
    for (const chunk of chunksOf(batched, maxOpsPerTxn)) {
      const ops = chunk.map((c) => {
        switch (c.kind) {
          case 'schedule':
            return this.client.put(this.keys.schedule(c.entry.machineId, c.entry.name)).value(codec.encodeSchedule(c.entry));
          case 'unschedule':
            return this.client.delete().key(this.keys.schedule(c.machineId, c.name));
          case 'set-reason':
            return this.client.put(this.keys.reason(c.name)).value(c.reason);
          case 'clear-reason':
            return this.client.delete().key(this.keys.reason(c.name));
        }
      });
      const absent = [...new Set(chunk.flatMap((c) => (c.kind === 'unschedule' && c.ifMachineAbsent === true ? [c.machineId] : [])))];
      const result = await etcdCall('schedule', () => {
        let txn = this.client.if(fence.key, 'Create', '==', fence.createRevision);
        for (const machine of absent) txn = txn.and(this.keys.machine(machine), 'Version', '==', 0);
        return txn.then(...ops).commit();
      });
      if (!result.succeeded) {
        if (absent.length === 0 || !(await etcdCall('check leader', () => this.client.get(fence.key).exists()))) return { ok: false, reason: 'not-leader' };
        return { ok: false, reason: 'stale' };
      }
      this.wroteTxn(result);
    }
    // Garbage collection is rare: one transaction per file, so a file re-written since the snapshot
    // (a new unit with the same content) fails only its own compare.
    for (const c of changes) {
      if (c.kind !== 'delete-unit-file') continue;
      const key = this.keys.unitFile(c.hash);
      const result = await etcdCall('delete unit file', () =>
        this.client.if(fence.key, 'Create', '==', fence.createRevision).and(key, 'Mod', '<', (BigInt(c.unchangedSince) + 1n).toString()).then(this.client.delete().key(key)).commit(),
      );
      if (result.succeeded) this.wroteTxn(result);
      else if (!(await etcdCall('check leader', () => this.client.get(fence.key).exists()))) return { ok: false, reason: 'not-leader' };
    }
    return { ok: true };
  }

  async machineSchedule(machine: MachineId): Promise<MachineSchedule> {
    const prefix = this.keys.machineSchedule(machine);
    const res = await etcdCall('read schedule', () => this.client.getAll().prefix(prefix).exec());
    const entries: ScheduledUnit[] = [];
    const corrupt: UnitName[] = [];
    for (const kv of res.kvs) {
      const key = kv.key.toString();
      const at = this.keys.scheduleOf(key);
      try {
        entries.push(codec.decodeSchedule(key, at?.machine ?? '', at?.unit ?? '', kv.value.toString()));
      } catch (err) {
        if (!this.corruptLogged.has(key)) this.log.warn('corrupt schedule entry: leaving its unit as it is', { key, err });
        this.corruptLogged.add(key);
        if (at !== undefined && unitNameProblem(at.unit) === undefined) corrupt.push(at.unit as UnitName);
      }
    }
    return { entries, corrupt };
  }

  changes(scope: ChangeScope, signal: AbortSignal): AsyncIterable<void> {
    // The engine cares about intent (units) and presence (machines and their metadata); its own
    // schedule writes and the agents' state reports must not wake it.
    const prefixes = scope.kind === 'cluster' ? [this.keys.units, this.keys.machines, this.keys.machineMetadata] : [this.keys.machineSchedule(scope.machine)];
    return mergeWakeups(prefixes.map((p) => watchPrefix(this.client, p, signal, this.log)), signal);
  }

  /**
   * The revision of the last write that changed something made through this connection under this
   * prefix (this registry's, or a presence's): a read through the cluster cache waits until the
   * cache has reached it (read-your-own-writes). `'0'` before any.
   */
  get lastWriteRevision(): string {
    return lastWriteRevision(this.client, this.keys.prefix).toString();
  }

  private wrote<T>(revision: string, value: T): T {
    noteWrite(this.client, this.keys.prefix, revision);
    return value;
  }

  /**
   * Notes a transaction's revision only if it changed a key: one whose deletes all missed creates
   * no revision, and its header's (the store's latest) may belong to keys the cache never sees.
   */
  private wroteTxn(result: { header: { revision: string }; responses: readonly { response_put?: unknown; response_delete_range?: { deleted: string } }[] }): void {
    if (result.responses.some((r) => (r.response_put ?? null) !== null || Number(r.response_delete_range?.deleted ?? 0) > 0)) this.wrote(result.header.revision, undefined);
  }
}
