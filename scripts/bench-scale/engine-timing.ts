/**
 * What the bench reads of the engine leader, without changing it: a cluster cache and a registry
 * that time the engine's calls (a pass reads the view, plans, then writes; unit files fetched
 * meanwhile are I/O, not planning), and a steady-state pass timed in the planner itself.
 */
import { planEngineTasks } from '@fleet/engine';
import { parseRequirements, type Requirements, type UnitName } from '@fleet/core/model';
import type { ClusterView, LeaderFence, ScheduleChange, WriteOutcome } from '@fleet/core/registry';
import { EtcdClusterCache, EtcdRegistry } from '@fleet/etcd';
import type { EnginePass, EngineReport } from './protocol.js';

interface OpenPass {
  readonly viewStart: number;
  readonly viewEnd: number;
  filesMs: number;
}

/** The engine's cluster cache, noting when each view was read and how long unit files took. */
export class TimedClusterCache extends EtcdClusterCache {
  open: OpenPass | undefined;

  override async view(): Promise<ClusterView> {
    const viewStart = performance.now();
    const view = await super.view();
    this.open = { viewStart, viewEnd: performance.now(), filesMs: 0 };
    return view;
  }

  override async unitFiles(hashes: readonly string[]): ReturnType<EtcdClusterCache['unitFiles']> {
    const started = performance.now();
    try {
      return await super.unitFiles(hashes);
    } finally {
      if (this.open !== undefined) this.open.filesMs += performance.now() - started;
    }
  }
}

/** The engine's schedule writer, recording each pass that wrote (see {@link EnginePass}). */
export class TimedRegistry extends EtcdRegistry {
  readonly passes: EnginePass[] = [];
  cache: TimedClusterCache | undefined;

  override async applyScheduleChanges(changes: readonly ScheduleChange[], fence: LeaderFence): Promise<WriteOutcome> {
    const planned = performance.now();
    const open = this.cache?.open;
    const outcome = await super.applyScheduleChanges(changes, fence);
    if (open !== undefined) {
      this.passes.push({
        at: Date.now(), viewMs: open.viewEnd - open.viewStart, planMs: planned - open.viewEnd - open.filesMs, filesMs: open.filesMs,
        writeMs: performance.now() - planned, tasks: changes.length,
      });
    }
    return outcome;
  }
}

/**
 * A pass with nothing to change, as the engine's runs it: the planning input copied from the live
 * view, then the planner over it with every unit's requirements (which the engine keeps cached);
 * the least of three runs. Only meaningful once everything is placed.
 */
export async function steadyPass(cache: EtcdClusterCache): Promise<EngineReport['steady']> {
  const view = await cache.view();
  let inputMs = Infinity;
  let input = view.planningInput();
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    input = view.planningInput();
    inputMs = Math.min(inputMs, performance.now() - started);
  }
  const files = await cache.unitFiles([...new Set([...input.units.values()].map((u) => u.hash))]);
  const requirements = new Map<UnitName, Requirements>();
  for (const u of input.units.values()) {
    const file = files.get(u.hash);
    if (file !== undefined) requirements.set(u.name, parseRequirements(u.name, file));
  }
  let planMs = Infinity;
  let tasks = 0;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    tasks = planEngineTasks(input, requirements).tasks.length;
    planMs = Math.min(planMs, performance.now() - started);
  }
  return { units: input.units.size, machines: input.machines.size, inputMs, planMs, tasks };
}
