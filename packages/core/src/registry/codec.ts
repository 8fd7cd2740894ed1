import { CorruptRecordError } from '../errors.js';
import { isMachineId, metadataKeyPattern, type MachineId, type MachineState, type MetadataOverrides } from '../model/machine.js';
import { isTargetState, type ScheduledUnit, type Unit, type UnitState } from '../model/unit.js';
import { unitFileProblem, type UnitFile } from '../model/unit-file.js';
import { unitNameProblem, type UnitName } from '../model/unit-name.js';
import type { StoredMetadataOverrides, StoredScheduleEntry, StoredUnit } from './keys.js';

/** Unit record without its file (files are stored once per hash). */
export type UnitRecord = Omit<Unit, 'file'>;

/**
 * Encoding and validation of every value stored in etcd. Stored values are untrusted input (another
 * version, an operator with etcdctl): decoders throw {@link CorruptRecordError} naming the key.
 */
export const codec = {
  encodeUnit(unit: UnitRecord): string {
    const stored: StoredUnit = { name: unit.name, hash: unit.hash, desiredState: unit.desiredState };
    return JSON.stringify(stored);
  },
  decodeUnit(key: string, name: string, raw: string): UnitRecord {
    const v = parseObject(key, raw);
    if (v['name'] !== name) throw new CorruptRecordError(key, 'name does not match the key');
    if (unitNameProblem(name) !== undefined) throw new CorruptRecordError(key, 'invalid unit name');
    if (!isHash(v['hash'])) throw new CorruptRecordError(key, 'hash must be 40 hex digits');
    if (!isTargetState(v['desiredState'])) throw new CorruptRecordError(key, 'invalid desiredState');
    return { name: name as UnitName, hash: v['hash'], desiredState: v['desiredState'] };
  },

  encodeUnitFile(file: UnitFile): string {
    return JSON.stringify(file.map(({ section, name, value }) => ({ section, name, value })));
  },
  decodeUnitFile(key: string, raw: string): UnitFile {
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      throw new CorruptRecordError(key, 'not JSON');
    }
    const problem = unitFileProblem(v);
    if (problem !== undefined) throw new CorruptRecordError(key, problem);
    return v as UnitFile;
  },

  encodeSchedule(entry: Pick<ScheduledUnit, 'targetState' | 'hash'>): string {
    const stored: StoredScheduleEntry = { targetState: entry.targetState, hash: entry.hash };
    return JSON.stringify(stored);
  },
  decodeSchedule(key: string, machine: string, name: string, raw: string): ScheduledUnit {
    const v = parseObject(key, raw);
    if (!isMachineId(machine)) throw new CorruptRecordError(key, 'invalid machine ID in key');
    if (unitNameProblem(name) !== undefined) throw new CorruptRecordError(key, 'invalid unit name in key');
    const target = v['targetState'];
    if (target !== 'loaded' && target !== 'launched') throw new CorruptRecordError(key, 'targetState must be loaded or launched');
    if (!isHash(v['hash'])) throw new CorruptRecordError(key, 'hash must be 40 hex digits');
    return { name: name as UnitName, machineId: machine, targetState: target, hash: v['hash'] };
  },

  encodeMachine(machine: MachineState): string {
    return JSON.stringify({ id: machine.id, publicIp: machine.publicIp, metadata: machine.metadata, version: machine.version, apiUrl: machine.apiUrl });
  },
  decodeMachine(key: string, id: string, raw: string): MachineState {
    const v = parseObject(key, raw);
    if (!isMachineId(id) || v['id'] !== id) throw new CorruptRecordError(key, 'id does not match the key');
    if (typeof v['publicIp'] !== 'string') throw new CorruptRecordError(key, 'publicIp must be a string');
    if (typeof v['version'] !== 'string') throw new CorruptRecordError(key, 'version must be a string');
    const metadata = v['metadata'];
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new CorruptRecordError(key, 'metadata must be an object');
    for (const value of Object.values(metadata)) if (typeof value !== 'string') throw new CorruptRecordError(key, 'metadata values must be strings');
    const apiUrl = v['apiUrl'];
    if (apiUrl !== undefined && (typeof apiUrl !== 'string' || !/^https?:\/\/[^/]+$/.test(apiUrl))) throw new CorruptRecordError(key, 'apiUrl must be an http(s) base URL');
    const machine: MachineState = { id: id as MachineId, publicIp: v['publicIp'], metadata: metadata as Record<string, string>, version: v['version'] };
    return apiUrl === undefined ? machine : { ...machine, apiUrl };
  },

  encodeMetadataOverrides(overrides: MetadataOverrides): string {
    const stored: StoredMetadataOverrides = overrides;
    return JSON.stringify(stored);
  },
  decodeMetadataOverrides(key: string, id: string, raw: string): { machineId: MachineId; overrides: MetadataOverrides } {
    const v = parseObject(key, raw);
    if (!isMachineId(id)) throw new CorruptRecordError(key, 'invalid machine ID in key');
    for (const [k, value] of Object.entries(v)) {
      if (!metadataKeyPattern.test(k)) throw new CorruptRecordError(key, `invalid metadata key ${JSON.stringify(k)}`);
      if (value !== null && typeof value !== 'string') throw new CorruptRecordError(key, 'metadata values must be strings or null');
    }
    return { machineId: id, overrides: v as MetadataOverrides };
  },

  /** Reasons are plain text; only the unit name in the key is validated. */
  decodeReasonKey(key: string, name: string): UnitName {
    if (unitNameProblem(name) !== undefined) throw new CorruptRecordError(key, 'invalid unit name in key');
    return name as UnitName;
  },

  encodeState(state: UnitState): string {
    return JSON.stringify({ hash: state.hash, loadState: state.loadState, activeState: state.activeState, subState: state.subState, agentState: state.agentState, failure: state.failure });
  },
  decodeState(key: string, machine: string, name: string, raw: string): UnitState {
    const v = parseObject(key, raw);
    if (!isMachineId(machine)) throw new CorruptRecordError(key, 'invalid machine ID in key');
    if (unitNameProblem(name) !== undefined) throw new CorruptRecordError(key, 'invalid unit name in key');
    for (const f of ['hash', 'loadState', 'activeState', 'subState'] as const) {
      if (typeof v[f] !== 'string') throw new CorruptRecordError(key, `${f} must be a string`);
    }
    const agentState = v['agentState'];
    if (agentState !== undefined && agentState !== 'loaded' && agentState !== 'launched') throw new CorruptRecordError(key, 'agentState must be loaded or launched');
    const state: UnitState = {
      name: name as UnitName, machineId: machine, hash: v['hash'] as string,
      loadState: v['loadState'] as string, activeState: v['activeState'] as string, subState: v['subState'] as string,
    };
    const failure = v['failure'];
    if (failure !== undefined && typeof failure !== 'string') throw new CorruptRecordError(key, 'failure must be a string');
    return { ...state, ...(agentState === undefined ? {} : { agentState }), ...(failure === undefined ? {} : { failure }) };
  },
};

function parseObject(key: string, raw: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new CorruptRecordError(key, 'not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CorruptRecordError(key, 'not a JSON object');
  return v as Record<string, unknown>;
}

function isHash(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9a-f]{40}$/.test(v);
}
