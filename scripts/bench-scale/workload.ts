/**
 * The simulated cluster of `npm run bench:scale`: machines with rack and zone metadata, and a mix
 * of units like a real cluster's, as `POST /fleet/v1/units` bodies (deterministic, seeded).
 *
 * Machines: rack r1..r20 (round robin, fewer racks on small clusters), zone z1..z3. Units: ~55%
 * plain (`app-N`, each its own file); ~20% template instances `web@N` (one file, SpreadBy=rack);
 * ~10% MachineMetadata (half two zones of three, half disk=ssd); ~5% `db@N` with Conflicts=db@* (at most
 * half the machines); ~8% `cache-N` with Conflicts=cache-<N±1> (neighbours apart); at most 5
 * Global units. Every unit starts `launched`.
 */
import type { WireUnit, WireUnitOption } from '@fleet/core/wire';
import { aMachine } from '@fleet/core/testing';
import type { MachineState } from '@fleet/core/model';
import { seededRandom } from '../seeded-random.js';

export interface Workload {
  readonly machines: readonly MachineState[];
  readonly units: readonly WireUnit[];
  /** Names of the Global units (they run on every machine, and do not move). */
  readonly globals: ReadonlySet<string>;
  readonly mix: Readonly<Record<string, number>>;
}

const pad = (i: number): string => String(i).padStart(6, '0');

function unit(name: string, service: string, fleet: ReadonlyArray<readonly [string, string]>): WireUnit {
  const options: WireUnitOption[] = [
    { section: 'Unit', name: 'Description', value: `bench-scale ${name}` },
    { section: 'Service', name: 'ExecStart', value: service },
    ...fleet.map(([n, value]) => ({ section: 'X-Fleet', name: n, value })),
  ];
  return { name, options, desiredState: 'launched' };
}

export function workload(machineCount: number, unitCount: number, seed = 20261203): Workload {
  const rand = seededRandom(seed ^ (machineCount * 7919) ^ unitCount);
  const racks = Math.max(1, Math.min(20, Math.floor(machineCount / 2)));
  const machines = Array.from({ length: machineCount }, (_, i) => aMachine(`scale-m${pad(i)}`, {
    rack: `r${(i % racks) + 1}`, zone: `z${(i % 3) + 1}`, disk: i % 2 === 0 ? 'ssd' : 'hdd',
  }));
  const globals = Math.min(5, Math.floor(unitCount / 100));
  const dbs = Math.min(Math.round(unitCount * 0.05), Math.floor(machineCount / 2));
  const webs = Math.round(unitCount * 0.2);
  const metas = Math.round(unitCount * 0.1);
  const caches = Math.round(unitCount * 0.08);
  const plains = unitCount - globals - dbs - webs - metas - caches;
  const units: WireUnit[] = [];
  for (let i = 0; i < plains; i++) units.push(unit(`app-${pad(i)}.service`, `/bin/sleep ${100_000 + i}`, []));
  // Instances of one template share its file: one hash for all of them.
  for (let i = 0; i < webs; i++) units.push(unit(`web@${i}.service`, '/bin/sleep infinity', [['SpreadBy', 'rack']]));
  for (let i = 0; i < metas; i++) {
    // Two zones of three (either will do), or the SSD machines.
    const zone = Math.floor(rand() * 3);
    const rules: [string, string][] = i % 2 === 0 ? [['MachineMetadata', `zone=z${zone + 1}`], ['MachineMetadata', `zone=z${((zone + 1) % 3) + 1}`]] : [['MachineMetadata', 'disk=ssd']];
    units.push(unit(`meta-${pad(i)}.service`, `/bin/sleep ${200_000 + i}`, rules));
  }
  for (let i = 0; i < dbs; i++) units.push(unit(`db@${i}.service`, '/bin/sleep infinity', [['Conflicts', 'db@*']]));
  for (let i = 0; i < caches; i++) {
    units.push(unit(`cache-${pad(i)}.service`, `/bin/sleep ${300_000 + i}`, [['Conflicts', `cache-${pad(i + 1)}.service`]]));
  }
  for (let i = 0; i < globals; i++) units.push(unit(`global-${i}.service`, `/bin/sleep ${400_000 + i}`, [['Global', 'true']]));
  return {
    machines, units,
    globals: new Set(units.filter((u) => u.name.startsWith('global-')).map((u) => u.name)),
    mix: { plain: plains, 'web@ SpreadBy=rack': webs, MachineMetadata: metas, 'db@ Conflicts=db@*': dbs, 'cache Conflicts': caches, Global: globals },
  };
}

/** Splits `items` into `parts` nearly equal consecutive slices (none empty unless items are fewer). */
export function split<T>(items: readonly T[], parts: number): T[][] {
  const n = Math.max(1, Math.min(parts, items.length));
  return Array.from({ length: n }, (_, k) => items.slice(Math.floor((k * items.length) / n), Math.floor(((k + 1) * items.length) / n)));
}
