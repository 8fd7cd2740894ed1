/**
 * What the bench watches, read from the API's own cluster cache (what `GET /fleet/v1/state` and
 * `/units` answer from): units placed, units running, and etcd's own counters.
 */
import type { ClusterView } from '@fleet/core/registry';
import type { MachineId, UnitName, UnitState } from '@fleet/core/model';
import { readEtcdCounters } from '../etcd-metrics.js';

export interface Progress {
  /** Units with at least one schedule entry. */
  readonly placed: number;
  /** Units without one that the engine gave a reason for (no machine fits). */
  readonly unplaceable: number;
  /** Expected (unit, machine) pairs reported active/running: one per unit, one per machine for a Global unit. */
  readonly running: number;
  readonly expectedRunning: number;
}

const isRunning = (s: UnitState | undefined): boolean => s?.activeState === 'active' && s.subState === 'running';

/** Progress over `names`; Global units count once per present machine. */
export function progress(view: ClusterView, names: readonly UnitName[], globals: ReadonlySet<string>): Progress {
  const machines = view.machines();
  let placed = 0;
  let unplaceable = 0;
  let running = 0;
  let globalsPlaced = 0;
  for (const name of names) {
    const entries = view.placements(name);
    if (entries.length > 0) placed++;
    else if (view.reason(name) !== undefined) unplaceable++;
    if (globals.has(name)) {
      if (entries.length > 0) globalsPlaced++;
      for (const m of machines) if (isRunning(view.state(m.id, name))) running++;
    } else if (entries.some((e) => isRunning(view.state(e.machineId, name)))) running++;
  }
  return { placed, unplaceable, running, expectedRunning: placed - globalsPlaced + globals.size * machines.length };
}

/** How many reported states the view holds (cheap: no page is built). */
export function stateCount(view: ClusterView): number {
  return view.states({}, 0, 0).total;
}

/** Of `names`, those placed on (and running on) a machine not in `gone`, and those the engine cannot place. */
export function runningElsewhere(view: ClusterView, names: readonly UnitName[], gone: ReadonlySet<MachineId>): { placed: number; unplaceable: number; running: number } {
  let placed = 0;
  let unplaceable = 0;
  let running = 0;
  for (const name of names) {
    const all = view.placements(name);
    const entries = all.filter((e) => !gone.has(e.machineId));
    if (entries.length > 0) placed++;
    else if (all.length === 0 && view.reason(name) !== undefined) unplaceable++;
    if (entries.some((e) => isRunning(view.state(e.machineId, name)))) running++;
  }
  return { placed, unplaceable, running };
}

/** etcd's RPC and byte counters (see `scripts/etcd-metrics.ts`). */
export async function etcdCounters(clientUrl: string): Promise<{ rpcs: number; bytesIn: number; bytesOut: number }> {
  const { rpcs, bytesIn, bytesOut } = await readEtcdCounters(clientUrl);
  return { rpcs, bytesIn, bytesOut };
}
