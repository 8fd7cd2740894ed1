import type { MachineId } from '../model/machine.js';
import type { LeaderFence } from './registry.js';

/** A period during which this process is the engine leader. */
export interface LeaderTerm {
  /** Aborts when leadership is lost (lease lost, candidate key deleted) or resigned. */
  readonly signal: AbortSignal;
  /** Carried by every leader write; etcd rejects the write once the term has ended. */
  readonly fence: LeaderFence;
  /** Gives up leadership at once (deletes the candidate key). Idempotent. */
  resign(): Promise<void>;
}

/** Leader election among the engines of a cluster. */
export interface Leadership {
  /**
   * Resolves when `candidate` leads. Rejects with the signal's reason when `signal` aborts first.
   * Transient etcd failures are retried internally.
   */
  campaign(candidate: MachineId, signal: AbortSignal): Promise<LeaderTerm>;
}
