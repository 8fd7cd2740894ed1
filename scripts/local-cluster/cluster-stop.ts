import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { clusterLiveness, implementationOf, type ClusterState } from './cluster-state.js';
import { stopDockerd } from './docker.js';
import { stopFleetd } from './fleetd-process.js';
import { stopJournald } from './journald.js';
import { seconds } from './paths.js';
import { isRecordedAlive, stopProcess, type RecordedProcess } from './processes.js';
import { stopLeftoverUnits } from './reference-fleet.js';
import { removeCgroupWhenEmpty } from './systemd-user.js';

/** A stop step's outcome; `note` says how a stopped process ended when that is worth knowing. */
type StopOutcome = { stopped: true; note?: string } | { stopped: false; reason: string };

/**
 * Stops exactly the processes recorded in `state` (see `stopLocalCluster` in cluster.ts for the
 * order and what is shared) and removes state.json once none of them runs.
 */
export async function stopClusterState(state: ClusterState): Promise<string[]> {
  const done: string[] = [];
  const errors: unknown[] = [];
  // Each step runs even if an earlier one failed: leaving a process behind is worse than a late error.
  const step = async (what: string, p: RecordedProcess | null, stop: (pid: number) => Promise<StopOutcome>): Promise<void> => {
    if (p === null || !isRecordedAlive(p)) return;
    const t0 = Date.now();
    const outcome = await stop(p.pid).catch((err: unknown) => {
      errors.push(new Error(`stopping ${what} (PID ${p.pid}) failed: ${(err as Error).message}`, { cause: err }));
      return undefined;
    });
    if (outcome?.stopped === true) done.push(`stopped ${what} (PID ${p.pid}) in ${seconds(t0)}${outcome.note === undefined ? '' : ` (${outcome.note})`}`);
    else if (outcome !== undefined) done.push(`left ${what} (PID ${p.pid}) running: ${outcome.reason}`);
  };
  const terminate = (graceMs: number) => async (pid: number): Promise<StopOutcome> => {
    await stopProcess(pid, graceMs);
    return { stopped: true };
  };
  await Promise.all(state.machines.map(async (m) => {
    await step(`${m.name} fleetd`, m.fleetd, async () => {
      const result = await stopFleetd(state, m);
      return result === 'killed' ? { stopped: true, note: 'SIGKILLed: still running at the end of its grace after SIGTERM' } : { stopped: true };
    });
    // What a SIGKILLed (or too slow) original fleetd left running, stopped before its systemd goes.
    if (implementationOf(state) === 'reference' && isRecordedAlive(m.systemd)) {
      // A failure here is reported, but systemd is stopped all the same (it stops its units too).
      const units = await stopLeftoverUnits(m).catch((err: unknown) => {
        errors.push(new Error(`stopping ${m.name}'s leftover units failed: ${(err as Error).message}`, { cause: err }));
        return [];
      });
      if (units.length > 0) done.push(`stopped ${m.name}'s leftover units through systemd: ${units.join(', ')}`);
    }
  }));
  await Promise.all(state.machines.map((m) => step(`${m.name} systemd`, m.systemd, terminate(30_000))));
  const leftCgroups = (await Promise.all(state.machines.map(async (m) => ((await removeCgroupWhenEmpty(m.cgroup)) ? undefined : m.cgroup)))).filter((c) => c !== undefined);
  if (leftCgroups.length > 0) done.push(`left cgroup(s) ${leftCgroups.join(', ')}: processes still in them`);
  // etcd, dockerd and journald are independent of each other (each takes a few seconds to shut down
  // cleanly). dockerd and journald are shared: stopDockerd and stopJournald leave them running, and
  // say why, while others use them; journald comes after the systemd instances, whose units' output
  // streams are closed by now.
  await Promise.all([
    step('etcd', state.etcd?.process ?? null, terminate(10_000)),
    step('dockerd', state.dockerd, stopDockerd),
    step('journald', state.journald ?? null, stopJournald),
  ]);
  const shared = new Set(['dockerd', 'journald']);
  const left = clusterLiveness(state).filter((p) => p.alive && !shared.has(p.what));
  if (left.length === 0 && errors.length === 0) rmSync(join(state.dir, 'state.json'), { force: true });
  if (errors.length > 0) throw errors[0];
  return done;
}
