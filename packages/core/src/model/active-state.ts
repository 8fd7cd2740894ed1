// What fleet makes of systemd's ActiveState, in one place: the agent, its purge and fleetctl's waits
// used to disagree about `deactivating` (running for fleetctl, not for the agent).

/** ActiveStates in which a unit's processes are, or may still be, up. */
const runningStates: ReadonlySet<string> = new Set(['active', 'activating', 'deactivating', 'reloading', 'refreshing']);
/** ActiveStates in which systemd is on its way from one state to another. */
const transitionalStates: ReadonlySet<string> = new Set(['activating', 'deactivating', 'reloading', 'refreshing']);

/**
 * Whether a unit in systemd's `activeState` is running: its processes are up or may still be, on
 * the way up (`activating`), reloading, or on the way down (`deactivating`: a stop job still waits
 * for them). Only `inactive`, `failed` and states that run nothing (`maintenance`, unknown or empty
 * ones) are not. So the agent neither starts a unit again while it goes down (the start would queue
 * behind the stop and undo it) nor skips the stop of a unit on its way down (systemd merges the two
 * stops), a purge waits for units that are deactivating, and fleetctl's `stop` waits past them.
 */
export function isRunningState(activeState: string): boolean {
  return runningStates.has(activeState);
}

/**
 * Whether a unit in `activeState` has started, as fleet's fleetctl checks after `start`: systemd
 * reports it `active`, and nothing less (`activating` has not started yet).
 */
export function isStartedState(activeState: string): boolean {
  return activeState === 'active';
}

/** Whether systemd is moving the unit between states (`activating`, `deactivating`, `reloading`...). */
export function isTransitionalState(activeState: string): boolean {
  return transitionalStates.has(activeState);
}
