import { isRunningState, type TargetState, type UnitFile, type UnitName } from '@fleet/core/model';
import type { SystemdUnitState } from './unit-manager.js';

/** What this machine should have, per its schedule. */
export interface DesiredUnit {
  readonly targetState: Exclude<TargetState, 'inactive'>;
  readonly hash: string;
  readonly file: UnitFile;
}

/** What this machine has. */
export interface CurrentUnits {
  /** Units whose files are in the units directory, with their hashes. */
  readonly loaded: ReadonlyMap<UnitName, string>;
  /** systemd's states of the loaded units and of the desired ones. */
  readonly states: ReadonlyMap<UnitName, SystemdUnitState>;
  /** Units this agent started and has not stopped since (so a unit that exits is not restarted by fleet). */
  readonly started: ReadonlySet<UnitName>;
}

/** Why the agent does something. A closed list, logged with each task. */
export type AgentReason = 'unscheduled' | 'hash-changed' | 'scheduled' | 'target-launched' | 'target-loaded' | 'files-changed';

export type AgentTask =
  | { readonly kind: 'stop-unit'; readonly unit: UnitName; readonly reason: AgentReason }
  | { readonly kind: 'unload-unit'; readonly unit: UnitName; readonly reason: AgentReason }
  | { readonly kind: 'load-unit'; readonly unit: UnitName; readonly file: UnitFile; readonly reason: AgentReason }
  | { readonly kind: 'reload-unit-files'; readonly reason: AgentReason }
  | { readonly kind: 'start-unit'; readonly unit: UnitName; readonly reason: AgentReason };

const order: Record<AgentTask['kind'], number> = { 'stop-unit': 0, 'unload-unit': 1, 'load-unit': 2, 'reload-unit-files': 3, 'start-unit': 4 };

/** Whether systemd reports the unit running, or still on its way up or down (`isRunningState`). */
export function isActive(state: SystemdUnitState | undefined): boolean {
  return state !== undefined && isRunningState(state.activeState);
}

/**
 * Whether systemd holds the unit in memory in a way only a reload undoes: loaded (or failed to
 * load) from an older file, or kept after its file went because it failed (systemd keeps failed
 * units until they are reset, and refuses to start one whose file came back: "failed to load
 * properly", EBUSY). A unit systemd does not know (`not-found`, `inactive`) needs none: since
 * systemd 246 it loads a unit file that appeared in its search path on first use, and a reload,
 * which re-reads every unit and stalls systemd for a fifth of a second or more, was the largest
 * part of a pass that starts many new units.
 */
function holdsDefinition(state: SystemdUnitState | undefined): boolean {
  return state !== undefined && !(state.loadState === 'not-found' && state.activeState === 'inactive');
}

/**
 * The agent's pure planner. Order: stop, unload, load, reload, start; the reload when a file was
 * unloaded, or loaded for a unit systemd knows already (`current.states` must cover every desired
 * unit, loaded here or not). A changed hash is stop (if running), unload, load, start (if launched).
 */
export function planAgentTasks(desired: ReadonlyMap<UnitName, DesiredUnit>, current: CurrentUnits): AgentTask[] {
  const tasks: AgentTask[] = [];
  const names = [...new Set([...desired.keys(), ...current.loaded.keys()])].sort();
  for (const unit of names) {
    const want = desired.get(unit);
    const hash = current.loaded.get(unit);
    const running = isActive(current.states.get(unit)) || current.started.has(unit);
    if (want === undefined) {
      if (running) tasks.push({ kind: 'stop-unit', unit, reason: 'unscheduled' });
      tasks.push({ kind: 'unload-unit', unit, reason: 'unscheduled' });
      continue;
    }
    if (hash !== undefined && hash !== want.hash) {
      if (running) tasks.push({ kind: 'stop-unit', unit, reason: 'hash-changed' });
      tasks.push({ kind: 'unload-unit', unit, reason: 'hash-changed' });
      tasks.push({ kind: 'load-unit', unit, file: want.file, reason: 'hash-changed' });
      if (want.targetState === 'launched') tasks.push({ kind: 'start-unit', unit, reason: 'hash-changed' });
      continue;
    }
    if (hash === undefined) tasks.push({ kind: 'load-unit', unit, file: want.file, reason: 'scheduled' });
    if (want.targetState === 'launched' && !running) tasks.push({ kind: 'start-unit', unit, reason: 'target-launched' });
    if (want.targetState === 'loaded' && running) tasks.push({ kind: 'stop-unit', unit, reason: 'target-loaded' });
  }
  if (tasks.some((t) => t.kind === 'unload-unit' || (t.kind === 'load-unit' && holdsDefinition(current.states.get(t.unit))))) {
    tasks.push({ kind: 'reload-unit-files', reason: 'files-changed' });
  }
  // Stable sort keeps unit order within each kind.
  return tasks.sort((a, b) => order[a.kind] - order[b.kind]);
}

/** A unit whose load or start failed for good (systemd refused it) with the file of this hash. */
export interface AgentFailure {
  readonly hash: string;
  readonly message: string;
}

/**
 * The tasks without the loads and starts of units whose failure is remembered for the file they
 * are scheduled with, so that such a unit is not tried again at every pass until its file changes;
 * the reload goes too when no load or unload is left to need it. Stops and unloads stay.
 */
export function skipFailed(tasks: readonly AgentTask[], desired: ReadonlyMap<UnitName, DesiredUnit>, failures: ReadonlyMap<UnitName, AgentFailure>): AgentTask[] {
  const failedNow = (unit: UnitName): boolean => {
    const failure = failures.get(unit);
    return failure !== undefined && failure.hash === desired.get(unit)?.hash;
  };
  return dropTasks(tasks, (t) => (t.kind === 'load-unit' || t.kind === 'start-unit') && failedNow(t.unit));
}

/**
 * The tasks without any of `units`' (stop and unload included): units whose schedule entry or
 * file the agent could not read this pass, which it leaves as they are rather than take them for
 * unscheduled. The reload goes too when no load or unload is left to need it.
 */
export function leaveAlone(tasks: readonly AgentTask[], units: ReadonlySet<UnitName>): AgentTask[] {
  return units.size === 0 ? [...tasks] : dropTasks(tasks, (t) => units.has(t.unit));
}

/**
 * The tasks without the starts of `units`: at-most-once units while this machine's lease is not
 * safe (see `leaseVerdict`), which must not start where they may already run elsewhere soon. Their
 * loads stay.
 */
export function holdStarts(tasks: readonly AgentTask[], units: ReadonlySet<UnitName>): AgentTask[] {
  return units.size === 0 ? [...tasks] : dropTasks(tasks, (t) => t.kind === 'start-unit' && units.has(t.unit));
}

function dropTasks(tasks: readonly AgentTask[], drop: (task: Exclude<AgentTask, { kind: 'reload-unit-files' }>) => boolean): AgentTask[] {
  const kept = tasks.filter((t) => t.kind === 'reload-unit-files' || !drop(t));
  const needsReload = kept.some((t) => t.kind === 'load-unit' || t.kind === 'unload-unit');
  return needsReload ? kept : kept.filter((t) => t.kind !== 'reload-unit-files');
}

/** One log line's worth of text. */
export function describeAgentTask(task: AgentTask): string {
  return task.kind === 'reload-unit-files' ? `${task.kind}: ${task.reason}` : `${task.kind} ${task.unit}: ${task.reason}`;
}
