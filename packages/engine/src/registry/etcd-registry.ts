import type { Etcd3, IKeyValue } from 'etcd3';
import { RegistryUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import { hashUnitFile, type MachineId, type MachineState, type ScheduledUnit, type TargetState, type Unit, type UnitFile, type UnitName, type UnitState } from '../model/index.js';
import { codec, type UnitRecord } from './codec.js';
import { KeySchema } from './keys.js';
import type {
  ChangeFeed, ChangeScope, ClusterReader, ClusterSnapshot, CreateUnitOutcome, LeaderFence, MachineScheduleReader,
  ScheduleChange, ScheduleWriter, UnitStore, WriteOutcome,
} from './registry.js';

/** etcd caps operations per transaction at 128 by default; stay under it. */
const maxOpsPerTxn = 100;

/** The registry on a real etcd (v3 API through `etcd3`). The only file that knows etcd3's builders. */
export class EtcdRegistry implements UnitStore, ClusterReader, ScheduleWriter, MachineScheduleReader, ChangeFeed {
  readonly keys: KeySchema;
  /** Files are immutable per hash: cache them. */
  private readonly fileCache = new Map<string, UnitFile>();

  constructor(private readonly client: Etcd3, prefix: string, private readonly log: Logger) {
    this.keys = new KeySchema(prefix);
  }

  async createUnit(unit: Unit): Promise<CreateUnitOutcome> {
    const key = this.keys.unit(unit.name);
    const record: UnitRecord = { name: unit.name, hash: hashUnitFile(unit.file), desiredState: unit.desiredState };
    const result = await this.call('create unit', () =>
      this.client
        .if(key, 'Create', '==', 0)
        .then(this.client.put(this.keys.unitFile(record.hash)).value(codec.encodeUnitFile(unit.file)), this.client.put(key).value(codec.encodeUnit(record)))
        .else(this.client.get(key))
        .commit(),
    );
    if (result.succeeded) return { kind: 'created' };
    const kv = result.responses[0]?.response_range?.kvs[0];
    if (kv === undefined) return this.createUnit(unit); // deleted between compare and read: try again
    return { kind: 'exists', existing: codec.decodeUnit(key, unit.name, kv.value.toString()) };
  }

  async setDesiredState(name: UnitName, state: TargetState): Promise<boolean> {
    const key = this.keys.unit(name);
    for (;;) {
      const current = await this.call('read unit', () => this.client.get(key).exec());
      const kv = current.kvs[0];
      if (kv === undefined) return false;
      const record = codec.decodeUnit(key, name, kv.value.toString());
      if (record.desiredState === state) return true;
      const result = await this.call('set desired state', () =>
        this.client.if(key, 'Mod', '==', kv.mod_revision).then(this.client.put(key).value(codec.encodeUnit({ ...record, desiredState: state }))).commit(),
      );
      if (result.succeeded) return true;
    }
  }

  async destroyUnit(name: UnitName): Promise<boolean> {
    const result = await this.call('destroy unit', () => this.client.delete().key(this.keys.unit(name)).exec());
    return Number(result.deleted) > 0;
  }

  async getUnit(name: UnitName): Promise<Unit | undefined> {
    const key = this.keys.unit(name);
    const kv = (await this.call('read unit', () => this.client.get(key).exec())).kvs[0];
    if (kv === undefined) return undefined;
    const record = codec.decodeUnit(key, name, kv.value.toString());
    const file = await this.getUnitFile(record.hash);
    return file === undefined ? undefined : { ...record, file };
  }

  async getUnitFile(hash: string): Promise<UnitFile | undefined> {
    const cached = this.fileCache.get(hash);
    if (cached !== undefined) return cached;
    const key = this.keys.unitFile(hash);
    const kv = (await this.call('read unit file', () => this.client.get(key).exec())).kvs[0];
    if (kv === undefined) return undefined;
    const file = codec.decodeUnitFile(key, kv.value.toString());
    if (hashUnitFile(file) !== hash) {
      this.log.warn('unit file does not match its hash; ignoring it', { key });
      return undefined;
    }
    this.fileCache.set(hash, file);
    return file;
  }

  async unitFiles(hashes: readonly string[]): Promise<ReadonlyMap<string, UnitFile>> {
    const out = new Map<string, UnitFile>();
    const missing: string[] = [];
    for (const hash of new Set(hashes)) {
      const cached = this.fileCache.get(hash);
      if (cached === undefined) missing.push(hash);
      else out.set(hash, cached);
    }
    if (missing.length > 16) {
      // Cold cache (a new leader): one range read beats thousands of gets.
      const res = await this.call('read unit files', () => this.client.getAll().prefix(this.keys.unitFiles).exec());
      for (const kv of res.kvs) {
        const key = kv.key.toString();
        const hash = key.slice(this.keys.unitFiles.length);
        try {
          const file = codec.decodeUnitFile(key, kv.value.toString());
          if (hashUnitFile(file) === hash) this.fileCache.set(hash, file);
        } catch (err) {
          this.log.warn('skipping corrupt unit file', { key, err });
        }
      }
    } else {
      await Promise.all(missing.map((hash) => this.getUnitFile(hash)));
    }
    for (const hash of missing) {
      const file = this.fileCache.get(hash);
      if (file !== undefined) out.set(hash, file);
    }
    return out;
  }

  async snapshot(): Promise<ClusterSnapshot> {
    // The first range fixes the revision; the others read at that same revision.
    const unitsRes = await this.call('snapshot', () => this.client.getAll().prefix(this.keys.units).exec());
    const revision = unitsRes.header.revision;
    const kvsAt = (prefix: string): Promise<IKeyValue[]> =>
      this.call('snapshot', () => this.client.getAll().prefix(prefix).revision(revision).exec().then((r) => r.kvs));
    const [scheduleKvs, machineKvs, stateKvs, reasonKvs, fileKeys] = await Promise.all([
      kvsAt(this.keys.schedules),
      kvsAt(this.keys.machines),
      kvsAt(this.keys.states),
      kvsAt(this.keys.reasons),
      this.call('snapshot', () => this.client.getAll().prefix(this.keys.unitFiles).revision(revision).keys()),
    ]);
    const corrupt: string[] = [];
    const units = new Map<UnitName, UnitRecord>();
    const schedule: ScheduledUnit[] = [];
    const machines = new Map<MachineId, MachineState>();
    const states: UnitState[] = [];
    const reasons = new Map<UnitName, string>();
    for (const kv of [...unitsRes.kvs, ...scheduleKvs, ...machineKvs, ...stateKvs, ...reasonKvs]) {
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
        } else if (c?.kind === 'states') states.push(codec.decodeState(key, c.parts[0] ?? '', c.parts[1] ?? '', raw));
        else if (c?.kind === 'reasons') reasons.set(codec.decodeReasonKey(key, c.parts[0] ?? ''), raw);
        else corrupt.push(key);
      } catch {
        corrupt.push(key);
      }
    }
    const unitFileHashes = fileKeys.map((k) => k.slice(this.keys.unitFiles.length));
    return { revision, units, schedule, machines, states, reasons, unitFileHashes, corrupt };
  }

  async applyScheduleChanges(changes: readonly ScheduleChange[], fence: LeaderFence): Promise<WriteOutcome> {
    const batched = changes.filter((c): c is Exclude<ScheduleChange, { kind: 'delete-unit-file' }> => c.kind !== 'delete-unit-file');
    for (let i = 0; i < batched.length; i += maxOpsPerTxn) {
      const ops = batched.slice(i, i + maxOpsPerTxn).map((c) => {
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
      const result = await this.call('schedule', () => this.client.if(fence.key, 'Create', '==', fence.createRevision).then(...ops).commit());
      if (!result.succeeded) return { ok: false, reason: 'not-leader' };
    }
    // Garbage collection is rare: one transaction per file, so a file re-written since the snapshot
    // (a new unit with the same content) fails only its own compare.
    for (const c of changes) {
      if (c.kind !== 'delete-unit-file') continue;
      const key = this.keys.unitFile(c.hash);
      const result = await this.call('delete unit file', () =>
        this.client.if(fence.key, 'Create', '==', fence.createRevision).and(key, 'Mod', '<', (BigInt(c.unchangedSince) + 1n).toString()).then(this.client.delete().key(key)).commit(),
      );
      if (!result.succeeded && !(await this.call('check leader', () => this.client.get(fence.key).exists()))) return { ok: false, reason: 'not-leader' };
    }
    return { ok: true };
  }

  async machineSchedule(machine: MachineId): Promise<readonly ScheduledUnit[]> {
    const prefix = this.keys.machineSchedule(machine);
    const res = await this.call('read schedule', () => this.client.getAll().prefix(prefix).exec());
    const out: ScheduledUnit[] = [];
    for (const kv of res.kvs) {
      const key = kv.key.toString();
      try {
        out.push(codec.decodeSchedule(key, machine, key.slice(prefix.length), kv.value.toString()));
      } catch (err) {
        this.log.warn('skipping corrupt schedule entry', { key, err });
      }
    }
    return out;
  }

  changes(scope: ChangeScope, signal: AbortSignal): AsyncIterable<void> {
    // The engine cares about intent (units) and presence (machines); its own schedule writes and the
    // agents' state reports must not wake it.
    const prefixes = scope.kind === 'cluster' ? [this.keys.units, this.keys.machines] : [this.keys.machineSchedule(scope.machine)];
    return mergeWakeups(prefixes.map((p) => watchPrefix(this.client, p, signal, this.log)));
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new RegistryUnavailableError(operation, { cause: err });
    }
  }
}

/**
 * Turns an etcd watch into coalesced wake-ups. A wake-up is also emitted when the watch (re)connects,
 * since events may have been missed while disconnected; consumers re-read state (level-triggered).
 */
export async function* watchPrefix(client: Etcd3, prefix: string, signal: AbortSignal, log: Logger): AsyncIterable<void> {
  let pending = true; // the first wake-up is immediate: consumers read once before any change
  let notify: (() => void) | undefined;
  const wake = (): void => {
    pending = true;
    notify?.();
  };
  let watcher: Awaited<ReturnType<ReturnType<Etcd3['watch']>['create']>> | undefined;
  while (!signal.aborted && watcher === undefined) {
    try {
      watcher = await client.watch().prefix(prefix).create();
    } catch (err) {
      log.warn('cannot create watch; retrying', { prefix, err });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  if (watcher === undefined) return;
  watcher.on('data', wake);
  watcher.on('connected', wake);
  watcher.on('error', (err) => log.warn('watch error', { prefix, err }));
  const onAbort = (): void => notify?.();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    while (!signal.aborted) {
      if (!pending) await new Promise<void>((resolve) => (notify = resolve));
      notify = undefined;
      if (signal.aborted) break;
      pending = false;
      yield;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    await watcher.cancel().catch(() => undefined);
  }
}

/** Merges wake-up streams into one; ends when all of them end. */
export async function* mergeWakeups(sources: readonly AsyncIterable<void>[]): AsyncIterable<void> {
  if (sources.length === 1 && sources[0] !== undefined) {
    yield* sources[0];
    return;
  }
  let pending = false;
  let notify: (() => void) | undefined;
  let live = sources.length;
  const drains = sources.map(async (source) => {
    try {
      for await (const _ of source) {
        pending = true;
        notify?.();
      }
    } finally {
      live--;
      notify?.();
    }
  });
  try {
    while (live > 0 || pending) {
      if (!pending) await new Promise<void>((resolve) => (notify = resolve));
      notify = undefined;
      if (pending) {
        pending = false;
        yield;
      }
    }
  } finally {
    await Promise.allSettled(drains);
  }
}
