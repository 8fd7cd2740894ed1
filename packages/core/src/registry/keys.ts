import type { MachineId } from '../model/machine.js';
import type { UnitName } from '../model/unit-name.js';

/**
 * The whole etcd key schema, in one place. Every key lives under the configured prefix
 * (fleet's `etcd_key_prefix`, default `/_coreos.com/fleet/`).
 *
 * | key                                  | value                          | lifetime                  |
 * |--------------------------------------|--------------------------------|---------------------------|
 * | `units/<unit>`                       | {@link StoredUnit} JSON        | until destroyed           |
 * | `unit-files/<sha1>`                  | unit options JSON              | immutable; GC'd by engine |
 * | `schedule/<machine>/<unit>`          | {@link StoredScheduleEntry}    | leader writes, fenced     |
 * | `machines/<machine>`                 | machine presence JSON          | bound to the agent lease  |
 * | `machine-metadata/<machine>`         | {@link StoredMetadataOverrides}| until changed by the API  |
 * | `states/<machine>/<unit>`            | unit state JSON                | bound to the agent lease  |
 * | `reasons/<unit>`                     | why the unit cannot be placed, or which of its rules are ignored (circular Replaces=) | leader writes, fenced |
 * | `engine/leader/<lease id>`           | candidate machine ID           | bound to the leader lease |
 *
 * The schedule is keyed by machine first so an agent watches only `schedule/<its id>/`: a change to one
 * machine's work wakes one agent, not the cluster (fleet's worst scaling flaw). The schedule entry
 * carries the target state and the file hash, so the agent needs nothing else to act.
 *
 * `machine-metadata/<machine>` holds what `PATCH /fleet/v1/machines` set: `{key: value}` overrides
 * and `{key: null}` removals of the metadata fleetd was configured with. It has no lease, so it
 * outlives the machine's presence: a machine that leaves and rejoins (or restarts with the same
 * configuration) keeps its patched metadata. The effective metadata (configured, then overrides) is
 * computed when the snapshot is read, so the API, the engine and every other reader agree on it.
 * Overrides may name a machine that is not present; they apply when it joins.
 */
export class KeySchema {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix.endsWith('/') ? prefix : `${prefix}/`;
  }

  get units(): string { return `${this.prefix}units/`; }
  unit(name: UnitName): string { return `${this.units}${name}`; }

  get unitFiles(): string { return `${this.prefix}unit-files/`; }
  unitFile(hash: string): string { return `${this.unitFiles}${hash}`; }

  get schedules(): string { return `${this.prefix}schedule/`; }
  machineSchedule(machine: MachineId): string { return `${this.schedules}${machine}/`; }
  schedule(machine: MachineId, name: UnitName): string { return `${this.machineSchedule(machine)}${name}`; }

  get machines(): string { return `${this.prefix}machines/`; }
  machine(id: MachineId): string { return `${this.machines}${id}`; }

  get machineMetadata(): string { return `${this.prefix}machine-metadata/`; }
  machineMetadataOf(id: MachineId): string { return `${this.machineMetadata}${id}`; }

  get states(): string { return `${this.prefix}states/`; }
  machineStates(machine: MachineId): string { return `${this.states}${machine}/`; }
  state(machine: MachineId, name: UnitName): string { return `${this.machineStates(machine)}${name}`; }

  get reasons(): string { return `${this.prefix}reasons/`; }
  reason(name: UnitName): string { return `${this.reasons}${name}`; }

  get leaderCandidates(): string { return `${this.prefix}engine/leader/`; }
  leaderCandidate(leaseId: string): string { return `${this.leaderCandidates}${leaseId}`; }

  /**
   * `<hash>` of a `unit-files/<hash>` key; undefined for any other key. Segments are not checked
   * here: the codec checks them, so that a bad one is reported as a corrupt record.
   */
  unitFileHashOf(key: string): string | undefined {
    return this.#single('unit-files', key);
  }

  /** `<machine>` of a `machine-metadata/<machine>` key; undefined for any other key. */
  machineMetadataIdOf(key: string): string | undefined {
    return this.#single('machine-metadata', key);
  }

  /** `<machine>` and `<unit>` of a `schedule/<machine>/<unit>` key; undefined for any other key. */
  scheduleOf(key: string): { readonly machine: string; readonly unit: string } | undefined {
    const c = this.classify(key);
    return c?.kind === 'schedule' ? { machine: c.parts[0] ?? '', unit: c.parts[1] ?? '' } : undefined;
  }

  #single(kind: ClassifiedKey['kind'], key: string): string | undefined {
    const c = this.classify(key);
    return c?.kind === kind ? c.parts[0] : undefined;
  }

  /** Classifies a full key into its record kind and the segments after the kind's prefix. */
  classify(key: string): ClassifiedKey | undefined {
    if (!key.startsWith(this.prefix)) return undefined;
    const rest = key.slice(this.prefix.length);
    const slash = rest.indexOf('/');
    if (slash === -1) return undefined;
    const kind = rest.slice(0, slash);
    const parts = rest.slice(slash + 1).split('/');
    switch (kind) {
      case 'units':
      case 'unit-files':
      case 'machines':
      case 'machine-metadata':
      case 'reasons':
        return parts.length === 1 ? { kind, parts } : undefined;
      case 'schedule':
      case 'states':
        return parts.length === 2 ? { kind, parts } : undefined;
      default:
        return undefined;
    }
  }
}

export interface ClassifiedKey {
  readonly kind: 'units' | 'unit-files' | 'machines' | 'machine-metadata' | 'schedule' | 'states' | 'reasons';
  readonly parts: readonly string[];
}

/** Stored under `units/<unit>`. */
export interface StoredUnit {
  readonly name: string;
  readonly hash: string;
  readonly desiredState: string;
}

/** Stored under `schedule/<machine>/<unit>`. */
export interface StoredScheduleEntry {
  readonly targetState: string;
  readonly hash: string;
}

/** Stored under `machine-metadata/<machine>`: a value overrides the configured one, `null` removes the key. */
export type StoredMetadataOverrides = Readonly<Record<string, string | null>>;
