import { hashUnitFile, parseUnitFile } from '../model/unit-file.js';
import { noRequirements, type Requirements } from '../model/requirements.js';
import { parseUnitName, type UnitName } from '../model/unit-name.js';
import { type MachineId, type MachineState } from '../model/machine.js';
import { type ScheduledUnit, type TargetState } from '../model/unit.js';
import type { UnitRecord } from '../registry/codec.js';
import type { ClusterSnapshot } from '../registry/registry.js';

/** A machine ID made from a short readable label: `machineId('a')` → `aaaa…` (32 chars). */
export function machineId(label: string): MachineId {
  const hex = Buffer.from(label).toString('hex');
  return hex.repeat(Math.ceil(32 / hex.length)).slice(0, 32) as MachineId;
}

export function aMachine(label: string, metadata: Record<string, string> = {}): MachineState {
  return { id: machineId(label), publicIp: '127.0.0.1', metadata, version: 'test' };
}

/** A unit record whose hash is that of a tiny file derived from its name and `content`. */
export function aUnit(name: string, desiredState: TargetState = 'launched', content = 'ExecStart=/bin/true'): UnitRecord {
  const file = parseUnitFile(`[Service]\n${content}\n`);
  return { name: parseUnitName(name), hash: hashUnitFile(file), desiredState };
}

export function scheduled(unit: UnitRecord, machine: MachineState, targetState: 'loaded' | 'launched' = 'launched'): ScheduledUnit {
  return { name: unit.name, machineId: machine.id, targetState, hash: unit.hash };
}

/** A snapshot from parts; everything not given is empty. */
export function aSnapshot(parts: {
  units?: UnitRecord[];
  machines?: MachineState[];
  schedule?: ScheduledUnit[];
  unitFileHashes?: string[];
  reasons?: Map<UnitName, string>;
  revision?: string;
  corruptUnits?: UnitName[];
  corrupt?: string[];
}): ClusterSnapshot {
  return {
    revision: parts.revision ?? '10',
    units: new Map((parts.units ?? []).map((u) => [u.name, u])),
    machines: new Map((parts.machines ?? []).map((m) => [m.id, m])),
    schedule: parts.schedule ?? [],
    states: [],
    reasons: parts.reasons ?? new Map(),
    unitFileHashes: parts.unitFileHashes ?? (parts.units ?? []).map((u) => u.hash),
    corrupt: parts.corrupt ?? [],
    corruptUnits: new Set(parts.corruptUnits ?? []),
  };
}

/** Requirements from a partial description (metadata as a plain object of key → allowed values). */
export function aRequirements(partial: Partial<Omit<Requirements, 'metadata'>> & { metadata?: Record<string, string[]> } = {}): Requirements {
  const { metadata, ...rest } = partial;
  return { ...noRequirements, ...rest, metadata: new Map(Object.entries(metadata ?? {})) };
}
