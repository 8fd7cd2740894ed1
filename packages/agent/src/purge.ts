import type { Clock, Logger } from '@fleet/core';
import { isRunningState, type UnitName } from '@fleet/core/model';
import type { SystemdUnitState, UnitManager } from './unit-manager.js';

/** What {@link purgeUnits} did. */
export interface PurgeOutcome {
  /** Units it stopped and unloaded. */
  readonly unloaded: readonly UnitName[];
  /** Units still not stopped when the deadline passed (they were unloaded all the same). */
  readonly stillRunning: readonly UnitName[];
}

/** Whether a unit's processes are gone (or never were). */
function isStopped(state: SystemdUnitState | undefined): boolean {
  return state === undefined || !isRunningState(state.activeState);
}

/**
 * fleet's purge on a graceful stop: stops every unit in the units directory, waits (up to
 * `timeoutMs`) until systemd reports each one stopped, then unloads them all and reloads systemd.
 * The caller removes the machine's presence only after this, so that the engine reschedules the
 * units elsewhere once they no longer run here: a unit never runs twice. Failures are logged per
 * unit and do not stop the others.
 */
export async function purgeUnits(units: UnitManager, clock: Clock, log: Logger, timeoutMs: number): Promise<PurgeOutcome> {
  const names = [...(await units.loadedUnits()).keys()].sort();
  if (names.length === 0) return { unloaded: [], stillRunning: [] };
  const before = await units.unitStates(names);
  for (const name of names) {
    if (isStopped(before.get(name))) continue;
    await units.stop(name).then(
      () => log.info(`stop-unit ${name}: purging`),
      (err: unknown) => log.error(`task failed: stop-unit ${name}: purging`, { err }),
    );
  }
  const stillRunning = await waitUntilStopped(units, names, clock, timeoutMs);
  if (stillRunning.length > 0) log.error('units still running after the purge deadline; unloading them anyway', { units: stillRunning, timeoutMs });
  const unloaded: UnitName[] = [];
  for (const name of names) {
    await units.unload(name).then(
      () => {
        unloaded.push(name);
        log.info(`unload-unit ${name}: purging`);
      },
      (err: unknown) => log.error(`task failed: unload-unit ${name}: purging`, { err }),
    );
  }
  await units.reloadUnitFiles().catch((err: unknown) => log.error('task failed: reload-unit-files: purging', { err }));
  return { unloaded, stillRunning };
}

/** Re-reads states on every systemd signal (and every 250 ms) until all are stopped or time is up; the units left. */
async function waitUntilStopped(units: UnitManager, names: readonly UnitName[], clock: Clock, timeoutMs: number): Promise<UnitName[]> {
  const deadline = clock.now() + timeoutMs;
  let woken = new AbortController();
  const unsubscribe = units.subscribe(() => woken.abort());
  try {
    for (;;) {
      const states = await units.unitStates(names);
      const running = names.filter((n) => !isStopped(states.get(n)));
      const left = deadline - clock.now();
      if (running.length === 0 || left <= 0) return running;
      await clock.sleep(Math.min(250, left), woken.signal).catch(() => undefined);
      woken = new AbortController();
    }
  } finally {
    unsubscribe();
  }
}
