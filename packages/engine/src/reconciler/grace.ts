import type { MachineId } from '@fleet/core/model';
import type { PlanningInput } from '@fleet/core/registry';

/** What the engine knows about etcd's recent reachability, for {@link heldMachines}. */
export interface OutageGrace {
  readonly now: number;
  /** When this process last failed to reach etcd; undefined: never. */
  readonly lastOutageAt: number | undefined;
  /** How long after an outage a missing machine may still be re-registering (its agent_ttl). */
  readonly graceMs: number;
}

/**
 * Machines that hold schedule entries but are missing from the snapshot while the cluster is
 * still within the grace that follows an etcd outage. An outage longer than agent_ttl expires
 * every presence lease; the agents re-register as soon as etcd answers, but an engine pass in
 * between would see their machines gone and unschedule everything they run, which their agents
 * then stop, only for the next pass to start it again. Until `graceMs` after the last failure
 * such a machine is "held": its units neither stop nor move. A machine that really died is
 * rescheduled once the grace ends; outside of outages nothing is held, so failover is as fast as
 * agent_ttl allows.
 */
export function heldMachines(snapshot: PlanningInput, grace: OutageGrace): ReadonlySet<MachineId> {
  if (grace.lastOutageAt === undefined || grace.now >= grace.lastOutageAt + grace.graceMs) return noMachines;
  const held = new Set<MachineId>();
  for (const entry of snapshot.schedule) if (!snapshot.machines.has(entry.machineId)) held.add(entry.machineId);
  return held;
}

const noMachines: ReadonlySet<MachineId> = new Set();
